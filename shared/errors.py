"""What an HTTP caller is told when a request fails: an HTTP status and a reason in the user's terms.

The HTTP adapters (functions/) turn every exception into an answer through `classify`, so no route ever
answers a 500 with an empty body, and the log gets one line and one short traceback for what was unexpected
(a RecursionError's thousands of frames are cut).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from shared.store import storage

log = logging.getLogger("o365mon.errors")

MAX_TRACEBACK_LINES = 40
_SECRETS = re.compile(r"(?i)(AccountKey=|SharedAccessSignature=|sig=|code=|client_secret=|password=)[^;&\s'\"]+")


class UserInputError(ValueError):
    """A request parameter that is wrong, with a message that says what is expected."""


@dataclass(frozen=True)
class Failure:
    status: int
    message: str
    expected: bool  # a user or environment error (no traceback logged)


def redact(text: str) -> str:
    return _SECRETS.sub(lambda m: m.group(1) + "***", text)


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], refused in the user's terms otherwise."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise UserInputError(f"{name} must be a whole number from {low} to {high}, got {shown!r}")
    return value


def classify(exc: BaseException) -> Failure:
    """The answer for an exception raised while serving a request."""
    from shared.store.tenants import TenantError

    reason = storage.unreachable_reason(exc)
    if reason is not None:
        return Failure(503, f"storage unreachable: {reason}", True)
    if isinstance(exc, storage.InvalidKeyError | UserInputError):
        return Failure(400, str(exc), True)
    if isinstance(exc, TenantError):
        return Failure(404, str(exc), True)
    service = getattr(exc, "service", None)  # a system we call on the caller's behalf (IT Glue) failed
    if isinstance(service, str):
        upstream = getattr(exc, "status", 0) or 0
        if upstream == 0 or upstream == 429 or upstream >= 500:
            return Failure(503, f"{service} unreachable: {exc}", True)
        # Its 401/403/404/422 are about o365mon's key or request, not the caller's: answered as a gateway error.
        return Failure(502, f"{service} refused the request: {exc}", True)
    status = getattr(exc, "status", None)  # ReviewError and the import errors carry their own status
    if isinstance(status, int) and 400 <= status < 500:
        return Failure(status, str(exc), True)
    if isinstance(exc, UnicodeDecodeError):
        return Failure(400, f"the body is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                       f"{exc.start}): save the file as UTF-8", True)  # fmt: skip
    return Failure(500, f"internal error ({type(exc).__name__}); the function log has the details", False)


def log_failure(where: str, exc: BaseException, failure: Failure) -> None:
    """One line for an expected failure; one line plus a traceback cut to its last frames otherwise."""
    if failure.expected:
        log.warning("%s: %s %s", where, failure.status, redact(failure.message))
        return
    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-12)).splitlines()
    if len(lines) > MAX_TRACEBACK_LINES:
        cut = len(lines) - MAX_TRACEBACK_LINES
        lines = lines[:5] + [f"  ... {cut} lines cut ..."] + lines[-MAX_TRACEBACK_LINES + 5 :]
    log.error("%s failed: %s: %s\n%s", where, type(exc).__name__, redact(str(exc))[:500], redact("\n".join(lines)))
