"""One matcher run per tenant at a time: an ETag-guarded lock entity (`SyncLocks`, PartitionKey "lock",
RowKey tenant id, with an owner and an expiry). Taking it is a create (or, once expired, a conditional update
on the ETag), so two runs can never both hold it; a crashed holder's lock expires after `ttl` seconds."""

from __future__ import annotations

import datetime as dt
import secrets
import time

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared import storage

TABLE = "SyncLocks"
PARTITION = "lock"


class LockBusy(Exception):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TenantLock:
    def __init__(self, tenant_id: str, *, ttl: float = 300.0, wait: float = 60.0, poll: float = 0.2) -> None:
        self.tenant_id, self.ttl, self.wait, self.poll = tenant_id, ttl, wait, poll
        self.owner = secrets.token_hex(8)
        self._etag = ""

    def _entity(self) -> dict:
        expires = (_now() + dt.timedelta(seconds=self.ttl)).isoformat()
        return {"PartitionKey": PARTITION, "RowKey": self.tenant_id, "Owner": self.owner, "Expires": expires}

    def _try(self) -> bool:
        table = storage.table(TABLE)
        try:
            self._etag = table.create_entity(self._entity())["etag"]
            return True
        except ResourceExistsError:
            pass
        try:
            current = table.get_entity(PARTITION, self.tenant_id)
        except ResourceNotFoundError:
            return False  # released meanwhile: try again
        if dt.datetime.fromisoformat(current["Expires"]) > _now():
            return False
        try:  # expired: take it over, unless someone else just did
            self._etag = table.update_entity(
                self._entity(),
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
                raise LockBusy(f"tenant {self.tenant_id}: another sync holds the lock (waited {self.wait:.0f} s)")
            time.sleep(self.poll)
        return self

    def renew(self) -> None:
        """Push the expiry back; raises LockBusy if the lock was lost (expired and taken over)."""
        try:
            self._etag = storage.table(TABLE).update_entity(
                self._entity(), mode=UpdateMode.REPLACE, etag=self._etag, match_condition=MatchConditions.IfNotModified
            )["etag"]
        except (ResourceModifiedError, ResourceNotFoundError):
            raise LockBusy(f"tenant {self.tenant_id}: lock lost") from None

    def release(self) -> None:
        try:
            storage.table(TABLE).delete_entity(
                PARTITION, self.tenant_id, etag=self._etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            pass

    def __enter__(self) -> TenantLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
