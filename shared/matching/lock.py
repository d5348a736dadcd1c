"""One matcher run per tenant at a time: the tenant's lease (shared/store/lease.py) in `SyncLocks`, PartitionKey
"lock", RowKey tenant id, naming its owner (host, process, run) with the time it was taken and its expiry. A
crashed holder's lock expires after `ttl` seconds, and whoever waits for it is told until when. Rows written
before the lock used the general lease have the same fields (Owner, Taken, Expires), so they expire as before."""

from __future__ import annotations

import datetime as dt

from shared.store.lease import Lease, LeaseBusy

TABLE = "SyncLocks"
PARTITION = "lock"


class LockBusy(LeaseBusy):
    pass


class TenantLock(Lease):
    def __init__(self, tenant_id: str, *, ttl: float = 300.0, wait: float = 60.0, poll: float = 0.2) -> None:
        super().__init__(TABLE, PARTITION, tenant_id, ttl=ttl, wait=wait, poll=poll)
        self.tenant_id = tenant_id

    def acquire(self) -> TenantLock:
        try:
            return super().acquire()
        except LeaseBusy as busy:
            raise LockBusy(self._busy_text(), busy.holder) from None

    def _busy_text(self) -> str:
        holder = self.holder
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
            super().renew()
        except LeaseBusy:
            raise LockBusy(f"tenant {self.tenant_id}: lock lost", {}) from None
