"""A lease on one key in Table Storage: at most one holder at a time, whatever the number of processes.

Taking it is a create, or a conditional replace (ETag) of a free or expired entity, so two takers can never both
win. A holder that dies without releasing it blocks the key until `ttl` seconds after it took (or renewed) it.
The entity outlives its holders: `release(**fields)` frees it and keeps `fields` on it (the fan-out collection
keeps when the tenant was last collected there), and whoever takes it next reads them from `previous`.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import time
from typing import Self

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.store import storage

_OWN = ("Owner", "Taken", "Expires")


class LeaseBusy(Exception):
    """Held by another owner; `holder` is its entity as last read (Owner, Taken, Expires)."""

    def __init__(self, message: str, holder: dict) -> None:
        super().__init__(message)
        self.holder = holder


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _expired(entity: dict) -> bool:
    expires = str(entity.get("Expires") or "")
    return not expires or dt.datetime.fromisoformat(expires) <= _now()


class Lease:
    def __init__(self, table: str, partition: str, key: str, *, ttl: float, wait: float = 0.0, poll: float = 0.2):
        self.table_name, self.partition, self.key = table, partition, storage.check_key(key, "lease key")
        self.ttl, self.wait, self.poll = ttl, wait, poll
        self.owner = owner_name()
        self.taken = ""
        self.previous: dict = {}  # the entity as it was when we took it (free or expired): its kept fields
        self.holder: dict = {}  # the entity another owner held when we last tried
        self._etag = ""

    def _entity(self, extra: dict | None = None) -> dict:
        self.taken = self.taken or _now().isoformat()
        return {
            **(extra or {}),
            "PartitionKey": self.partition,
            "RowKey": self.key,
            "Owner": self.owner,
            "Taken": self.taken,
            "Expires": (_now() + dt.timedelta(seconds=self.ttl)).isoformat(),
        }

    def _kept(self, entity: dict) -> dict:
        return {k: v for k, v in entity.items() if k not in (*_OWN, "PartitionKey", "RowKey")}

    def _try(self) -> bool:
        table = storage.table(self.table_name)
        try:
            self._etag = table.create_entity(entity=self._entity())["etag"]
            self.previous = {}
            return True
        except ResourceExistsError:
            pass
        try:
            current = table.get_entity(partition_key=self.partition, row_key=self.key)
        except ResourceNotFoundError:
            return False  # deleted meanwhile: try again
        if not _expired(current):
            self.holder = dict(current)
            return False
        try:  # free or expired: take it, unless someone else just did
            kept = self._kept(dict(current))
            self._etag = table.update_entity(
                entity=self._entity(kept),
                mode=UpdateMode.REPLACE,
                etag=current.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )["etag"]
            self.previous = kept
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            return False

    def acquire(self) -> Self:
        deadline = time.monotonic() + self.wait
        while not self._try():
            if time.monotonic() >= deadline:
                raise LeaseBusy(f"{self.partition}/{self.key} is held by {self.holder.get('Owner', '?')}", self.holder)
            time.sleep(self.poll)
        return self

    def renew(self) -> None:
        """Push the expiry back; raises LeaseBusy if the lease was lost (expired and taken over)."""
        try:
            self._etag = storage.table(self.table_name).update_entity(
                entity=self._entity(self.previous),
                mode=UpdateMode.REPLACE,
                etag=self._etag,
                match_condition=MatchConditions.IfNotModified,
            )["etag"]
        except (ResourceModifiedError, ResourceNotFoundError):
            raise LeaseBusy(f"{self.partition}/{self.key}: lease lost", {}) from None

    def release(self, **fields: object) -> None:
        """Free the key; with `fields`, the entity stays (free) with them, merged over the kept ones. A lease lost
        meanwhile (expired, taken over) is left to its new holder."""
        table = storage.table(self.table_name)
        try:
            if not fields:
                table.delete_entity(
                    partition_key=self.partition,
                    row_key=self.key,
                    etag=self._etag,
                    match_condition=MatchConditions.IfNotModified,
                )
                return
            entity = {**self.previous, **fields, "PartitionKey": self.partition, "RowKey": self.key,
                      "Owner": "", "Taken": "", "Expires": ""}  # fmt: skip
            table.update_entity(
                entity=entity, mode=UpdateMode.REPLACE, etag=self._etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            pass

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
