"""The names index and the decoded-chunk cache on real Table Storage (Azurite): a filtered check reads only the
chunks that can match and answers exactly what reading every row answers; repeated checks reuse decoded
chunks until the next collection, under the memory cap."""

from __future__ import annotations

import random

import pytest

from shared.checks.data import ReportData
from shared.checks.engine import run_check
from shared.checks.perlre import compile_perl
from shared.collect.catalog import MAILBOX_USAGE, UPN
from shared.store import chunk_cache, name_index, packs, snapshots, storage, tenants
from shared.store.chunk_cache import CHUNKS
from tests.support import store_snapshot

COLUMNS = list(MAILBOX_USAGE.columns)
GB = 1024**3
USERS = 9_000  # five chunks of ~2,000 rows


def mailbox_rows(n: int, refresh: str = "2024-01-15", seed: int = 5) -> list[list]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        values = {
            UPN: f"{('ann', 'ben', 'cid', 'dee')[i % 4]}.{i}@{('contoso.com', 'fabrikam.com')[i // 4 % 2]}",
            "Last Activity Date": refresh if i % 3 else "2024-01-02",
            "Storage Used (Byte)": rnd.randint(0, 60) * GB,
            "Issue Warning Quota (Byte)": 49 * GB,
            "Prohibit Send Quota (Byte)": 50 * GB,
            "Prohibit Send/Receive Quota (Byte)": 100 * GB,
            "Item Count": rnd.randint(0, 10_000),
            "Report Period": 7,
        }
        rows.append([values[c] for c in COLUMNS])
    return rows


@pytest.fixture
def stored(storage_env, tenant_id) -> tuple[str, list[list]]:
    rows = mailbox_rows(USERS)
    tenants.add(tenants.Tenant(tenant_id, "Contoso", []))
    store_snapshot(tenant_id, MAILBOX_USAGE, rows, "2024-01-15")
    CHUNKS.clear()
    return tenant_id, rows


PATTERNS = [
    r"^ben\.4241@contoso\.com$",  # one mailbox, anchored: a bisection
    "^ann",  # a prefix shared by a quarter of the names
    "4241",  # a literal anywhere: a substring search
    r"\.42\d@fabrikam",  # a regex: matched against the names only
    "^nobody@",  # nothing
    "^",  # everything
    "ann|ben",  # an alternative: not a prefix
    "(?i)^BEN",  # a flag: not a prefix
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_index_reads_exactly_the_matching_rows_in_stored_order(stored, pattern) -> None:
    # Every chunk's names were stored, so the names alone tell which rows match: nothing more is folded.
    tenant_id, rows = stored
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None and pointer.indexed == (UPN,) and pointer.chunks >= 5 and pointer.name_parts == 1
    rx = compile_perl(pattern)
    upn = COLUMNS.index(UPN)
    assert list(snapshots.load_matching(pointer, {UPN: rx})) == [r for r in rows if rx.search(r[upn])]


def test_names_spread_over_several_parts_find_the_same_rows(storage_env, tenant_id, monkeypatch) -> None:
    monkeypatch.setattr(name_index, "PART_BYTES", 1)  # one chunk's names per part
    rows = mailbox_rows(USERS)
    store_snapshot(tenant_id, MAILBOX_USAGE, rows, "2024-01-15")
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None and pointer.name_parts == pointer.chunks >= 5
    upn = COLUMNS.index(UPN)
    for pattern in (r"^ben\.4241@", "^ann", "fabrikam", r"\.42\d@"):
        rx = compile_perl(pattern)
        assert list(snapshots.load_matching(pointer, {UPN: rx})) == [r for r in rows if rx.search(r[upn])]


@pytest.mark.parametrize("pattern", [r"^ben\.1@", r"ben\.1@", "^evil", "^ann"])
def test_a_name_holding_a_newline_is_still_found(storage_env, tenant_id, pattern) -> None:
    # The names are searched joined by newlines, and a quoted CSV cell may hold one.
    rows = mailbox_rows(USERS)
    upn = COLUMNS.index(UPN)
    rows[7000][upn] = "evil\nben.1@contoso.com"
    rows[-1][upn] = "last\nann.1@contoso.com"  # the last name: a hit inside it has no name after it
    store_snapshot(tenant_id, MAILBOX_USAGE, rows, "2024-01-15")
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None and pointer.indexed == (UPN,)
    rx = compile_perl(pattern)
    read = list(snapshots.load_matching(pointer, {UPN: rx}))
    assert [r for r in read if rx.search(r[upn])] == [r for r in rows if rx.search(r[upn])] != []


def test_one_mailbox_reads_one_chunk(stored) -> None:
    tenant_id, rows = stored
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None
    read = list(snapshots.load_matching(pointer, {UPN: compile_perl(r"^ben\.4241@")}))
    assert read == [rows[4241]]
    assert CHUNKS.misses == 2  # the index and the one chunk holding the mailbox: nothing else was fetched


def _check(tenant_id: str, options: dict[str, str], *, indexed: bool) -> str:
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None

    def data_for(report: str) -> ReportData:
        return ReportData(
            report,
            pointer.refresh_date,
            pointer.columns,
            pointer.summaries,
            lambda: snapshots.load_rows(pointer),
            load_matching=(lambda p: snapshots.load_matching(pointer, dict(p))) if indexed else None,
        )

    return run_check("exchange", "mailbox-usage", data_for, options).text()


@pytest.mark.parametrize(
    "options",
    [
        {"filter-mailbox": r"^ben\.4241@contoso\.com$"},
        {"filter-mailbox": "^ann", "filter-counters": "status", "verbose": ""},
        {"filter-mailbox": "fabrikam", "warning-active-mailboxes": "3000"},
        {"filter-mailbox": "^nobody@"},
    ],
)
def test_checks_through_the_index_answer_byte_for_byte_what_every_row_answers(stored, options) -> None:
    tenant_id, _ = stored
    assert _check(tenant_id, options, indexed=True) == _check(tenant_id, options, indexed=False)


def test_the_served_check_uses_the_index_and_then_the_cache(stored) -> None:
    from shared.checks.service import answer

    tenant_id, _ = stored
    options = {"tenant": tenant_id, "filter-mailbox": r"^ben\.4241@contoso\.com$"}
    first, _ = answer("exchange", "mailbox-usage", options)
    assert (CHUNKS.misses, CHUNKS.hits) == (3, 0)  # the answer (not yet kept), the index, the one chunk
    assert _check(tenant_id, {"filter-mailbox": options["filter-mailbox"]}, indexed=False) == first.text()
    CHUNKS.misses = CHUNKS.hits = 0
    again, _ = answer("exchange", "mailbox-usage", options)
    assert again.text() == first.text() and (CHUNKS.misses, CHUNKS.hits) == (0, 1)  # the answer kept
    other = {**options, "filter-mailbox": r"^ben\.4245@"}  # another mailbox of the same chunk
    CHUNKS.misses = CHUNKS.hits = 0
    third, _ = answer("exchange", "mailbox-usage", other)
    assert (CHUNKS.misses, CHUNKS.hits) == (1, 2)  # its answer is new; the index and the chunk are kept
    assert third.text() == _check(tenant_id, {"filter-mailbox": other["filter-mailbox"]}, indexed=False)


def test_a_new_collection_is_answered_at_once_despite_the_cache(stored) -> None:
    from shared.checks.service import answer

    tenant_id, rows = stored
    options = {"tenant": tenant_id, "filter-mailbox": "^ann", "filter-counters": "status"}
    before, _ = answer("exchange", "mailbox-usage", options)
    store_snapshot(tenant_id, MAILBOX_USAGE, mailbox_rows(300, seed=6), "2024-01-16")
    after, _ = answer("exchange", "mailbox-usage", options)
    assert after.text() != before.text()
    assert after.text() == _check(tenant_id, {"filter-mailbox": "^ann", "filter-counters": "status"}, indexed=False)


def test_the_cache_stays_under_its_cap(stored, monkeypatch) -> None:
    from shared.checks.service import answer

    tenant_id, _ = stored
    monkeypatch.setenv("CHECK_CACHE_MB", "1")
    answer("exchange", "mailbox-usage", {"tenant": tenant_id, "filter-counters": "status"})
    assert 0 < CHUNKS.size_bytes <= 1024 * 1024
    monkeypatch.setenv("CHECK_CACHE_MB", "0")
    CHUNKS.clear()
    answer("exchange", "mailbox-usage", {"tenant": tenant_id, "filter-counters": "status"})
    assert CHUNKS.size_bytes == 0


def test_chunks_whose_names_do_not_fit_are_always_read(storage_env, tenant_id, monkeypatch) -> None:
    monkeypatch.setattr(name_index, "NAMES_BYTES", 0)
    tenants.add(tenants.Tenant(tenant_id, "Contoso", []))
    store_snapshot(tenant_id, MAILBOX_USAGE, mailbox_rows(USERS), "2024-01-15")
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None and pointer.indexed == (UPN,)
    options = {"filter-mailbox": r"^ben\.42\d@"}
    assert len(list(snapshots.load_matching(pointer, {UPN: compile_perl(options["filter-mailbox"])}))) == USERS
    answer = _check(tenant_id, options, indexed=True)
    # ben.421, ben.425, ben.429; 429 was inactive on the refresh date (every third row is)
    assert answer.startswith("OK: Active mailboxes on 2024-01-15 : 2/3 (66.67%)")
    assert answer == _check(tenant_id, options, indexed=False)


def test_a_report_of_a_few_chunks_has_no_index_and_is_read_whole(storage_env, tenant_id) -> None:
    tenants.add(tenants.Tenant(tenant_id, "Contoso", []))
    store_snapshot(tenant_id, MAILBOX_USAGE, mailbox_rows(500), "2024-01-15")
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None and pointer.chunks == 1 and pointer.indexed == ()
    options = {"filter-mailbox": r"^ben\.42\d@"}
    assert _check(tenant_id, options, indexed=True).startswith("OK: Active mailboxes on 2024-01-15 : 2/3 (66.67%)")


@pytest.mark.parametrize(
    ("pattern", "prefix", "literal"),
    [
        ("^ceo@", "ceo@", None),
        (r"^alice\.b$", "alice.b", None),
        ("contoso", None, "contoso"),
        (r"alice\.b", None, "alice.b"),
        ("^ab*c", "a", None),  # 'b' may be absent
        (r"^\d+", "", None),
        (r"\Aabc", "abc", None),
        ("^a|b", None, None),
        ("(?i)^ab", None, None),
        (r"\Qa.b\E", None, "a.b"),
    ],
)
def test_literal_prefix_and_literal_of_perl_patterns(pattern, prefix, literal) -> None:
    rx = compile_perl(pattern)
    assert (rx.literal_prefix(), rx.literal()) == (prefix, literal)


def test_checks_asking_the_same_answer_at_once_compute_it_once(stored, monkeypatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from shared.checks import engine, service

    tenant_id, _ = stored
    computed: list[str] = []
    real = engine.run_check

    def counted(*args, **kwargs):
        computed.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run_check", counted)
    options = {"tenant": tenant_id, "filter-counters": "status"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: service.answer("exchange", "mailbox-usage", options), range(8)))
    assert len({a.text() for a, _ in answers}) == 1 and computed == ["mailbox-usage"]
    assert answers[0][0].text() == _check(tenant_id, {"filter-counters": "status"}, indexed=False)


def test_the_largest_entity_of_binary_parts_is_accepted_by_table_storage(storage_env) -> None:
    # The entity limit counts base64: a full entity of parts is written, one byte more is refused by us.
    import os

    full = os.urandom(packs.PROPERTY_BYTES * packs.MAX_PROPERTIES)
    entity = {"PartitionKey": "size-probe", "RowKey": "full"} | packs.binary_properties(full)
    table = storage.table(snapshots.ROWS)
    table.upsert_entity(entity=entity)
    assert packs.joined_binary(table.get_entity(partition_key="size-probe", row_key="full")) == full
    with pytest.raises(ValueError, match="entity size limit"):
        packs.binary_properties(full + b"x")


def test_reads_that_serve_no_check_keep_nothing(stored) -> None:
    from shared.checks.service import answer

    tenant_id, _ = stored
    with chunk_cache.not_kept():  # the collector's summary hook runs its checks so
        inside, _ = answer("exchange", "mailbox-usage", {"tenant": tenant_id, "filter-counters": "status"})
    assert CHUNKS.size_bytes == 0
    outside, _ = answer("exchange", "mailbox-usage", {"tenant": tenant_id, "filter-counters": "status"})
    assert outside.text() == inside.text() and CHUNKS.size_bytes > 0


def test_snapshots_stored_before_the_names_parts_are_still_answered(stored) -> None:
    # The previous layout: zlib chunks carrying their own names, a pointer without NameParts. Until the next
    # collection replaces it, such a snapshot is read whole, with the same answer.
    import zlib

    from shared.store import codec

    tenant_id, _ = stored
    options = {"filter-mailbox": r"^ben\.4241@contoso\.com$", "filter-counters": "status", "verbose": ""}
    expected = _check(tenant_id, options, indexed=False)
    pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert pointer is not None
    table = storage.table(snapshots.ROWS)
    part = snapshots.partition_of(pointer)
    for e in table.query_entities("PartitionKey eq @pk", parameters={"pk": part}):
        if e["RowKey"].startswith(name_index.PART_PREFIX):
            table.delete_entity(partition_key=part, row_key=e["RowKey"])
            continue
        old = zlib.compress(codec.decompress(bytes(e["Data"])), 1)
        table.upsert_entity({"PartitionKey": part, "RowKey": e["RowKey"], "Data": old, "Names": b"x"})
    pointers = storage.table(snapshots.POINTERS)
    entity = pointers.get_entity(partition_key=tenant_id, row_key=MAILBOX_USAGE.key)
    del entity["NameParts"]
    pointers.upsert_entity(entity, mode=snapshots.UpdateMode.REPLACE)
    CHUNKS.clear()
    old_pointer = snapshots.current(tenant_id, MAILBOX_USAGE.key)
    assert old_pointer is not None and old_pointer.indexed == ()
    assert _check(tenant_id, options, indexed=True) == expected


def test_names_of_short_rows_and_non_text_cells_are_searched_as_the_fold_reads_them() -> None:
    rows: list[list] = [["ann@contoso.com"], [], [None], [42], ["ann.b@contoso.com"]]
    blobs = name_index.chunk_names(rows, 0)
    assert blobs is not None
    parts = [{name_index.property_name(0, 0, b): blob for b, blob in enumerate(blobs)}]
    buckets = {b: name_index.Bucket.from_parts(parts, 0, b) for b in range(name_index.BUCKETS)}
    for pattern, expected in (("^ann", [0, 4]), ("^$", [1, 2]), ("^42$", [3]), ("contoso", [0, 4])):
        rx = compile_perl(pattern)
        found = name_index.candidate_rows(1, {UPN: rx}, {UPN: buckets})
        assert found == {0: expected}, pattern
