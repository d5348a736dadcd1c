"""Option validation for one mode: names, thresholds, status expressions, regexes, output options.

Options come as a dict of names without leading dashes. A flag (verbose, use-new-perfdata, ...) is on when
present, whatever its value, except '0', 'false', 'no' or 'off'. A value option set to '' counts as unset,
except filter-counters where '' means "all counters" (as in Centreon).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.echo import echo
from shared.settings import parse_bool

from .expressions import Expression, parse_expression
from .perlre import BoundedPattern, compile_perl
from .ranges import Range, parse_range
from .result import CheckError, State
from .spec import ActiveCounter, AnyMode, Counter, InstanceCounter, ListMode, MultiBlock, StatusCounter

FLAGS = frozenset(
    {"verbose", "use-new-perfdata", "output-ignore-perfdata", "output-ignore-label", "output-json", "debug"}
)
# Mode options that are Getopt::Long booleans in Centreon too (sharepoint --use-pseudonymize, site-usage --free).
MODE_FLAGS = frozenset({"use-pseudonymize", "free"})
OUTPUT_OPTIONS = frozenset(
    {
        "filter-counters",
        "filter-counters-block",
        "display-ok-counters",
        "filter-perfdata",
        "range-perfdata",
        "filter-uom",
        "change-exit",
        "change-short-output",
        "float-precision",
    }
)
# Centreon connection/transport options: meaningless for a check answered from stored data; accepted and
# ignored so that an existing Centreon command line keeps working when only the command changes.
CONNECTION_OPTIONS = frozenset(
    {
        "custommode",
        "tenant",
        "client-id",
        "client-secret",
        "login-endpoint",
        "graph-endpoint",
        "timeout",
        "proxyurl",
        "proxypac",
        "insecure",
        "http-backend",
        "http-peer-addr",
        "ssl-opt",
        "curl-opt",
        "statefile-dir",
        "statefile-suffix",
        "statefile-concat-cwd",
        "statefile-format",
        "statefile-key",
        "statefile-cipher",
        "memcached",
        "redis-server",
        "redis-attribute",
        "redis-db",
        "memexpiration",
    }
)
LEVELS = ("unknown", "warning", "critical")
UNITS = ("%", "count")
MAX_FLOAT_PRECISION = 20


@dataclass
class CheckOptions:
    """One check's options, parsed and validated against its mode (not the app settings: shared/settings.py)."""

    verbose: bool = False
    new_perfdata: bool = False
    units: str = "%"
    filters: dict[str, BoundedPattern] = field(default_factory=dict)  # filter option -> regex
    excludes: dict[str, BoundedPattern] = field(default_factory=dict)  # exclude option -> regex
    raw: dict[str, str] = field(default_factory=dict)  # every option as given (mode options read here)
    output_json: bool = False
    change_short_output: list[tuple[BoundedPattern, str, int]] = field(default_factory=list)
    filter_counters: BoundedPattern | None = None  # None: all counters
    filter_counters_block: BoundedPattern | None = None
    thresholds: dict[str, Range | None] = field(default_factory=dict)  # 'warning-<thlabel>' -> range
    thlabels: dict[str, str] = field(default_factory=dict)  # counter label -> threshold label
    statuses: dict[str, dict[str, Expression]] = field(default_factory=dict)  # label -> level -> expression
    filter_perfdata: BoundedPattern | None = None
    filter_uom: BoundedPattern | None = None
    range_perfdata: int = 0
    ignore_perfdata: bool = False
    ignore_label: bool = False
    change_exit: dict[str, str] = field(default_factory=dict)
    float_precision: int = 8

    def counter_shown(self, label: str) -> bool:
        return self.filter_counters is None or self.filter_counters.search(label) is not None

    def range(self, level: str, label: str) -> Range | None:
        return self.thresholds.get(f"{level}-{self.thlabels[label]}")

    def flag(self, name: str) -> bool:
        return _flag(self.raw, name)

    def option(self, name: str, default: str = "") -> str:
        value = self.raw.get(name)
        return default if value is None or value == "" else value


def query_options(url: str, params: Mapping[str, str]) -> dict[str, str]:
    """Check options from a request's raw query string: a repeated option keeps its last value, in the place
    of its last occurrence, as Getopt::Long does on Centreon's command line (a parsed `params` mapping keeps
    the first). `code` (the function key) is never an option."""
    query = urllib.parse.urlsplit(url or "").query
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True) if query else list(params.items())
    options: dict[str, str] = {}
    for name, value in pairs:
        if name != "code":
            options.pop(name, None)
            options[name] = value
    return options


def _flag(options: dict[str, str], name: str) -> bool:
    return name in options and parse_bool(str(options[name])) is not False


def _regex(options: dict[str, str], name: str) -> BoundedPattern | None:
    value = options.get(name)
    if value is None or value == "":
        return None
    return compile_perl(value, what=f"--{name}")


def mode_counters(mode: AnyMode) -> list[tuple[ActiveCounter | InstanceCounter, str]]:
    """Every counter of a mode with its nlabel option prefix ('instance-' for per-instance counters)."""
    if isinstance(mode, ListMode):
        return []
    counters: list[tuple[ActiveCounter | InstanceCounter, str]] = []
    if mode.active is not None:
        counters.append((mode.active, ""))
    if mode.totals is not None:
        counters += [(c, "") for c in mode.totals.counters]
    block = mode.instances
    blocks = list(block.groups) if isinstance(block, MultiBlock) else [block] if block is not None else []
    for b in blocks:
        counters += [(c, "instance-") for c in b.counters]
    return counters


_PERL_GROUP = re.compile(r"\$(\d+)|\$\{(\d+)\}")


def _change_short_output(value: str) -> tuple[BoundedPattern, str, int]:
    """'pattern~replacement~flags' (Perl s///): $1 / ${1} references, flags g and i."""
    parts = value.split("~")
    if len(parts) < 2:
        raise CheckError(f"Wrong change-short-output option '{echo(value)}'.")
    pattern, replacement, flags = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
    rx = compile_perl(pattern, flags.replace("g", ""), what="--change-short-output")
    replacement = _PERL_GROUP.sub(lambda m: f"\\g<{m.group(1) or m.group(2)}>", replacement.replace("\\", "\\\\"))
    return rx, replacement, 0 if "g" in flags else 1


def parse_options(mode: AnyMode, options: dict[str, str]) -> CheckOptions:
    options = {str(k).lstrip("-"): ("" if v is None else str(v)) for k, v in options.items()}
    forced = getattr(mode, "force_new_perfdata", False)
    s = CheckOptions(new_perfdata=forced or _flag(options, "use-new-perfdata"), raw=options)

    # Names each counter accepts: '<level>-<label>' always, and with --use-new-perfdata the nlabel form
    # (dots -> dashes, 'instance-' prefix for per-instance counters), which is then the canonical one.
    names: dict[str, tuple[str, str]] = {}  # accepted option name -> (level, canonical threshold label)
    counters = mode_counters(mode)
    for counter, prefix in counters:
        label = counter.label
        thlabel = label
        if s.new_perfdata and isinstance(counter, Counter):
            thlabel = (prefix + counter.nlabel).replace(".", "-")
        s.thlabels[label] = thlabel
        for level in LEVELS:
            names[f"{level}-{thlabel}"] = (level, thlabel)
            names[f"{level}-{label}"] = (level, thlabel)

    excludes = getattr(mode, "excludes", {})
    known = FLAGS | OUTPUT_OPTIONS | CONNECTION_OPTIONS | set(mode.filters) | set(excludes) | set(mode.extra_options)
    if getattr(mode, "active", None) is not None:
        known |= {"units"}
    for name in options:
        if name not in known and name not in names:
            raise CheckError(f"Unknown option: --{echo(name)}")

    s.verbose = _flag(options, "verbose")
    s.output_json = _flag(options, "output-json")
    if options.get("change-short-output"):
        s.change_short_output.append(_change_short_output(options["change-short-output"]))
    s.ignore_perfdata = _flag(options, "output-ignore-perfdata")
    s.ignore_label = _flag(options, "output-ignore-label")
    s.units = options.get("units") or "%"
    if s.units not in UNITS:
        raise CheckError(f"Wrong units option '{echo(s.units)}' (use '%' or 'count').")
    precision = options.get("float-precision", "")
    if precision:
        # Centreon formats with sprintf('%.<n>f'): a negative, fractional or huge precision means nothing.
        if not re.fullmatch(r"[0-9]{1,2}", precision.strip()) or int(precision) > MAX_FLOAT_PRECISION:
            raise CheckError(
                f"Wrong float-precision option '{echo(precision)}' (an integer from 0 to {MAX_FLOAT_PRECISION})."
            )
        s.float_precision = int(precision)

    for name in mode.filters:
        rx = _regex(options, name)
        if rx is not None:
            s.filters[name] = rx
    for name in excludes:
        rx = _regex(options, name)
        if rx is not None:
            s.excludes[name] = rx
    fc = options.get("filter-counters", getattr(mode, "filter_counters_default", ""))
    s.filter_counters = compile_perl(fc, what="--filter-counters") if fc else None
    s.filter_counters_block = _regex(options, "filter-counters-block")
    s.filter_perfdata = _regex(options, "filter-perfdata")
    s.filter_uom = _regex(options, "filter-uom")

    if "range-perfdata" in options:
        rp = options["range-perfdata"] or "1"
        if rp not in ("0", "1", "2"):
            raise CheckError(f"Wrong range-perfdata option '{echo(rp)}'")
        s.range_perfdata = int(rp)
    for item in filter(None, re.split(r"[,\s]+", options.get("change-exit", ""))):
        src, _, dst = item.partition("=")
        if src.upper() in State.__members__ and dst.upper() in State.__members__:
            s.change_exit[src.upper()] = dst.upper()

    # Threshold values: the later of two aliases wins (like repeated options on a command line).
    given: dict[str, str] = {}
    for name, value in options.items():
        if name in names:
            level, thlabel = names[name]
            given[f"{level}-{thlabel}"] = value
    for counter, _prefix in counters:
        if isinstance(counter, StatusCounter):
            exprs = {}
            defaults = {
                "unknown": counter.unknown_default,
                "warning": counter.warning_default,
                "critical": counter.critical_default,
            }
            for level in LEVELS:
                key = f"{level}-{s.thlabels[counter.label]}"
                text = given.get(key, defaults[level])
                exprs[level] = parse_expression(text, counter.variables, option=key)
            s.statuses[counter.label] = exprs
            continue
        defaults = {
            "warning": getattr(counter, "warning_default", ""),
            "critical": getattr(counter, "critical_default", ""),
        }
        for level in LEVELS:
            key = f"{level}-{s.thlabels[counter.label]}"
            s.thresholds[key] = parse_range(given.get(key, defaults.get(level, "")), key, s.float_precision)
    return s
