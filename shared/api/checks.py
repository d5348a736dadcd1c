"""The check routes' description, generated from the mode specs: one path per plugin and mode with that mode's
options (thresholds per counter, filters, mode options) and the options every mode takes, plus the route as
registered (`/api/checks/{plugin}/{mode}`), which also takes Centreon's full plugin names."""

from __future__ import annotations

import functools
from typing import Any

from shared.api.openapi import CHECK_ERRORS, FUNCTION, Operation, check_response, path_param, query
from shared.checks.modes import MODES, PLUGIN_ALIASES
from shared.checks.options import (
    CONNECTION_OPTIONS,
    FLAGS,
    LEVELS,
    MAX_FLOAT_PRECISION,
    MODE_FLAGS,
    UNITS,
    mode_counters,
)
from shared.checks.spec import ActiveCounter, AnyMode, Counter, ListMode, StatusCounter

ROUTE = "checks/{plugin}/{mode}"
TAG = "checks"
# The statuses a check answers besides 200 (shared/checks/service.py): 400 bad option or no tenant, 404 unknown
# plugin, mode or tenant, 503 storage unreachable, 500 unexpected; each with an UNKNOWN body and exit code 3.
ERRORS = (400, 404, 500, 503)
_STRING: dict[str, Any] = {"type": "string"}

TENANT = query(
    "tenant",
    _STRING,
    "The tenant: its id, one of its domains or its display name; `*` checks every enabled tenant (worst status "
    "wins, each result prefixed `Tenant '<domain>' `).",
    required=True,
)
_FLAG_TEXT = "A flag: on when present, unless its value is 0, false, no or off."
_OUTPUT_TEXT = {
    "filter-counters": "Perl regex: only the counters whose label matches are checked and shown ('' = all).",
    "filter-counters-block": "Perl regex on the counter block names (e.g. users).",
    "display-ok-counters": "Perl regex: counters shown even when OK.",
    "filter-perfdata": "Perl regex: only the perfdata whose label matches.",
    "range-perfdata": "Perfdata thresholds: 1 drops a start of 0, 2 leaves them out (as Centreon).",
    "filter-uom": "Perl regex on the perfdata units.",
    "change-exit": "State mappings, e.g. `unknown=critical,warning=ok`.",
    "change-short-output": "Perl substitution on the first line: `pattern~replacement~flags` (flags g, i).",
    "float-precision": f"Decimals of ranges compared as floats (0 to {MAX_FLOAT_PRECISION}, default 8).",
}
_OUTPUT_SCHEMA: dict[str, dict[str, Any]] = {
    "range-perfdata": {"type": "string", "enum": ["", "0", "1", "2"]},
    # a string: '' leaves the default, as for every option
    "float-precision": {"type": "string", "pattern": r"^\s*[0-9]{0,2}\s*$"},
}


def _common_options() -> list[dict[str, Any]]:
    params = [query(name, _STRING, _FLAG_TEXT) for name in sorted(FLAGS)]
    params += [query(name, _OUTPUT_SCHEMA.get(name, _STRING), text) for name, text in sorted(_OUTPUT_TEXT.items())]
    return params


def _threshold_text(counter: object, level: str, default: str) -> str:
    if isinstance(counter, StatusCounter):
        variables = ", ".join(f"%{{{v}}}" for v in counter.variables)
        text = f"Status expression for {level.upper()} over {variables} (operators =~ !~ eq ne == != < > and or not)."
    elif isinstance(counter, ActiveCounter):
        text = f"Nagios range for {level.upper()} on the active {counter.unit} (%, or a count with units=count)."
    else:
        text = f"Nagios range for {level.upper()} (N, N:, ~:N, a:b, @a:b; decimals; KB..EB suffixes)."
    return f"{text} Default: `{default}`." if default else text


def mode_parameters(mode: AnyMode) -> list[dict[str, Any]]:
    """The query parameters a mode takes, as shared.checks.options.parse_options accepts them."""
    params: dict[str, dict[str, Any]] = {"tenant": TENANT}
    for counter, prefix in mode_counters(mode):
        defaults = {
            "unknown": getattr(counter, "unknown_default", ""),
            "warning": getattr(counter, "warning_default", ""),
            "critical": getattr(counter, "critical_default", ""),
        }
        for level in LEVELS:
            text = _threshold_text(counter, level, defaults[level])
            params.setdefault(f"{level}-{counter.label}", query(f"{level}-{counter.label}", _STRING, text))
            if isinstance(counter, Counter):
                nlabel = f"{level}-{prefix}{counter.nlabel}".replace(".", "-")
                params.setdefault(nlabel, query(nlabel, _STRING, f"{text} This name only with use-new-perfdata."))
    for name, column in mode.filters.items():
        params[name] = query(name, _STRING, f"Perl regex: keep only what matches on {column!r}.")
    for name, column in getattr(mode, "excludes", {}).items():
        params[name] = query(name, _STRING, f"Perl regex: leave out what matches on {column!r}.")
    for name, default in mode.extra_options.items():
        text = _FLAG_TEXT if name in MODE_FLAGS else "Mode option."
        params[name] = query(name, _STRING, f"{text} Default: `{default}`." if default else text)
    if getattr(mode, "active", None) is not None:
        params["units"] = query(
            "units", {"type": "string", "enum": ["", *UNITS]}, "Thresholds in % (default) or count."
        )
    for param in _common_options():
        params.setdefault(param["name"], param)
    return list(params.values())


def _summary(mode: AnyMode) -> str:
    kind = "list" if isinstance(mode, ListMode) else "check"
    return f"{mode.plugin} {mode.name} ({kind} over the stored '{mode.report}' data)"


def _operation(mode: AnyMode) -> Operation:
    aliases = sorted(a for a, short in PLUGIN_ALIASES.items() if short == mode.plugin and a != mode.plugin)
    return Operation(
        method="GET",
        route=ROUTE,
        path=f"/api/checks/{mode.plugin}/{mode.name}",
        auth=FUNCTION,
        summary=_summary(mode),
        description=(
            f"Centreon's `--plugin={aliases[0] if aliases else mode.plugin} --mode={mode.name}` answered from stored "
            "data. Option names are Centreon's without the dashes; a repeated option keeps its last value."
        ),
        tag=TAG,
        operation_id=f"check_{mode.plugin}_{mode.name}".replace("-", "_"),
        parameters=tuple(mode_parameters(mode)),
        responses={
            200: check_response("The check ran (any exit code; UNKNOWN too, e.g. no data yet).", unknown_only=False)
        },
        errors=ERRORS,
        error_kind=CHECK_ERRORS,
    )


def _generic() -> Operation:
    connection = [
        {**query(name, _STRING, "Centreon connection option: accepted and ignored."), "deprecated": True}
        for name in sorted(CONNECTION_OPTIONS - {"tenant"})
    ]
    return Operation(
        method="GET",
        route=ROUTE,
        auth=FUNCTION,
        summary="Any check by plugin (short or Centreon name) and mode",
        description=(
            "The route as registered: each plugin and mode has its own path above with its options. `plugin` is the "
            "short name or Centreon's (`cloud::microsoft::office365::exchange::plugin`); an unknown plugin or mode "
            "answers 404, an unknown option 400."
        ),
        tag=TAG,
        operation_id="check",
        parameters=(
            path_param("plugin", "Plugin: " + ", ".join(sorted(PLUGIN_ALIASES)) + "."),
            path_param("mode", "Mode: " + ", ".join(sorted({name for _, name in MODES})) + "."),
            *mode_parameters_common(),
            *connection,
        ),
        responses={200: check_response("The check ran (any exit code).", unknown_only=False)},
        errors=ERRORS,
        error_kind=CHECK_ERRORS,
    )


def mode_parameters_common() -> list[dict[str, Any]]:
    return [TENANT, *_common_options()]


@functools.cache
def _all() -> tuple[Operation, ...]:
    return (*(_operation(mode) for _, mode in sorted(MODES.items())), _generic())


def operations() -> tuple[Operation, ...]:
    return _all()
