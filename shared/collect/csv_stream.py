"""Stream-parse a Graph CSV report by header name.

Handles what the service really sends: a UTF-8 BOM, CRLF or LF, blank cells, columns reordered or added
over time, header names with stray whitespace. Bodies that are not the report (an HTML error page, a cut
download) are refused with a reason instead of yielding partial data.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

from shared.collect.catalog import Dataset, Kind

CONCEALED = re.compile(r"^[0-9A-F]{32}$")
REFRESH_DATE = "Report Refresh Date"
BATCH_ROWS = 1000


def _converter(index: list[int], kinds: list[Kind]) -> Callable[[list[str]], list]:
    """A function turning a row's cells into the stored row: one list display over precompiled per-column
    expressions, generated once per report (the per-cell loop with its Kind comparisons, and even a comprehension
    over (cell, kind) pairs, cost 3-4x what csv.reader itself does per row).

    A count cell: `int(cell)` when not empty (int() ignores surrounding whitespace as .strip() does), so a cell of
    blanks, or one that is not a number, raises ValueError: the caller converts that row the slow way, which stores
    None for blanks and names the column that is not a number."""
    items = [
        f"int(c[{i}]) if c[{i}] else None" if kind is Kind.INT else f"c[{i}].strip()"
        for i, kind in zip(index, kinds, strict=True)
    ]
    # Only column positions and fixed expressions go into the source: nothing from the report's bytes.
    source = f"def convert(c):\n    return [{', '.join(items)}]\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<csv row converter>", "exec"), {"int": int}, namespace)
    return cast(Callable[[list[str]], list], namespace["convert"])


class ReportFormatError(Exception):
    pass


class ParsedReport:
    """Rows (lists in `report.columns` order) produced lazily; `concealed` is known after iteration."""

    def __init__(self, report: Dataset, body: bytes | IO[bytes]) -> None:
        self.report = report
        self.columns = list(report.columns)
        self.concealed = False
        self.row_count = 0
        raw = io.BytesIO(body) if isinstance(body, bytes | bytearray) else body
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text)
        try:
            header = next(self._reader)
        except StopIteration:
            raise ReportFormatError(f"{report.function}: empty body, not a CSV report") from None
        except UnicodeDecodeError:
            raise ReportFormatError(f"{report.function}: body is not UTF-8 text") from None
        # Whitespace is normalised: a real Teams header reads "Used  Chrome OS" (two spaces).
        names = [" ".join(h.split()) for h in header]
        missing = [c for c in self.columns if c not in names]
        if missing:
            start = ",".join(header)[:60]
            raise ReportFormatError(
                f"{report.function}: not the expected CSV report (missing columns {missing}; body starts {start!r})"
            )
        self._index = [names.index(c) for c in self.columns]
        self._kinds = [report.columns[c] for c in self.columns]
        self._width = len(names)
        self._identity = self.columns.index(report.identity_column)
        self._refresh = names.index(REFRESH_DATE) if REFRESH_DATE in names else None
        self.refresh_date = ""

    def __iter__(self) -> Iterator[list]:
        for batch in self.batches():
            yield from batch

    def batches(self, size: int = BATCH_ROWS) -> Iterator[list[list]]:
        """The rows in lists of up to `size`: the collector feeds its summaries and its snapshot a list at a time,
        which saves a generator step and a few calls per row at every stage."""
        try:
            yield from self._batches(size)
        except csv.Error as exc:
            raise ReportFormatError(f"{self.report.function}: malformed CSV ({exc}); truncated download?") from None

    def _batches(self, size: int) -> Iterator[list[list]]:
        convert = _converter(self._index, self._kinds)
        reader, width, identity, refresh = self._reader, self._width, self._identity, self._refresh
        line_no = 1
        exhausted = False
        while not exhausted:
            batch: list[list] = []
            append = batch.append
            read = 0
            for cells in itertools.islice(reader, size):
                read += 1
                line_no += 1
                if len(cells) < width:
                    if not cells:
                        continue
                    raise ReportFormatError(
                        f"{self.report.function}: line {line_no} has {len(cells)} of {width} cells "
                        "(truncated download?)"
                    )
                try:
                    row = convert(cells)
                except ValueError:
                    row = self._checked_row(cells, line_no)
                if refresh is not None and self.row_count == 0 and not batch:
                    self.refresh_date = cells[refresh].strip()
                append(row)
            exhausted = read < size
            if batch:
                if not self.concealed:
                    # A concealed name is 32 hex digits: the length test spares the regex almost every row.
                    self.concealed = any(len(r[identity]) == 32 and CONCEALED.match(r[identity]) for r in batch)
                self.row_count += len(batch)
                yield batch

    def _checked_row(self, cells: list[str], line_no: int) -> list:
        """A row the fast converter refused (a count cell of blanks, or not a number): converted cell by cell, as
        the report format says, or refused naming the column."""
        row: list[Any] = []
        for i, kind in zip(self._index, self._kinds, strict=True):
            value = cells[i]
            if kind is not Kind.INT:
                row.append(value.strip())
            elif not value.strip():
                row.append(None)
            else:
                try:
                    row.append(int(value))
                except ValueError:
                    raise self._not_a_number(cells, line_no) from None
        return row

    def _not_a_number(self, cells: list[str], line_no: int) -> ReportFormatError:
        for column, i, kind in zip(self.columns, self._index, self._kinds, strict=True):
            value = cells[i].strip()
            if kind is Kind.INT and value:
                try:
                    int(value)
                except ValueError:
                    return ReportFormatError(
                        f"{self.report.function}: line {line_no}: {column!r} is not a number: {value[:30]!r}"
                    )
        return ReportFormatError(f"{self.report.function}: line {line_no}: a count is not a number")
