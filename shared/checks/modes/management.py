"""cloud::microsoft::office365::management::plugin: service-status, list-services, subscriptions,
list-subscriptions, app-credentials (centreon-plugins
src/cloud/microsoft/office365/management/mode/*.pm).

service-status: one instance per (service, unresolved issue) from the flattened `service_health` rows;
--include-/--exclude-service-name (--filter-service-name = include), --include-/--exclude-classification
(a service without issues has classification '-'), --exclude-resolved (default 1; 0 keeps resolved issues).
Status expressions (--warning-status, --critical-status, --unknown-status; default critical
'%{status} !~ /serviceOperational|serviceRestored/i') see %{service_name}, %{status}, %{classification},
%{issue_title}, %{issue_startDateTime}, %{issue_id}, %{issue_status}, %{issue_resolved}. A service whose
issues are all resolved keeps one instance with its service status and issue fields '-' (Centreon drops
it); one whose open issues are all excluded by the classification filters is not shown (as Centreon). Instances are numbered in service order and sorted as strings, as Centreon.

app-credentials: per application, its password and key credentials: status 'expired' (end <= now) or
'valid' (--warning/critical-password-status, --warning/critical-key-status; default critical
'%{status} =~ /expired/i'; variables %{status}, %{id}, %{app_name}) and the time left
(--warning/critical-password-expires, --warning/critical-key-expires, in --unit s|m|h|d|w, default s).
Thresholds are Nagios ranges, as in Centreon (centreon-plugins issue #3502): `--warning-password-expires=30` alerts when
MORE than 30 units are left; to be warned when LESS than 30 days are left use `--unit=d
--warning-password-expires=30:`.
"""

# ruff: noqa: E501  (mode tables read best one counter per line)

from __future__ import annotations

import math

from .. import clock
from ..fold import Metrics
from ..options import CheckOptions
from ..select import as_bool, keep
from ..spec import CollectionMode, Counter, InstanceBlock, ListMode, MultiBlock, Perf, StatusCounter

ISSUE_FIELDS = {"classification": "-", "issue_id": "-", "issue_startDateTime": "-", "issue_title": "-",
                "issue_status": "-", "issue_resolved": "-"}  # fmt: skip


def _services(rows: list[dict], options: CheckOptions) -> Metrics:
    keep_resolved = options.option("exclude-resolved", "1") == "0"
    services: dict[str, list[dict]] = {}
    for row in rows:
        services.setdefault(str(row.get("service_id") or row.get("service")), []).append(row)
    instances: dict[str, dict] = {}
    for service_rows in services.values():
        first = service_rows[0]
        base = {"service_name": first.get("service") or "", "status": first.get("status") or "", **ISSUE_FIELDS}
        if not keep(SERVICE_STATUS, options, {"service": base["service_name"]}, "service"):
            continue
        selected, open_issues = [], 0
        for row in service_rows:
            if not row.get("issue_id"):
                continue
            if as_bool(row.get("is_resolved")) and not keep_resolved:
                continue
            open_issues += 1
            issue = {**base, "classification": row.get("classification") or "", "issue_id": row["issue_id"],
                     "issue_startDateTime": row.get("start") or "", "issue_title": row.get("title") or "",
                     "issue_status": row.get("issue_status") or "",
                     "issue_resolved": 1 if as_bool(row.get("is_resolved")) else 0}  # fmt: skip
            if keep(SERVICE_STATUS, options, issue, "classification"):
                selected.append(issue)
        # A service without issues, or whose issues are all resolved, is still shown with its own status
        # (Centreon drops the latter). One whose open issues were all excluded by classification is not shown:
        # excluding advisories must stop a service from staying red because of them.
        if not selected and not open_issues and keep(SERVICE_STATUS, options, base, "classification"):
            selected = [base]
        for instance in selected:
            instances[str(len(instances))] = instance
    return Metrics("", instances=instances)


SERVICE_STATUS = CollectionMode(
    plugin="management",
    name="service-status",
    report="service_health",
    build=_services,
    filters={"include-service-name": "service", "filter-service-name": "service", "include-classification": "classification"},
    excludes={"exclude-service-name": "service", "exclude-classification": "classification"},
    extra_options={"exclude-resolved": "1"},
    empty="No services found.",
    instances=InstanceBlock(
        name="services", key="", prefix="Service '{service_name}' ", message_multiple="All services are ok", values={},
        counters=(
            StatusCounter(
                label="status",
                output="status is '{status}'",
                problem_suffix=" [issue: {classification}, {issue_id}, {issue_startDateTime}, {issue_title}]",
                variables={k: k for k in ("service_name", "status", *ISSUE_FIELDS)},
                critical_default="%{status} !~ /serviceOperational|serviceRestored/i",
            ),
        ),
    ),
)  # fmt: skip

LIST_SERVICES = ListMode(
    plugin="management", name="list-services", report="service_health", title="List services: ",
    line=(("service_id", "service_id"), ("service_name", "service")), sep=": ", key="service_id",
    filters={"filter-name": "service"},  # a no-op in Centreon (bug fixed)
    needs_names=False,
)  # fmt: skip


def _subscriptions(rows: list[dict], options: CheckOptions) -> Metrics:
    from ..expressions import to_number

    instances = {}
    for row in rows:
        if not keep(SUBSCRIPTIONS, options, row):
            continue
        values: dict = {"skuPartNumber": row.get("sku_part_number") or "",
                        "capabilityStatus": str(row.get("capability_status") or "").lower()}  # fmt: skip
        enabled, warning = to_number(row.get("enabled")), to_number(row.get("warning"))
        total = enabled if enabled > 0 else warning
        if total != 0:
            used = to_number(row.get("consumed"))
            prct = used * 100 / total
            values.update(total=total, used=used, free=total - used, prct_used=prct, prct_free=100 - prct)
        instances[str(row.get("sku_id") or values["skuPartNumber"])] = values
    return Metrics("", instances=instances)


USAGE = "usage total: {total} used: {used} ({prct_used:.2f}%) free: {free} ({prct_free:.2f}%)"
SUBSCRIPTIONS = CollectionMode(
    plugin="management",
    name="subscriptions",
    report="subscriptions",
    build=_subscriptions,
    filters={"filter-sku-part-number": "sku_part_number"},
    force_new_perfdata=True,
    empty="No subscriptions found.",
    instances=InstanceBlock(
        name="subscriptions", key="", prefix="Subscriptions '{skuPartNumber}' ", message_multiple="All subscriptions are ok",
        values={}, perf_instance=("skuPartNumber",),
        counters=(
            StatusCounter("status", "capability status: {capabilityStatus}", {"capabilityStatus": "capabilityStatus", "skuPartNumber": "skuPartNumber"},
                          warning_default="%{capabilityStatus} =~ /warning/i"),
            Counter("subscription-usage", "subscription.usage.count", "used", USAGE, Perf("", max="total")),
            Counter("subscription-usage-free", "subscription.free.count", "free", USAGE, Perf("", max="total"), display_ok=False),
            Counter("subscription-usage-prct", "subscription.usage.percentage", "prct_used", USAGE,
                    Perf("", unit="%", max="100", template="%.2f"), display_ok=False),
        ),
    ),
)  # fmt: skip

LIST_SUBSCRIPTIONS = ListMode(
    plugin="management", name="list-subscriptions", report="subscriptions", title="List subscriptions: ",
    line=(("skuPartNumber", "sku_part_number"), ("capabilityStatus", "capability_status"), ("appliesTo", "applies_to")),
    sep=": ", key="sku_id", filters={"filter-sku-part-number": "sku_part_number"}, lower=("capability_status",),
    needs_names=False,
)  # fmt: skip

UNITS = {"s": (1, "seconds"), "m": (60, "minutes"), "h": (3600, "hours"), "d": (86400, "days"), "w": (604800, "weeks")}
PERIODS = (("y", 31556926), ("M", 2629743), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def human_seconds(value: int) -> str:
    """Centreon's change_seconds: '3y 1M 6d 17h 29m 10s' (0 -> '0')."""
    parts = []
    for unit, size in PERIODS:
        count = value // size
        if count:
            parts.append(f"{count}{unit}")
            value %= size
    return " ".join(parts) or str(value)


def _credentials(rows: list[dict], options: CheckOptions) -> Metrics:
    unit = options.option("unit", "s")
    div, unit_long = UNITS.get(unit) or UNITS[(unit := "s")]
    now = clock.now()
    apps: dict[str, dict] = {}
    for row in rows:
        if not keep(APP_CREDENTIALS, options, row):
            continue
        app = apps.setdefault(str(row.get("app_id") or row.get("app_name")),
                              {"values": {"name": row.get("app_name") or ""}, "groups": {"password": {}, "key": {}}})  # fmt: skip
        end = clock.parse_iso(row.get("end") or "")
        if row.get("type") not in app["groups"] or end is None or "T" not in str(row.get("end")):
            continue  # Centreon ignores a credential without a parsable endDateTime
        seconds = max(0, int((end - now).total_seconds()))
        app["groups"][row["type"]][str(row.get("key_id") or "")] = {
            "app_name": row.get("app_name") or "", "id": str(row.get("key_id") or ""),
            "status": "expired" if seconds == 0 else "valid", "expires": math.floor(seconds / div),
            "expires_human": human_seconds(seconds), "unit": unit, "unit_long": unit_long,
        }  # fmt: skip
    return Metrics("", instances=apps)


def _credential_group(kind: str) -> InstanceBlock:
    return InstanceBlock(
        name=kind, key="", prefix=f"{kind} credential '{{id}}' ", message_multiple=f"All {kind} credentials are ok",
        values={}, perf_instance=("app_name", "id"),
        counters=(
            StatusCounter(f"{kind}-status", "status: {status}", {"status": "status", "id": "id", "app_name": "app_name"},
                          critical_default="%{status} =~ /expired/i"),
            Counter(f"{kind}-expires", f"application.{kind}.expires", "expires", "expires in {expires_human}",
                    Perf("", nlabel_suffix="unit_long", unit_key="unit")),
        ),
    )  # fmt: skip


APP_CREDENTIALS = CollectionMode(
    plugin="management",
    name="app-credentials",
    report="app_credentials",
    build=_credentials,
    filters={"filter-app-name": "app_name"},
    extra_options={"unit": "s"},
    force_new_perfdata=True,
    instances=MultiBlock(
        name="applications", prefix="application '{name}' ", long_header="checking application '{name}'", indent="    ",
        message_multiple="All application credentials are ok", groups=(_credential_group("password"), _credential_group("key")),
    ),
)  # fmt: skip

MODES = (SERVICE_STATUS, LIST_SERVICES, SUBSCRIPTIONS, LIST_SUBSCRIPTIONS, APP_CREDENTIALS)
