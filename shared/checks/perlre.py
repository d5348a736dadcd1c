"""Perl regular expressions (as typed in Centreon options) translated to Python's `re`.

Covers what monitoring filters use: everything `re` shares with Perl, plus \\Q..\\E, \\z, \\Z, \\h, \\H,
named groups (?<name>..) and \\k<name>, POSIX classes [:alpha:] etc., and the flags i, m, s, x.
"""

from __future__ import annotations

import re

from .echo import echo
from .result import CheckError

_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "g": 0, "o": 0}


def translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if nxt == "E":
                i += 2
                continue
            if nxt == "z":
                out.append(r"\Z")
            elif nxt == "Z":
                out.append(r"(?=\n?\Z)")
            elif nxt == "h":
                out.append(r"[ \t]")
            elif nxt == "H":
                out.append(r"[^ \t]")
            elif nxt == "k" and pattern.startswith("<", i + 2) and ">" in pattern[i + 3 :]:
                end = pattern.index(">", i + 3)
                out.append(f"(?P={pattern[i + 3 : end]})")
                i = end + 1
                continue
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        if pattern.startswith("[:", i):
            m = re.match(r"\[:(\^?)(\w+):\]", pattern[i:])
            if m and m.group(2) in _POSIX and not m.group(1):
                out.append(_POSIX[m.group(2)])
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def compile_perl(pattern: str, flags: str = "", *, what: str = "regular expression") -> re.Pattern[str]:
    """Compile a Perl regex; `what` names the option in the error message."""
    bits = 0
    for f in flags:
        if f not in _FLAGS:
            raise CheckError(f"Invalid regular expression flag '{echo(f)}' in {what}.")
        bits |= _FLAGS[f]
    try:
        return re.compile(translate(pattern), bits)
    except re.error as exc:
        raise CheckError(f"Invalid regular expression in {what} '{echo(pattern)}': {exc}.") from None
