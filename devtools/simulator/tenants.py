"""Deterministic sample tenants and the report CSVs the simulator serves for them.

Nothing per user is stored: user i of a tenant is recomputed from (seed, i) whenever a report needs it, so a
200,000-user tenant costs no memory, and both reports always agree on who a user is. The CSVs follow real
captures of Microsoft Graph's report CSVs: verbatim headers, `True`/`False`,
blank cells, plain dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import random
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

EMAIL_ACTIVITY = "getEmailActivityUserDetail"
MAILBOX_USAGE = "getMailboxUsageDetail"

EMAIL_ACTIVITY_HEADER = (
    "Report Refresh Date",
    "User Principal Name",
    "Display Name",
    "Is Deleted",
    "Deleted Date",
    "Last Activity Date",
    "Send Count",
    "Receive Count",
    "Read Count",
    "Meeting Created Count",
    "Meeting Interacted Count",
    "Assigned Products",
    "Report Period",
)

MAILBOX_USAGE_HEADER = (
    "Report Refresh Date",
    "User Principal Name",
    "Display Name",
    "Is Deleted",
    "Deleted Date",
    "Created Date",
    "Last Activity Date",
    "Item Count",
    "Storage Used (Byte)",
    "Issue Warning Quota (Byte)",
    "Prohibit Send Quota (Byte)",
    "Prohibit Send/Receive Quota (Byte)",
    "Deleted Item Count",
    "Deleted Item Size (Byte)",
    "Deleted Item Quota (Byte)",
    "Has Archive",
    "Report Period",
)

# Only third-party fixtures show this column, not Microsoft's docs; offered so parsers meet an unknown one.
EXTRA_COLUMN = "Recipient Type"

PERIODS = {"D7": 7, "D30": 30, "D90": 90, "D180": 180}

# Exchange Online defaults (E3/E5 style 100 GB mailbox), as in the real capture.
STANDARD_QUOTAS = (105226698752, 106300440576, 107374182400)
# A 2 GB kiosk-style mailbox: warning 2 GB, prohibit send 2.5 GB, prohibit send/receive 3 GB.
SMALL_QUOTAS = (2147483648, 2684354560, 3221225472)
STANDARD_DELETED_ITEM_QUOTA = 32212254720
SMALL_DELETED_ITEM_QUOTA = 1073741824

_ROWS_PER_CHUNK = 500

_FIRST_NAMES = (
    "José", "María", "François", "Zoë", "Jürgen", "Søren", "Łukasz", "Anaïs", "Chloé", "Björn",
    "Renée", "Ignacio", "Ana", "John", "Emily", "Liam", "Olivia", "Noah", "Emma", "Lucas",
    "Mia", "Hiroshi", "Yuki", "Priya", "Arjun", "Fatima", "Omar", "Mateo", "Sofía", "Léa",
    "Hélène", "Nils", "Ingrid", "Tomás", "Inês", "Dario", "Giulia", "Katarzyna", "Agnieszka", "Ethan",
)  # fmt: skip
_LAST_NAMES = (
    "García", "Müller", "Dubois", "Smith", "Johnson", "Nørgaard", "Kowalski", "Lefèvre", "Martínez",
    "Brown", "Rossi", "Schröder", "Jensen", "Nguyen", "Tanaka", "Patel", "Khan", "Silva", "Gonçalves",
    "O'Brien", "Doe", "Novák", "Ødegård", "Wójcik", "Fernández", "Bianchi", "Lindqvist", "Öztürk",
    "Moreau", "Kim",
)  # fmt: skip
# Letters that NFKD does not decompose into ASCII + combining mark.
_TRANSLITERATE = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "đ": "d"})

_PRODUCTS = (
    "OFFICE 365 E3",
    "MICROSOFT 365 E5",
    "OFFICE 365 E5+MICROSOFT POWER AUTOMATE FREE+POWER BI (FREE)",
    "MICROSOFT 365 BUSINESS STANDARD",
    "OFFICE 365 E1+MICROSOFT TEAMS EXPLORATORY",
    "EXCHANGE ONLINE (PLAN 1)",
    "MICROSOFT 365 E3+MICROSOFT POWER APPS PLAN 2 TRIAL",
)
_SMALL_MAILBOX_PRODUCT = "EXCHANGE ONLINE KIOSK"

_KNOWN_DOMAINS = (
    ("contoso.com", "Contoso"),
    ("fabrikam.com", "Fabrikam"),
    ("northwindtraders.com", "Northwind Traders"),
    ("adventure-works.com", "Adventure Works"),
    ("tailspintoys.com", "Tailspin Toys"),
    ("wingtiptoys.com", "Wingtip Toys"),
    ("litwareinc.com", "Litware"),
    ("woodgrovebank.com", "Woodgrove Bank"),
)


def tenant_id_for_seed(seed: int) -> str:
    """A stable GUID for a seed, so the same command line always yields the same tenant ids."""
    digest = hashlib.sha256(f"o365mon-sim-tenant-{seed}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@dataclass(frozen=True)
class SampleTenant:
    """A simulated tenant. Report options left at None fall back to the simulator-wide setting."""

    tenant_id: str
    domain: str
    display_name: str
    users: int
    seed: int
    concealed: bool = False
    refresh_date: dt.date | None = None  # None: today (UTC) minus 2 days, evaluated when a report is built
    header_only: bool = False  # reports carry only the header row, like a brand-new tenant
    crlf: bool | None = None
    reorder_columns: bool | None = None
    extra_columns: bool | None = None

    @classmethod
    def generate(
        cls,
        seed: int,
        users: int,
        *,
        domain: str | None = None,
        display_name: str | None = None,
        **options: object,
    ) -> SampleTenant:
        """Build a tenant whose id (and default domain/name) derive from the seed."""
        # Seed 1 (the CLI default) is contoso, 2 fabrikam, and so on.
        lap, slot = divmod(seed - 1, len(_KNOWN_DOMAINS))
        default_domain, default_name = _KNOWN_DOMAINS[slot]
        if lap:
            # Keep domains distinct when many tenants are generated from consecutive seeds.
            default_domain = default_domain.replace(".", f"{lap}.", 1)
            default_name = f"{default_name} {lap}"
        return cls(
            tenant_id=tenant_id_for_seed(seed),
            domain=domain or default_domain,
            display_name=display_name or default_name,
            users=users,
            seed=seed,
            **options,  # type: ignore[arg-type]
        )

    @property
    def report_refresh_date(self) -> dt.date:
        if self.refresh_date is not None:
            return self.refresh_date
        return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)

    @property
    def today(self) -> dt.date:
        """The tenant's notion of today: reports lag two days behind it."""
        return self.report_refresh_date + dt.timedelta(days=2)

    def with_options(self, **changes: object) -> SampleTenant:
        return replace(self, **changes)  # type: ignore[arg-type]

    def user(self, index: int) -> SampleUser:
        return _make_user(self, index, self.report_refresh_date)

    def iter_users(self) -> Iterator[SampleUser]:
        refresh = self.report_refresh_date
        for i in range(self.users):
            yield _make_user(self, i, refresh)


def sample_tenants(count: int, users: int, seed: int = 1, *, concealed: bool = False) -> list[SampleTenant]:
    """`count` tenants from consecutive seeds (contoso, fabrikam, ...) with `users` users each."""
    return [SampleTenant.generate(seed + k, users, concealed=concealed) for k in range(count)]


class SampleUser(NamedTuple):
    index: int
    upn: str
    display_name: str
    is_deleted: bool
    deleted_date: dt.date | None
    created_date: dt.date
    last_activity: dt.date | None  # None: never active, the cell stays blank
    products: str
    send_rate: float  # mean messages per active day
    receive_rate: float
    read_ratio: float
    meeting_rate: float
    small_quota: bool
    storage_used: int
    item_count: int
    deleted_item_count: int
    deleted_item_size: int
    has_archive: bool


@functools.lru_cache(maxsize=256)
def _ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _loguniform(rng: random.Random, low: float, high: float) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _make_user(tenant: SampleTenant, index: int, refresh: dt.date) -> SampleUser:
    # One cheap PRNG per (seed, user): independent of how many users are generated or in which order.
    rng = random.Random(tenant.seed * 1_000_003 + index)
    first = rng.choice(_FIRST_NAMES)
    last = rng.choice(_LAST_NAMES)
    upn = f"{_ascii_slug(first)}.{_ascii_slug(last)}{index}@{tenant.domain}"
    display_name = f"{first} {last}"

    is_deleted = rng.random() < 0.01
    deleted_date = refresh - dt.timedelta(days=rng.randint(1, 25)) if is_deleted else None
    created_date = refresh - dt.timedelta(days=rng.randint(1, 2500))

    roll = rng.random()
    if is_deleted:
        assert deleted_date is not None
        last_activity: dt.date | None = deleted_date - dt.timedelta(days=rng.randint(0, 10))
    elif roll < 0.71:
        last_activity = refresh
    elif roll < 0.97:
        # Mostly recent, with a tail of long-idle mailboxes.
        last_activity = refresh - dt.timedelta(days=min(1 + int(rng.expovariate(1 / 8)), 400))
    else:
        last_activity = None
    if last_activity is not None and last_activity < created_date:
        created_date = last_activity

    small_quota = rng.random() < 0.08
    products = _SMALL_MAILBOX_PRODUCT if small_quota else rng.choice(_PRODUCTS)
    warning, send, send_receive = SMALL_QUOTAS if small_quota else STANDARD_QUOTAS
    roll = rng.random()
    if roll < 0.025:
        storage_used = rng.randint(warning, send - 1)
    elif roll < 0.035:
        storage_used = rng.randint(send, send_receive - 1)
    else:
        storage_used = _loguniform(rng, 20e6, min(50e9, warning * 0.9))
    item_count = storage_used // rng.randint(40_000, 120_000) + rng.randint(0, 50)
    deleted_item_count = rng.randint(0, max(1, item_count // 20))
    deleted_item_size = deleted_item_count * rng.randint(20_000, 90_000)

    return SampleUser(
        index=index,
        upn=upn,
        display_name=display_name,
        is_deleted=is_deleted,
        deleted_date=deleted_date,
        created_date=created_date,
        last_activity=last_activity,
        products=products,
        send_rate=rng.uniform(0.5, 25.0) if rng.random() < 0.9 else 0.0,
        receive_rate=rng.uniform(5.0, 150.0),
        read_ratio=rng.uniform(0.3, 0.95),
        meeting_rate=rng.uniform(0.0, 2.0) if rng.random() < 0.6 else 0.0,
        small_quota=small_quota,
        storage_used=storage_used,
        item_count=item_count,
        deleted_item_count=deleted_item_count,
        deleted_item_size=deleted_item_size,
        has_archive=rng.random() < 0.15,
    )


def conceal(tenant: SampleTenant, value: str, kind: str = "upn") -> str:
    """32 uppercase hex, stable per identity within a tenant, as the service shows when names are concealed."""
    # The service's real hash input is unknown; any stable digest reproduces the shape (32 hex digits).
    return hashlib.md5(f"{tenant.tenant_id}|{kind}|{value}".encode()).hexdigest().upper()


def _bool(value: bool) -> str:
    return "True" if value else "False"


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')
_TEXT_COLUMNS = frozenset({"User Principal Name", "Display Name", "Assigned Products"})


def _cell(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def _sub_seed(*parts: int) -> int:
    # Integer seeds: seeding random.Random from a str hashes it with SHA-512, several times slower.
    value = 0
    for part in parts:
        value = value * 1_000_000_007 + part
    return value


def _scaled(rng: random.Random, rate: float, days: float, spread: tuple[float, float] = (0.6, 1.4)) -> int:
    """About `rate` a day over `days`, times a random factor within `spread`."""
    return max(0, int(round(rate * days * rng.uniform(*spread))))


class _Layout:
    """Column order and line ending of one report rendering.

    `reorder`: the documented and real column orders have differed; keep the first column, reverse the rest
    (after the extra column is placed). `quoted`: the columns that can need quoting (None: all of them);
    skipping the rest keeps 200k-row reports fast. Missing cells are empty.
    """

    def __init__(
        self,
        header: tuple[str, ...],
        *,
        crlf: bool,
        extra_columns: bool,
        reorder: bool = False,
        quoted: frozenset[str] | None = None,
    ) -> None:
        columns = list(header)
        if extra_columns:
            columns.insert(columns.index("Report Period"), EXTRA_COLUMN)
        if reorder:
            columns = columns[:1] + columns[:0:-1]
        self.columns = columns
        self.newline = "\r\n" if crlf else "\n"
        self._quoting = [(name, quoted is None or name in quoted) for name in columns]

    def header_line(self) -> str:
        return ",".join(self.columns) + self.newline

    def line(self, cells: dict[str, str]) -> str:
        return ",".join(_cell(cells.get(n, "")) if q else cells.get(n, "") for n, q in self._quoting) + self.newline


def _parse_period_or_date(period_or_date: str | dt.date) -> tuple[int | None, dt.date | None]:
    if isinstance(period_or_date, dt.date):
        return None, period_or_date
    if period_or_date in PERIODS:
        return PERIODS[period_or_date], None
    try:
        return None, dt.date.fromisoformat(period_or_date)
    except ValueError:
        raise ValueError(f"expected D7/D30/D90/D180 or a YYYY-MM-DD date, got {period_or_date!r}") from None


def _chunks(lines: Iterator[str]) -> Iterator[str]:
    """Group lines so a socket write or file write handles hundreds of rows at once."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= _ROWS_PER_CHUNK:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def _identity(tenant: SampleTenant, user: SampleUser, concealed: bool) -> tuple[str, str]:
    if not concealed:
        return user.upn, user.display_name
    return conceal(tenant, user.upn), conceal(tenant, user.upn, "displayName")


def _active_on(last: dt.date | None, day: dt.date, seed: int, share: float) -> random.Random | None:
    """Whether a user last active on `last` was active on `day` (on `share` of the earlier days); the PRNG
    seeded with `seed` then drives that day's counts."""
    if last is None or last < day:
        return None
    day_rng = random.Random(seed)
    if last == day or day_rng.random() < share:
        return day_rng
    return None


def email_activity_csv(
    tenant: SampleTenant,
    period_or_date: str | dt.date,
    *,
    crlf: bool = False,
    reorder: bool = False,
    extra_columns: bool = False,
    concealed: bool | None = None,
    header_only: bool = False,
) -> Iterator[str]:
    """getEmailActivityUserDetail as CSV text chunks (no BOM).

    Period form: every user, counts over the period. Date form: only users active that day, Report Period 1;
    a day after the refresh date has no data yet, so only the header comes back.
    """
    period, day = _parse_period_or_date(period_or_date)
    concealed = tenant.concealed if concealed is None else concealed
    layout = _Layout(
        EMAIL_ACTIVITY_HEADER, crlf=crlf, reorder=reorder, extra_columns=extra_columns, quoted=_TEXT_COLUMNS
    )
    refresh = tenant.report_refresh_date

    def lines() -> Iterator[str]:
        yield layout.header_line()
        if header_only or tenant.header_only:
            return
        if day is not None and day > refresh:
            return
        for user in tenant.iter_users():
            upn, name = _identity(tenant, user, concealed)
            cells = {
                "Report Refresh Date": refresh.isoformat(),
                "User Principal Name": upn,
                "Display Name": name,
                "Is Deleted": _bool(user.is_deleted),
                "Deleted Date": _day(user.deleted_date),
                "Assigned Products": user.products,
                EXTRA_COLUMN: "User",
            }
            if day is not None:
                last = None if user.is_deleted else user.last_activity
                day_rng = _active_on(last, day, _sub_seed(tenant.seed, user.index, day.toordinal()), 0.7)
                if day_rng is None:
                    continue
                cells["Report Refresh Date"] = day.isoformat()
                cells["Last Activity Date"] = day.isoformat()
                cells["Report Period"] = "1"
                counts = _counts(day_rng, user, 1.0)
            else:
                assert period is not None
                cells["Last Activity Date"] = _day(user.last_activity)
                cells["Report Period"] = str(period)
                period_start = refresh - dt.timedelta(days=period - 1)
                if user.last_activity is None:
                    counts = None
                elif user.last_activity < period_start:
                    counts = (0, 0, 0, 0, 0)
                else:
                    rng = random.Random(_sub_seed(tenant.seed, user.index, period, refresh.toordinal()))
                    # Five working days a week; recently idle users were active for fewer of them.
                    active_days = max(1.0, (user.last_activity - period_start).days * 5 / 7 + 1)
                    counts = _counts(rng, user, active_days)
            if counts is None:
                # Never-active users: every count cell is blank, not 0 (as in real captures).
                send = receive = read = created = interacted = ""
            else:
                send, receive, read, created, interacted = (str(c) for c in counts)
                if counts[3] == 0 and counts[4] == 0 and user.index % 3 == 0:
                    created = interacted = ""
            cells.update(
                {
                    "Send Count": send,
                    "Receive Count": receive,
                    "Read Count": read,
                    "Meeting Created Count": created,
                    "Meeting Interacted Count": interacted,
                }
            )
            yield layout.line(cells)

    return _chunks(lines())


def _counts(rng: random.Random, user: SampleUser, days: float) -> tuple[int, int, int, int, int]:
    receive = _scaled(rng, user.receive_rate, days)
    return (
        _scaled(rng, user.send_rate, days),
        receive,
        min(receive, int(receive * user.read_ratio)),
        _scaled(rng, user.meeting_rate * 0.3, days),
        _scaled(rng, user.meeting_rate, days),
    )


def mailbox_usage_csv(
    tenant: SampleTenant,
    period: str,
    *,
    crlf: bool = False,
    reorder: bool = False,
    extra_columns: bool = False,
    concealed: bool | None = None,
    header_only: bool = False,
) -> Iterator[str]:
    """getMailboxUsageDetail as CSV text chunks (no BOM). Period form only, as in the real API."""
    if period not in PERIODS:
        raise ValueError(f"expected D7/D30/D90/D180, got {period!r}")
    concealed = tenant.concealed if concealed is None else concealed
    layout = _Layout(
        MAILBOX_USAGE_HEADER, crlf=crlf, reorder=reorder, extra_columns=extra_columns, quoted=_TEXT_COLUMNS
    )
    refresh = tenant.report_refresh_date

    def lines() -> Iterator[str]:
        yield layout.header_line()
        if header_only or tenant.header_only:
            return
        for user in tenant.iter_users():
            upn, name = _identity(tenant, user, concealed)
            quotas = SMALL_QUOTAS if user.small_quota else STANDARD_QUOTAS
            deleted_quota = SMALL_DELETED_ITEM_QUOTA if user.small_quota else STANDARD_DELETED_ITEM_QUOTA
            yield layout.line(
                {
                    "Report Refresh Date": refresh.isoformat(),
                    "User Principal Name": upn,
                    "Display Name": name,
                    "Is Deleted": _bool(user.is_deleted),
                    "Deleted Date": _day(user.deleted_date),
                    "Created Date": user.created_date.isoformat(),
                    "Last Activity Date": _day(user.last_activity),
                    "Item Count": str(user.item_count),
                    "Storage Used (Byte)": str(user.storage_used),
                    "Issue Warning Quota (Byte)": str(quotas[0]),
                    "Prohibit Send Quota (Byte)": str(quotas[1]),
                    "Prohibit Send/Receive Quota (Byte)": str(quotas[2]),
                    "Deleted Item Count": str(user.deleted_item_count),
                    "Deleted Item Size (Byte)": str(user.deleted_item_size),
                    "Deleted Item Quota (Byte)": str(deleted_quota),
                    "Has Archive": _bool(user.has_archive),
                    EXTRA_COLUMN: "User",
                    "Report Period": str(PERIODS[period]),
                }
            )

    return _chunks(lines())


def report_csv(
    tenant: SampleTenant,
    function: str,
    period_or_date: str | dt.date,
    **options: bool | None,
) -> Iterator[str]:
    """Dispatch to the CSV generator of a report function (see REPORT_FUNCTIONS)."""
    if function == EMAIL_ACTIVITY:
        return email_activity_csv(tenant, period_or_date, **options)  # type: ignore[arg-type]
    if function == MAILBOX_USAGE:
        if not isinstance(period_or_date, str):
            raise ValueError("getMailboxUsageDetail has no date form")
        return mailbox_usage_csv(tenant, period_or_date, **options)  # type: ignore[arg-type]
    from .workloads import GENERATORS  # Teams, Skype, OneDrive, SharePoint (workloads imports this module)

    if function in GENERATORS:
        return GENERATORS[function](tenant, period_or_date, **options)
    raise ValueError(f"unknown report function {function!r}")


# Report function -> whether it has the (date=YYYY-MM-DD) form.
REPORT_FUNCTIONS: dict[str, bool] = {
    EMAIL_ACTIVITY: True,
    MAILBOX_USAGE: False,
    "getTeamsUserActivityUserDetail": True,
    "getTeamsDeviceUsageUserDetail": True,
    "getSkypeForBusinessActivityUserDetail": True,
    "getSkypeForBusinessDeviceUsageUserDetail": True,
    "getOneDriveUsageAccountDetail": True,
    "getOneDriveActivityUserDetail": True,
    "getSharePointSiteUsageDetail": True,
    "getSharePointActivityUserDetail": True,
}
