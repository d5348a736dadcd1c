"""Request values echoed in an answer: one line, no perfdata separator, bounded length.

Nagios reads a plugin's first line up to '|' as the status text and the rest as perfdata, and each further
line as long output, so a newline, '|' or NUL inside an option value echoed verbatim would let a caller forge
perfdata or extra lines. Such values are shown escaped as Python escapes them (repr-style); others as typed,
so ordinary error messages stay byte-identical to Centreon's.
"""

from __future__ import annotations

import re

LIMIT = 80
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f|\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    c = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c)
    return named or (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")


def safe_line(text: str) -> str:
    """`text` with control characters and '|' escaped (backslashes too when anything was, so it stays
    unambiguous)."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_escape, text.replace("\\", "\\\\"))


def echo(value: object, limit: int = LIMIT) -> str:
    """A request value for an error message: escaped if needed, cut to `limit` characters + '...'."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        return safe_line(text[:limit]) + "..."
    return safe_line(text)
