"""Snapshots on real Table Storage (Azurite): packed rows, atomic switch, failed writes leave the old one."""

from __future__ import annotations

import random

from shared.store import snapshots, storage

COLUMNS = ["User Principal Name", "Send Count", "Report Period"]
BIG = snapshots.CHUNK_ROWS + 500  # rows of a snapshot of two chunks: kept in a partition of its own


def rows(n: int, seed: int = 1) -> list[list]:
    rnd = random.Random(seed)
    return [[f"user{i}.{rnd.getrandbits(40):x}@contoso.com", rnd.randint(0, 500), 7] for i in range(n)]


def write(tenant_id: str, data: list[list], refresh: str = "2024-01-15") -> snapshots.Pointer:
    writer = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)
    for row in data:
        writer.add(row)
    return writer.commit(refresh_date=refresh, summaries={"m": {"total": len(data)}}, concealed=False)


def partitions(tenant_id: str) -> set[str]:
    return {
        e["PartitionKey"]
        for e in storage.table(snapshots.ROWS).query_entities(
            "PartitionKey ge @lo and PartitionKey lt @hi",
            parameters={"lo": tenant_id, "hi": tenant_id + "\uffff"},
            select=["PartitionKey"],
        )
    }


def test_rows_round_trip_packed_in_few_entities(storage_env, tenant_id) -> None:
    data = rows(12_345)
    pointer = write(tenant_id, data)
    assert pointer.rows == 12_345
    assert pointer.chunks <= 12  # ~2,000 rows per entity, not one entity per row
    current = snapshots.current(tenant_id, "email_activity")
    assert current is not None and current.summaries == {"m": {"total": 12_345}}
    assert list(snapshots.load_rows(current)) == data


def test_new_snapshot_replaces_old_and_old_rows_are_deleted(storage_env, tenant_id) -> None:
    write(tenant_id, rows(BIG), refresh="2024-01-14")
    second = write(tenant_id, rows(BIG, seed=2), refresh="2024-01-15")
    assert snapshots.current(tenant_id, "email_activity").snapshot_id == second.snapshot_id
    assert len(partitions(tenant_id)) == 1


def test_a_snapshot_of_one_chunk_lives_in_its_pointer(storage_env, tenant_id) -> None:
    write(tenant_id, rows(BIG))
    write(tenant_id, rows(10, seed=2))
    assert partitions(tenant_id) == set()  # the small one wrote no rows entity, the big one's were swept
    current = snapshots.current(tenant_id, "email_activity")
    assert current is not None and current.chunks == 1 and current.inline is not None
    assert list(snapshots.load_rows(current)) == rows(10, seed=2)
    assert list(snapshots.load_rows(current, cached=True)) == list(snapshots.load_rows(current, cached=True))
    assert list(snapshots.load_rows(current, cached=True)) == rows(10, seed=2)
    write(tenant_id, rows(BIG, seed=3))  # back to a partition of its own: the pointer holds no chunk any more
    assert list(snapshots.load_rows(snapshots.current(tenant_id, "email_activity"))) == rows(BIG, seed=3)
    write(tenant_id, rows(10, seed=4))
    write(tenant_id, [])
    empty = snapshots.current(tenant_id, "email_activity")
    assert empty is not None and empty.chunks == empty.rows == 0 and list(snapshots.load_rows(empty)) == []
    assert (
        len(list(storage.table(snapshots.POINTERS).query_entities("PartitionKey eq @t", parameters={"t": tenant_id})))
        == 1
    )


def test_aborted_write_keeps_previous_snapshot_readable(storage_env, tenant_id) -> None:
    first = write(tenant_id, rows(BIG))
    writer = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)
    for row in rows(5000, seed=3):
        writer.add(row)
    writer.abort()  # what the collector does when the download or parse fails midway
    current = snapshots.current(tenant_id, "email_activity")
    assert current.snapshot_id == first.snapshot_id
    assert list(snapshots.load_rows(current)) == rows(BIG)
    assert len(partitions(tenant_id)) == 1


def test_crashed_collection_leftovers_are_swept_at_next_commit(storage_env, tenant_id) -> None:
    crashed = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)
    for row in rows(4500):
        crashed.add(row)
    crashed._flush()  # rows reached storage, then the process died before commit
    crashed_partition = crashed.partition
    write(tenant_id, rows(10))
    assert crashed_partition not in partitions(tenant_id)


def test_incompressible_rows_are_split_under_the_property_limit(storage_env, tenant_id) -> None:
    rnd = random.Random(5)
    data = [[rnd.randbytes(60).hex(), i, 7] for i in range(2000)]
    pointer = write(tenant_id, data)
    assert pointer.chunks > 1
    assert list(snapshots.load_rows(snapshots.current(tenant_id, "email_activity"))) == data


def test_a_commit_from_a_pointer_read_earlier_is_judged_again_when_it_changed(storage_env, tenant_id) -> None:
    write(tenant_id, rows(10))
    known = snapshots.current(tenant_id, "email_activity")
    older = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)  # started first
    ours = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)
    older.add(["a@contoso.com", 1, 7])
    older.commit(refresh_date="2024-01-15", summaries={}, concealed=False)  # committed since `known` was read
    for row in rows(BIG, seed=4):
        ours.add(row)
    # The switch from `known` is refused (changed), but ours is newer than what is current now: it wins.
    pointer = ours.commit(refresh_date="2024-01-15", summaries={}, concealed=False, known=known)
    assert pointer.snapshot_id == ours.snapshot_id == snapshots.current(tenant_id, "email_activity").snapshot_id
    assert len(list(snapshots.load_rows(pointer))) == BIG and len(partitions(tenant_id)) == 1
    # A newer collection committed since the read: it stays current, ours is dropped.
    stale = snapshots.current(tenant_id, "email_activity")
    late = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)
    late.add(["b@contoso.com", 2, 7])
    newest = write(tenant_id, rows(BIG, seed=5))
    kept = late.commit(refresh_date="2024-01-15", summaries={}, concealed=False, known=stale)
    assert kept.snapshot_id == newest.snapshot_id == snapshots.current(tenant_id, "email_activity").snapshot_id
    assert len(partitions(tenant_id)) == 1


def test_a_sweep_deletes_superseded_partitions_of_the_datasets_named(storage_env, tenant_id) -> None:
    def one(report: str, data: list[list]) -> snapshots.Pointer:
        return snapshots.write(tenant_id, report, COLUMNS, data, sweep=False)

    one("email_activity", rows(BIG))
    one("mailbox_usage", rows(BIG))
    leftover = snapshots.SnapshotWriter(tenant_id, "email_activity", COLUMNS)  # a crashed collection's rows
    leftover.add(["x@contoso.com", 1, 7])
    leftover._seal()
    leftover._flush()
    email = one("email_activity", rows(BIG, seed=2))
    mailbox = one("mailbox_usage", rows(BIG, seed=2))
    assert len(partitions(tenant_id)) == 5  # nothing deleted at the commits
    snapshots.sweep(tenant_id, ["email_activity"])
    kept = partitions(tenant_id)
    assert {p for p in kept if "~email_activity~" in p} == {f"{tenant_id}~email_activity~{email.snapshot_id}"}
    assert len([p for p in kept if "~mailbox_usage~" in p]) == 2  # not named: left alone
    snapshots.sweep(tenant_id, ["mailbox_usage"])
    assert {p for p in partitions(tenant_id) if "~mailbox_usage~" in p} == {
        f"{tenant_id}~mailbox_usage~{mailbox.snapshot_id}"
    }
    assert list(snapshots.load_rows(snapshots.current(tenant_id, "email_activity"))) == rows(BIG, seed=2)
