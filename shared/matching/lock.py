"""One matcher run per tenant at a time: an ETag-guarded lock entity (`SyncLocks`, PartitionKey "lock",
RowKey tenant id, naming its owner (host, process, run) with the time it was taken and its expiry). Taking it is
a create (or, once expired, a conditional update on the ETag), so two runs can never both hold it; a crashed
holder's lock expires after `ttl` seconds, and whoever waits for it is told until when."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import time

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.store import storage

TABLE = "SyncLocks"
PARTITION = "lock"


class LockBusy(Exception):
    pass


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TenantLock:
    def __init__(self, tenant_id: str, *, ttl: float = 300.0, wait: float = 60.0, poll: float = 0.2) -> None:
        self.tenant_id, self.ttl, self.wait, self.poll = tenant_id, ttl, wait, poll
        self.owner = _owner()
        self.taken = ""
        self._etag = ""
        self._holder: dict = {}  # the lock entity another run held when we last tried

    def _entity(self) -> dict:
        expires = (_now() + dt.timedelta(seconds=self.ttl)).isoformat()
        self.taken = self.taken or _now().isoformat()
        return {
            "PartitionKey": PARTITION,
            "RowKey": self.tenant_id,
            "Owner": self.owner,
            "Taken": self.taken,
            "Expires": expires,
        }

    def _try(self) -> bool:
        table = storage.table(TABLE)
        try:
            self._etag = table.create_entity(entity=self._entity())["etag"]
            return True
        except ResourceExistsError:
            pass
        try:
            current = table.get_entity(partition_key=PARTITION, row_key=self.tenant_id)
        except ResourceNotFoundError:
            return False  # released meanwhile: try again
        if dt.datetime.fromisoformat(current["Expires"]) > _now():
            self._holder = dict(current)
            return False
        try:  # expired: take it over, unless someone else just did
            self._etag = table.update_entity(
                entity=self._entity(),
                mode=UpdateMode.REPLACE,
                etag=current.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )["etag"]
            return True
        except (ResourceModifiedError, ResourceNotFoundError):
            return False

    def acquire(self) -> TenantLock:
        deadline = time.monotonic() + self.wait
        while not self._try():
            if time.monotonic() >= deadline:
                raise LockBusy(self._busy_text())
            time.sleep(self.poll)
        return self

    def _busy_text(self) -> str:
        holder = self._holder
        if not holder.get("Expires"):
            return f"tenant {self.tenant_id}: the lock was released and taken again while waiting {self.wait:.0f} s"
        until = dt.datetime.fromisoformat(holder["Expires"]).astimezone(dt.UTC)
        taken = holder.get("Taken", "")
        since = f" since {dt.datetime.fromisoformat(taken).astimezone(dt.UTC):%H:%M:%S}" if taken else ""
        return (
            f"tenant {self.tenant_id}: a previous run holding the lock until {until:%H:%M:%S} UTC has not finished "
            f"(crashed or still running; owner {holder.get('Owner', '?')}{since}, waited {self.wait:g} s)"
        )

    def renew(self) -> None:
        """Push the expiry back; raises LockBusy if the lock was lost (expired and taken over)."""
        try:
            self._etag = storage.table(TABLE).update_entity(
                entity=self._entity(),
                mode=UpdateMode.REPLACE,
                etag=self._etag,
                match_condition=MatchConditions.IfNotModified,
            )["etag"]
        except (ResourceModifiedError, ResourceNotFoundError):
            raise LockBusy(f"tenant {self.tenant_id}: lock lost") from None

    def release(self) -> None:
        try:
            storage.table(TABLE).delete_entity(
                partition_key=PARTITION,
                row_key=self.tenant_id,
                etag=self._etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            pass

    def __enter__(self) -> TenantLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
