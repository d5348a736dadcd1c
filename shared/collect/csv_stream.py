"""Stream-parse a Graph CSV report by header name.

Handles what the service really sends: a UTF-8 BOM, CRLF or LF, blank cells, columns reordered or added
over time, header names with stray whitespace. Bodies that are not the report (an HTML error page, a cut
download) are refused with a reason instead of yielding partial data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import IO, Any

from shared.collect.catalog import Dataset, Kind

CONCEALED = re.compile(r"^[0-9A-F]{32}$")
REFRESH_DATE = "Report Refresh Date"


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
        try:
            yield from self._rows()
        except csv.Error as exc:
            raise ReportFormatError(f"{self.report.function}: malformed CSV ({exc}); truncated download?") from None

    def _rows(self) -> Iterator[list]:
        # One list comprehension per row over (cell, is-a-count) pairs: the per-cell loop with its Kind
        # comparisons and appends cost ~3x what csv.reader itself does.
        index, width = self._index, self._width
        counts = [kind is Kind.INT for kind in self._kinds]
        identity, refresh = self._identity, self._refresh
        for line_no, cells in enumerate(self._reader, start=2):
            if not cells:
                continue
            if len(cells) < width:
                raise ReportFormatError(
                    f"{self.report.function}: line {line_no} has {len(cells)} of {width} cells (truncated download?)"
                )
            try:
                row: list[Any] = [
                    (int(value) if value.strip() else None) if count else value.strip()
                    for value, count in zip([cells[i] for i in index], counts, strict=True)
                ]
            except ValueError:
                raise self._not_a_number(cells, line_no) from None
            if self.row_count == 0 and refresh is not None:
                self.refresh_date = cells[refresh].strip()
            if not self.concealed and CONCEALED.match(row[identity]):
                self.concealed = True
            self.row_count += 1
            yield row

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
