"""Perl regular expressions (as typed in Centreon options) translated to the `regex` module (re-compatible
syntax, VERSION0), matched under the check's time budget.

Covers what monitoring filters use: everything `re` shares with Perl, plus \\Q..\\E, \\z, \\Z, \\h, \\H,
named groups (?<name>..) and \\k<name>, POSIX classes [:alpha:] etc., and the flags i, m, s, x.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.echo import echo

from .limits import current
from .result import CheckError

if TYPE_CHECKING:
    import regex

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
# Perl's flags as `regex` bits (the same values as `re`'s); `regex` itself is imported by compile_perl only:
# ~10 ms of a plugin process's start-up, and most checks are not filtered.
_FLAGS = {"i": int(re.I), "m": int(re.M), "s": int(re.S), "x": int(re.X), "g": 0, "o": 0}
# The engine expands counted repetitions when it compiles ('(?:a{1000}){1000}' takes most of a second), and
# compiling cannot be interrupted: their product is bounded instead.
MAX_REPETITIONS = 100_000
FAST_S = 0.001  # a match that takes longer is a slow one (see BoundedPattern)
_COUNTED = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")  # an escaped brace counts too: harmless


def without_repetition(translated: str) -> bool:
    """True for a pattern no match of which can backtrack without bound: no quantifier (* + ? {n}), no
    recursion or conditional, and few alternatives inside groups (their combinations multiply). Each match
    attempt is then bounded by the pattern's own size, so it needs no timeout: most monitoring filters
    ('^ceo@', 'contoso\\.com$', 'alice|bob') are of this kind, and a timeout costs microseconds per row."""
    i, n, bars, groups = 0, len(translated), 0, False
    while i < n:
        c = translated[i]
        if c == "\\":
            i += 2
            continue
        if c in "*+{":
            return False
        if c == "?":
            if i == 0 or translated[i - 1] != "(":
                return False
            after = translated[i + 1 : i + 3]
            if (
                after[:1] in ("R", "&", "+", "(", "")
                or after[:1].isdigit()
                or after in ("P>",)
                or (after[:1] == "-" and after[1:2].isdigit())
            ):
                return False
        elif c == "(":
            groups = True
        elif c == "|":
            bars += 1
        i += 1
    return not groups or bars <= 8


class BoundedPattern:
    """A compiled user pattern whose matches are paid from the check's regex budget (shared/checks/limits.py)."""

    __slots__ = ("_rx", "option", "pattern", "search", "sub")
    search: Callable[[str], regex.Match | re.Match | None]
    sub: Callable[..., str]  # (replacement, text, count=0)

    def __init__(self, rx: regex.Pattern | re.Pattern, option: str, linear: bool = False):
        self._rx, self.option, self.pattern = rx, option, rx.pattern
        if linear:  # nothing to bound: the engine's own methods, at full speed
            self.search, self.sub = rx.search, rx.sub
        else:
            self.search, self.sub = self._bounded_search, self._bounded_sub

    def _run(self, method, *args, **kwargs):  # noqa: ANN001
        # Nearly every match takes microseconds: it runs holding the GIL (releasing and re-taking it per row
        # would queue each of 100,000 matches behind the other threads) and is not charged. A match still
        # running after FAST_S is a slow one: it starts again with the GIL released, and from then on its
        # time is paid from the check's budget.
        try:
            return method(*args, timeout=FAST_S, **kwargs)
        except TimeoutError:
            pass
        limits = current()
        start = time.perf_counter()
        try:
            if limits.regex_left <= 0:
                raise TimeoutError
            return method(*args, concurrent=True, timeout=limits.regex_left, **kwargs)
        except TimeoutError:
            limits.regex_left = 0.0
            raise limits.over_budget(self.option) from None
        finally:
            elapsed = time.perf_counter() - start + FAST_S
            limits.regex_left -= elapsed
            limits.regex_spent[self.option] = limits.regex_spent.get(self.option, 0.0) + elapsed

    def literal_prefix(self) -> str | None:
        """The text every match's subject starts with, for an anchored pattern ('^ceo@', '^alice\\.b$'): a
        sorted index can jump to it. None when the pattern has no such prefix (unanchored, an alternative, a
        case-insensitive, multi-line or verbose flag), '' when it is anchored but starts with no literal."""
        if self._rx.flags & (re.I | re.M | re.X) or "|" in self.pattern:
            return None
        text = self.pattern
        if text.startswith("^"):
            rest = text[1:]
        elif text.startswith("\\A"):
            rest = text[2:]
        else:
            return None
        literal, _ = _leading_literal(rest)
        return literal

    def literal(self) -> str | None:
        """The text this pattern matches anywhere in a subject when it is nothing but a literal ('contoso',
        'alice\\.b'), else None: a substring search finds it."""
        if self._rx.flags & (re.I | re.X):
            return None
        literal, whole = _leading_literal(self.pattern)
        return literal if whole and literal else None

    def _bounded_search(self, text: str) -> regex.Match | None:
        return self._run(self._rx.search, text)

    def _bounded_sub(self, replacement: str, text: str, count: int = 0) -> str:
        return self._run(self._rx.sub, replacement, text, count=count)


def _leading_literal(pattern: str) -> tuple[str, bool]:
    """(the literal characters a translated pattern starts with, whether they are the whole pattern). A character
    followed by a quantifier may be absent from a match, so it is not part of the prefix."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n or pattern[i + 1].isalnum():  # \d, \b, \x41, \1...: a class, an anchor or a number
                return "".join(out), False
            out.append(pattern[i + 1])
            i += 2
        elif c in ".^$[](){}*+?|":
            if c in "*+?{" and out:
                out.pop()
            return "".join(out), False
        else:
            out.append(c)
            i += 1
    return "".join(out), True


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


def compile_perl(
    pattern: str, flags: str = "", *, what: str = "regular expression", option: str = ""
) -> BoundedPattern:
    """Compile a Perl regex; `what` names the option in the error message, `option` (default: `what` without
    its dashes) in the over-budget one."""
    bits = 0
    for f in flags:
        if f not in _FLAGS:
            raise CheckError(f"Invalid regular expression flag '{echo(f)}' in {what}.")
        bits |= _FLAGS[f]
    translated = translate(pattern)
    repetitions = 1
    for m in _COUNTED.finditer(translated):
        repetitions *= max(int(m.group(1)), int(m.group(2) or 0), 1)
        if repetitions > MAX_REPETITIONS:
            raise CheckError(
                f"Invalid regular expression in {what} '{echo(pattern)}': counted repetitions multiply to more "
                f"than {MAX_REPETITIONS}."
            )
    linear = without_repetition(translated)
    if linear:
        # Nothing to bound, so no need for `regex`'s timeouts: the standard engine, which `regex`'s VERSION0
        # follows, spares a plugin process the ~15 ms import (default patterns like filter-counters' are
        # of this kind). What `re` does not know (\K, \h, possessive forms...) goes to `regex` below.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # re's FutureWarning on a '[[' set: `regex` decides those
                return BoundedPattern(re.compile(translated, bits), option or what.lstrip("-"), True)
        except (re.error, OverflowError, RecursionError, FutureWarning):
            pass
    import regex

    try:
        rx = regex.compile(translated, bits | regex.VERSION0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise CheckError(f"Invalid regular expression in {what} '{echo(pattern)}': {exc}.") from None
    return BoundedPattern(rx, option or what.lstrip("-"), linear)
