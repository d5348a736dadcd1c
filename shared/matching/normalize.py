"""Normalization used by every rule: case, accents, punctuation, legal suffixes (organizations)."""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose into ASCII + combining mark.
_TRANSLITERATE = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d",
     "Đ": "D", "þ": "th", "ð": "d", "ı": "i"}
)  # fmt: skip
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Legal-form words dropped at the end of an organization name ("Contoso Pty Ltd" -> "contoso").
LEGAL_SUFFIXES = frozenset(
    "ltd limited inc incorporated llc llp lp plc corp corporation co company gmbh mbh ag kg ohg ug sarl sas sasu "
    "sa eurl sci scop bv nv vof pty pte srl spa sl slu oy ab as asa aps kk sro zoo sp".split()
)


def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces: 'Søren  O'Brien-Müller' -> 'soren o brien muller'."""
    if text.isascii():
        return " ".join(_NON_ALNUM.split(text.lower())).strip()
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_ALNUM.split(text.lower())).strip()


def organization_name(name: str) -> str:
    words = fold(name).split()
    # "S.A.R.L." folds to "s a r l": rejoin runs of single letters first.
    joined: list[str] = []
    run = False
    for w in words:
        if len(w) == 1 and run:
            joined[-1] += w
        else:
            joined.append(w)
        run = len(w) == 1
    words = joined
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def person_name(first: str, last: str) -> str:
    """'first last' folded, or '' unless both parts are present (a lone first name matches nobody)."""
    f, la = fold(first or ""), fold(last or "")
    return f"{f} {la}" if f and la else ""


def email(address: str) -> str:
    return (address or "").strip().lower()
