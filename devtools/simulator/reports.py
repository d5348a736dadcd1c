"""The reports family: report requests (302 to a download link), throttling, and the CSV downloads."""

from __future__ import annotations

import collections
import datetime as dt
import io
import re
import secrets
import tempfile
import time
from typing import IO, Any

from .tenants import PERIODS, REPORT_FUNCTIONS, SampleTenant, report_csv
from .wire import DOWNLOAD_PATH, Download, Grant, Reply, redact_path

DEFAULT_DOWNLOAD_TTL = 300.0  # "valid for a short period of time (a few minutes)"
DATE_WINDOW_DAYS = 28  # what the service enforces, although the docs say 30


class ReportEndpoints:
    """GraphSimulator's report and download routes (a mixin: the state lives on GraphSimulator)."""

    def _report(self, tenant: SampleTenant, grant: Grant, function: str, args: str, path: str, headers: Any) -> Reply:
        not_found = f"Resource not found for the segment '{function}'."
        if function not in REPORT_FUNCTIONS:
            return self._graph_error(400, "BadRequest", not_found, headers)
        period_match = re.fullmatch(r"period='([^']*)'", args)
        date_match = re.fullmatch(r"date=([^,']*)", args)
        period_or_date: str | dt.date
        if period_match:
            period_or_date = period_match.group(1)
            if period_or_date not in PERIODS:
                # No capture of the real message for a bad period value exists: this one is made up.
                return self._graph_error(
                    400, "BadRequest", f"Invalid period value specified: {period_or_date}.", headers
                )
        elif date_match and REPORT_FUNCTIONS[function]:
            raw = date_match.group(1)
            try:
                day = dt.date.fromisoformat(raw)
            except ValueError:
                return self._graph_error(400, "BadRequest", f"Invalid date value specified: {raw}.", headers)
            age = (tenant.today - day).days
            if not 0 <= age <= DATE_WINDOW_DAYS:
                return self._graph_error(
                    400,
                    "InvalidArgument",
                    f"Invalid date value specified: {raw}. Only support data for the past 28 days.",
                    headers,
                )
            period_or_date = day
        else:
            # No such overload (e.g. a date on getMailboxUsageDetail): OData cannot resolve the segment.
            return self._graph_error(400, "BadRequest", not_found, headers)

        retry_after = self._throttle_check(
            grant, tenant, function, self.throttle_limit, self.throttle_window, self.tenant_throttle_limit
        )
        if retry_after is not None:
            return self._too_many_requests(retry_after, headers)

        options = self._render_options(tenant)
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            # Purge expired links here so the table never grows in long runs.
            for key in [k for k, d in self._downloads.items() if d.expires_at < now]:
                del self._downloads[key]
            self._downloads[token] = Download(tenant, function, period_or_date, options, path, now + self.download_ttl)
        location = f"{self.download_endpoint}/data/download/{token}"
        return Reply(302, b"", "text/plain", [("Location", location)])

    def _render_options(self, tenant: SampleTenant) -> dict[str, bool]:
        """How this tenant's CSV bodies are rendered now (the simulator's options, the tenant's own overrides)."""
        with self._lock:
            concealed = self._concealed[tenant.tenant_id]
        return {
            "crlf": self.crlf if tenant.crlf is None else tenant.crlf,
            "reorder": self.reorder_columns if tenant.reorder_columns is None else tenant.reorder_columns,
            "extra_columns": self.extra_columns if tenant.extra_columns is None else tenant.extra_columns,
            "concealed": concealed,
        }

    def prerender(self, tenants: list[SampleTenant] | None = None) -> int:
        """Render into the cache (render_cache_mb) every CSV body a collection of these tenants (default: all)
        downloads: each report's D7 form and, for reports with one, its daily form at the Report Refresh Date. A
        benchmark calls it before its clock starts, so the simulator's CSV generation (most of its CPU) does not
        compete with the system under test; what is served stays byte for byte the same. Returns the bytes held."""
        if not self.render_cache_bytes:
            raise RuntimeError("prerender needs a render cache (render_cache_mb)")
        for tenant in self.tenants if tenants is None else tenants:
            options = self._render_options(tenant)
            for function, daily in REPORT_FUNCTIONS.items():
                forms: list[str | dt.date] = ["D7", tenant.report_refresh_date] if daily else ["D7"]
                for form in forms:
                    self._render(Download(tenant, function, form, options, "", 0.0)).close()
        with self._lock:
            return self._rendered_bytes

    def _throttle_check(
        self,
        grant: Grant,
        tenant: SampleTenant,
        function: str,
        limit: int | None,
        span: float,
        tenant_limit: int | None = None,
    ) -> int | None:
        """Sliding windows per (app, tenant, report or API) and, with `tenant_limit`, per (tenant, report) for
        all apps; returns Retry-After seconds when either is full."""
        caps = [
            ((grant.client_id, tenant.tenant_id, function), limit),
            (("*", tenant.tenant_id, function), tenant_limit),
        ]
        active = [(key, cap) for key, cap in caps if cap is not None]
        if not active:
            return None
        now = time.monotonic()
        with self._lock:
            windows = []
            waits = []
            for key, cap in active:
                window = self._windows.setdefault(key, collections.deque())
                while window and window[0] <= now - span:
                    window.popleft()
                if len(window) >= cap:
                    waits.append(max(1, int(window[0] + span - now + 0.999)))
                windows.append(window)
            if waits:
                # Only accepted requests are counted, so Retry-After stays exact for a well-behaved client.
                return max(waits)
            for window in windows:
                window.append(now)
        return None

    def _handle_download(self, method: str, path: str, headers: Any) -> Reply:
        match = DOWNLOAD_PATH.fullmatch(path)
        if method != "GET" or not match:
            return Reply(404, b"Not Found", "text/plain")
        now = time.time()
        with self._lock:
            download = self._downloads.get(match.group(1))
        if download is None or download.expires_at < now:
            return Reply(404, b"The download link is invalid or has expired.", "text/plain")
        tenant = download.tenant
        fault = self._faults.take(
            paths=(redact_path(path), download.origin_path), tenant_keys=self._tenant_keys(tenant), download=True
        )
        if fault is not None:
            if fault.kind == "not_csv":
                return Reply(200, b"<html>Bad gateway</html>", "text/html")
            reply = self._fault_reply(fault, headers)
            if reply is not None:
                return reply
        content = self._render(download)
        size = content.seek(0, 2)
        announced = size
        kind = fault.kind if fault is not None else ""
        if kind == "truncated":
            size = self._truncation_point(content, size)
        elif kind in ("cut_line", "cut_cell"):
            size = self._cut_point(content, size, inside_last_cell=kind == "cut_cell")
        elif kind == "header_only":
            content.seek(0)
            size = content.read().find(b"\n") + 1 or size
        elif kind == "dropped":
            size = max(1, size // 2)
        if kind != "dropped":
            announced = size  # a server that cut the body itself announces the cut length
        content.seek(0)
        return Reply(
            200,
            content_type="application/octet-stream",
            stream=_Limited(content, size),
            stream_length=announced,
            drop=kind == "dropped",
        )

    @staticmethod
    def _cut_point(content: IO[bytes], size: int, *, inside_last_cell: bool) -> int:
        """A length that ends the body about halfway, right after a line ending (`cut_line`), or inside the last
        cell of that line (`cut_cell`: the last row keeps every cell, only its last value is short)."""
        content.seek(0)
        body = content.read()
        end = body.find(b"\n", size // 2)
        if end < 0:
            end = body.rfind(b"\n", 0, max(0, size - 1))
        if end < 0:
            return size
        if not inside_last_cell:
            return end + 1
        line_end = end - 1 if body[end - 1 : end] == b"\r" else end
        comma = body.rfind(b",", 0, line_end)
        return comma + 1 + (line_end - comma - 1) // 2

    def _render(self, download: Download) -> IO[bytes]:
        # The refresh date is in the key: a tenant whose reports follow the clock ("today minus 2 days") renders
        # new D7 bodies once the day turns.
        key = (
            download.tenant,
            download.function,
            str(download.period_or_date),
            download.tenant.report_refresh_date,
            tuple(sorted(download.options.items())),
        )
        if self.render_cache_bytes:
            with self._lock:
                cached = self._rendered.get(key)
                if cached is not None:
                    self._rendered.move_to_end(key)
                    return io.BytesIO(cached)
        # Spooled: small reports stay in memory, a 200k-user report goes to a temp file instead of RAM.
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # closed by the handler after sending
        out.write(b"\xef\xbb\xbf")
        for chunk in report_csv(download.tenant, download.function, download.period_or_date, **download.options):
            out.write(chunk.encode("utf-8"))
        if self.render_cache_bytes:
            out.seek(0)
            body = out.read()
            with self._lock:
                if key not in self._rendered:
                    self._rendered[key] = body
                    self._rendered_bytes += len(body)
                # A running total: summing the cache on every insert was quadratic in the bodies held.
                while self._rendered_bytes > self.render_cache_bytes:
                    _, dropped = self._rendered.popitem(last=False)
                    self._rendered_bytes -= len(dropped)
        return out

    @staticmethod
    def _truncation_point(content: IO[bytes], size: int) -> int:
        """A length that cuts the body in the middle of a line (never right after a newline)."""
        cut = max(4, size // 2)
        content.seek(cut - 1)
        last_kept, first_dropped = content.read(2).ljust(2, b"\0")
        # Step back over a line ending so the last line really is cut short, and off a UTF-8 continuation
        # byte so a parser meets a short row rather than a decoding error.
        while cut > 4 and (last_kept in b"\r\n" or 0x80 <= first_dropped < 0xC0):
            cut -= 1
            content.seek(cut - 1)
            last_kept, first_dropped = content.read(2)
        return cut


class _Limited:
    """File wrapper that reads at most `limit` bytes: how a truncated download is served."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._inner.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._inner.close()
