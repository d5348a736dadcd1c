"""Local runner (`o365mon serve`): drives the functions registered on `function_app.app` without Core Tools.

It reads the bindings the decorators registered (`app.get_functions()`) and calls the same user functions the
Functions host would call:

* HTTP triggers on a stdlib ThreadingHTTPServer (127.0.0.1, HTTP/1.1 keep-alive, Nagle off) under
  `/<routePrefix>/<route>` (host.json `extensions.http.routePrefix`, default `api`), with Azure's key rules:
  `anonymous` needs no key, `function` takes the function or the master key, `admin` only the master key
  (`?code=` or `x-functions-key`); a missing or wrong key is a 401 with an empty body.
  `POST /admin/functions/<name>` (master key) runs a timer or queue function once, as the host does.
  Client-sent `X-MS-CLIENT-PRINCIPAL*` headers are dropped, as App Service drops them; with `dev_sign_in` the
  runner also stands in for App Service Authentication (devtools/dev_sign_in.py) and sets WEBSITE_AUTH_ENABLED.
* Timer triggers: six-field NCRONTAB (`%SETTING%` resolved from the environment), UTC, `runOnStartup`.
* Queue triggers: poll the queue of the binding's connection (Azurite) with host.json `extensions.queues`
  semantics: Base64 messages (unless `messageEncoding` is `none`), `batchSize` and `newBatchThreshold` (at most
  their sum running at once), `maxDequeueCount`,
  `visibilityTimeout` on failure, and `<queue>-poison` after the last failed attempt.

Only trigger bindings are served; other bindings (table/queue outputs, ...) are reported at start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import concurrent.futures
import hmac
import inspect
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func

from devtools import ncrontab
from devtools.dev_sign_in import DevSignIn
from shared.console.auth import PLATFORM_AUTH_SETTING

REPO_ROOT = Path(__file__).resolve().parent.parent
KEYS_FILE = REPO_ROOT / ".local" / "keys.json"
DEFAULT_CONNECTION = "AzureWebJobsStorage"
DEFAULT_VISIBILITY_TIMEOUT = 2.0  # seconds before a failed message is retried (local default)
DEFAULT_MAX_POLL = 1.0
QUEUE_LEASE = 60  # seconds a received message stays invisible; renewed while the function runs

log = logging.getLogger("o365mon.runner")
access_log = logging.getLogger("o365mon.runner.access")

_SECRET_QUERY = re.compile(r"(?i)([?&](?:code|sig)=)[^&#\s]*")
_SETTING_REF = re.compile(r"%([^%]+)%")


def redact(text: str) -> str:
    """Hide `code=` (and SAS `sig=`) query values in anything that is logged."""
    return _SECRET_QUERY.sub(r"\1REDACTED", text)


def resolve_setting_refs(value: str) -> str:
    """Replace `%NAME%` with the environment value, as the host does for binding expressions."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise LookupError(f"app setting {name!r} (referenced as %{name}%) is not set")
        return os.environ[name]

    return _SETTING_REF.sub(repl, value)


def parse_timespan(value: Any, default: float) -> float:
    """host.json TimeSpan (`hh:mm:ss[.fff]`, `d.hh:mm:ss`) or a number of seconds -> seconds."""
    if value is None or value == "":
        return default
    if isinstance(value, int | float):
        return float(value)
    m = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)", str(value).strip())
    if not m:
        raise ValueError(f"not a TimeSpan: {value!r}")
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


# ---------------------------------------------------------------------------------------------------------
# Binding objects the host would construct
# ---------------------------------------------------------------------------------------------------------
class LocalTimerRequest(func.TimerRequest):
    """The `TimerRequest` handed to timer functions (the SDK class is abstract)."""

    def __init__(self, *, past_due: bool = False, schedule_status: dict[str, Any] | None = None) -> None:
        self._past_due = past_due
        self.schedule_status = schedule_status or {}

    @property
    def past_due(self) -> bool:
        return self._past_due


class LocalQueueMessage(func.QueueMessage):
    """`func.QueueMessage` plus the metadata the host fills in (dequeue count, times)."""

    def __init__(
        self,
        *,
        id: str | None,  # `id`: the SDK's name
        body: bytes,
        pop_receipt: str | None,
        dequeue_count: int | None = None,
        insertion_time: datetime | None = None,
        expiration_time: datetime | None = None,
        time_next_visible: datetime | None = None,
    ) -> None:
        super().__init__(id=id, body=body, pop_receipt=pop_receipt)
        self._dequeue_count = dequeue_count
        self._insertion_time = insertion_time
        self._expiration_time = expiration_time
        self._time_next_visible = time_next_visible

    @property
    def dequeue_count(self) -> int | None:
        return self._dequeue_count

    @property
    def insertion_time(self) -> datetime | None:
        return self._insertion_time

    @property
    def expiration_time(self) -> datetime | None:
        return self._expiration_time

    @property
    def time_next_visible(self) -> datetime | None:
        return self._time_next_visible


class LocalContext(func.Context):
    """The `context` argument, for functions that declare one."""

    def __init__(self, function_name: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return str(REPO_ROOT)

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return threading.local()


# ---------------------------------------------------------------------------------------------------------
# Function discovery
# ---------------------------------------------------------------------------------------------------------
def _enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


@dataclass
class FunctionInfo:
    name: str
    user_function: Callable[..., Any]
    trigger_type: str
    trigger_arg: str
    settings: dict[str, Any]
    other_bindings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.user_function)

    @property
    def wants_context(self) -> bool:
        try:
            return "context" in inspect.signature(self.user_function).parameters
        except (TypeError, ValueError):
            return False


def discover(app: func.FunctionApp) -> list[FunctionInfo]:
    """The app's functions with their trigger binding settings (as in function.json)."""
    found: list[FunctionInfo] = []
    # get_functions() records names to refuse duplicates, so a second call on the same app (a second runner
    # in one process, as in tests and benchmarks) would fail: start from a clean record, as the host does.
    app.functions_bindings = {}
    for function in app.get_functions():
        trigger: dict[str, Any] | None = None
        others: list[dict[str, Any]] = []
        for binding in function.get_bindings():
            raw = binding.get_dict_repr()
            data = {k: _enum_value(v) for k, v in raw.items()}
            if isinstance(raw.get("methods"), list):
                data["methods"] = [str(_enum_value(m)).upper() for m in raw["methods"]]
            btype = str(data.get("type", ""))
            if btype.endswith("Trigger") and trigger is None:
                trigger = data
            elif btype == "http" and data.get("name") == "$return":
                continue  # the HTTP response: the return value
            else:
                others.append(data)
        if trigger is None:
            log.warning("function %s has no trigger binding; skipped", function.get_function_name())
            continue
        found.append(
            FunctionInfo(
                name=function.get_function_name(),
                user_function=function.get_user_function(),
                trigger_type=str(trigger["type"]),
                trigger_arg=str(trigger.get("name")),
                settings=trigger,
                other_bindings=others,
            )
        )
    return found


# ---------------------------------------------------------------------------------------------------------
# HTTP routes
# ---------------------------------------------------------------------------------------------------------
_PARAM = re.compile(r"\{([^{}]+)\}")
# The one constraint a route of this app or its tests uses; others would need adding here.
_CONSTRAINTS = {"int": r"-?\d+"}


@dataclass
class HttpRoute:
    function: FunctionInfo
    template: str
    methods: frozenset[str] | None
    auth_level: str
    regex: re.Pattern[str]
    literal_segments: int
    catch_all: bool

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.fullmatch(path)
        if m is None:
            return None
        return {k: unquote(v) for k, v in m.groupdict().items() if v is not None}


def compile_route(template: str, prefix: str = "api") -> tuple[re.Pattern[str], int, bool]:
    """Route template -> regex over the URL path (`{name}`, `{name?}`, `{name:int}`, `{*rest}`)."""
    parts = [p for p in (prefix.strip("/") + "/" + template.strip("/")).split("/") if p]
    pattern = ""
    literals = 0
    catch_all = False
    for segment in parts:
        if not _PARAM.search(segment):
            literals += 1
            pattern += "/" + re.escape(segment)
            continue
        whole = _PARAM.fullmatch(segment)
        if whole is None:  # `a{b}c`: no route mixes text and parameters in one segment
            raise ValueError(f"route {template!r}: a parameter must fill its whole segment")
        spec = whole.group(1)
        if spec.startswith("*"):
            name = spec.lstrip("*").split(":")[0].rstrip("?")
            pattern += f"(?:/(?P<{name}>.*))?"
            catch_all = True
            continue
        name, _, constraint = spec.partition(":")
        optional = name.endswith("?") or constraint.endswith("?")
        name = name.rstrip("?")
        regex = _CONSTRAINTS.get(constraint.rstrip("?").split("(")[0].lower(), r"[^/]+")
        pattern += f"(?:/(?P<{name}>{regex}))?" if optional else f"/(?P<{name}>{regex})"
    return re.compile(pattern + "/?", re.IGNORECASE), literals, catch_all


def _header_value(headers: Any, name: str) -> str | None:
    value = headers.get(name)
    return None if value is None else str(value)


# socketserver listens with a backlog of 5: a burst of pollers overflowed it and waited for the kernel's
# 1-second SYN retransmit.
LISTEN_BACKLOG = 128


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "o365mon-local"
    sys_version = ""
    runner: LocalRunner  # set on the per-runner subclass

    def _handle(self) -> None:
        started = time.monotonic()
        status = 500
        try:
            status = self.runner._dispatch(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away
        except Exception:  # a broken request must not kill the server
            log.error("request handling failed:\n%s", redact(traceback.format_exc()))
            self.close_connection = True
            try:
                status = self._send(500, b"")
            except OSError:
                pass
        finally:
            access_log.info(
                '%s "%s %s" %s %.1fms',
                self.client_address[0],
                self.command,
                redact(self.path),
                status,
                (time.monotonic() - started) * 1000,
            )

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537).split(b";")[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> int:
        self.send_response(status)
        for name, value in headers or []:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        return status

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle writes the (redacted) access log line

    def log_message(self, format: str, *args: Any) -> None:  # `format`: the stdlib signature
        access_log.debug(redact(format % args))


# ---------------------------------------------------------------------------------------------------------
# Queue polling
# ---------------------------------------------------------------------------------------------------------
@dataclass
class QueueOptions:
    batch_size: int = 16
    new_batch_threshold: int = 8  # fetch more once this few are still running (the host's: batchSize / 2)
    max_dequeue_count: int = 5
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
    max_polling_interval: float = DEFAULT_MAX_POLL
    base64: bool = True

    @classmethod
    def from_host_json(cls, host: dict[str, Any]) -> QueueOptions:
        q = (host.get("extensions") or {}).get("queues") or {}
        batch_size = max(1, min(32, int(q.get("batchSize", 16))))
        return cls(
            batch_size=batch_size,
            new_batch_threshold=max(0, int(q.get("newBatchThreshold", batch_size // 2))),
            max_dequeue_count=max(1, int(q.get("maxDequeueCount", 5))),
            visibility_timeout=parse_timespan(q.get("visibilityTimeout"), DEFAULT_VISIBILITY_TIMEOUT),
            # locally never wait longer than 2 s between polls, whatever Azure is configured with
            max_polling_interval=min(2.0, parse_timespan(q.get("maxPollingInterval"), DEFAULT_MAX_POLL)),
            base64=str(q.get("messageEncoding", "base64")).lower() != "none",
        )


class _Lease:
    """Keeps a received message invisible while its function runs; tracks the current pop receipt."""

    def __init__(self, client: Any, message: Any) -> None:
        self.client = client
        self.message_id = message.id
        self.pop_receipt = message.pop_receipt
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._renew, daemon=True, name=f"lease-{message.id}")
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(QUEUE_LEASE / 2):
            with self._lock:
                try:
                    updated = self.client.update_message(
                        self.message_id, self.pop_receipt, visibility_timeout=QUEUE_LEASE
                    )
                    self.pop_receipt = updated.pop_receipt
                except Exception as exc:
                    log.warning("could not renew the lease of message %s: %s", self.message_id, exc)
                    return

    def release(self) -> str:
        self._stop.set()
        self._thread.join()
        return self.pop_receipt


def queue_client(connection: str, queue_name: str, **kwargs: Any) -> Any:
    """A QueueClient for a binding's `connection`, resolved like the host does.

    `<connection>` (or `AzureWebJobs<connection>`) as a connection string (the SDK reads `UseDevelopmentStorage=true`
    as Azurite on its default ports), else identity-based `<connection>__queueServiceUri`.
    """
    from azure.storage.queue import QueueClient

    conn_str = (os.environ.get(connection) or os.environ.get(f"AzureWebJobs{connection}") or "").strip()
    if conn_str:
        return QueueClient.from_connection_string(conn_str, queue_name, **kwargs)
    uri = os.environ.get(f"{connection}__queueServiceUri", "").strip()
    if uri:
        from azure.identity import DefaultAzureCredential

        client_id = os.environ.get(f"{connection}__clientId") or None
        credential = DefaultAzureCredential(managed_identity_client_id=client_id)
        return QueueClient(uri, queue_name, credential=credential, **kwargs)
    raise LookupError(f"connection {connection!r}: set {connection} or {connection}__queueServiceUri")


# ---------------------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------------------
class LocalRunner:
    def __init__(
        self,
        app: func.FunctionApp,
        host_json: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        function_key: str,
        master_key: str,
        run_timers_at_start: bool = False,
        enable_timers: bool = True,
        enable_queues: bool = True,
        dev_sign_in: bool = False,
    ) -> None:
        if not function_key or not master_key:
            raise ValueError("function_key and master_key must be non-empty")
        self.app = app
        self.host_json: dict[str, Any] = {}
        if host_json is not None and Path(host_json).is_file():
            self.host_json = json.loads(Path(host_json).read_text(encoding="utf-8"))
        self.host = host
        self.port = port
        self._function_key = function_key
        self._master_key = master_key
        self.run_timers_at_start = run_timers_at_start
        self.enable_timers = enable_timers
        self.enable_queues = enable_queues
        self.dev_sign_in = DevSignIn() if dev_sign_in else None
        self._auth_setting_before: str | None = None
        self.queue_options = QueueOptions.from_host_json(self.host_json)
        http_ext = (self.host_json.get("extensions") or {}).get("http") or {}
        self.route_prefix = str(http_ext.get("routePrefix", "api"))

        self.functions = {f.name: f for f in discover(app)}
        self.routes: list[HttpRoute] = []
        self.timers: list[tuple[FunctionInfo, ncrontab.Schedule]] = []
        self.queues: list[FunctionInfo] = []
        self.errors: dict[str, str] = {}  # function -> why it is not running (like the host's errors)
        self._setup()

        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._started = False

    # -- setup ---------------------------------------------------------------------------------------
    def _disabled(self, name: str) -> bool:
        return os.environ.get(f"AzureWebJobs.{name}.Disabled", "").strip().lower() in ("true", "1")

    def _setup(self) -> None:
        for info in self.functions.values():
            if self._disabled(info.name):
                log.info("function %s is disabled (AzureWebJobs.%s.Disabled)", info.name, info.name)
                continue
            if info.other_bindings:
                kinds = ", ".join(f"{b.get('type')}:{b.get('name')}" for b in info.other_bindings)
                log.warning("function %s: bindings not supported by the local runner: %s", info.name, kinds)
            try:
                if info.trigger_type == "httpTrigger":
                    template = str(info.settings.get("route") or info.name)
                    regex, literals, catch_all = compile_route(template, self.route_prefix)
                    methods = info.settings.get("methods")
                    self.routes.append(
                        HttpRoute(
                            function=info,
                            template=template,
                            methods=frozenset(str(m).upper() for m in methods) if methods else None,
                            auth_level=str(info.settings.get("authLevel") or "function").lower(),
                            regex=regex,
                            literal_segments=literals,
                            catch_all=catch_all,
                        )
                    )
                elif info.trigger_type == "timerTrigger":
                    schedule = ncrontab.parse(resolve_setting_refs(str(info.settings["schedule"])))
                    self.timers.append((info, schedule))
                elif info.trigger_type == "queueTrigger":
                    self.queues.append(info)
                else:
                    raise ValueError(f"trigger type {info.trigger_type!r} is not supported locally")
            except (LookupError, ValueError) as exc:
                self.errors[info.name] = str(exc)
                log.error("function %s is not running: %s", info.name, exc)
        # Literal routes win over parameters, catch-alls come last (as in ASP.NET routing).
        self.routes.sort(key=lambda r: (r.catch_all, -r.literal_segments, -len(r.regex.pattern)))

    # -- invocation ----------------------------------------------------------------------------------
    def invoke(self, info: FunctionInfo, trigger_value: Any) -> Any:
        """Call a user function the way the worker does (sync in a thread, async on the shared loop)."""
        kwargs: dict[str, Any] = {info.trigger_arg: trigger_value}
        if info.wants_context and info.trigger_arg != "context":
            kwargs["context"] = LocalContext(info.name)
        if info.is_async:
            coro = info.user_function(**kwargs)
            loop = self._ensure_loop()
            return asyncio.run_coroutine_threadsafe(coro, loop).result()
        result = info.user_function(**kwargs)
        if inspect.isawaitable(result):
            return asyncio.run_coroutine_threadsafe(_await(result), self._ensure_loop()).result()
        return result

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, daemon=True, name="runner-asyncio")
            thread.start()
            self._loop, self._loop_thread = loop, thread
        return self._loop

    # -- HTTP ----------------------------------------------------------------------------------------
    def _key_ok(self, presented: str | None, level: str) -> bool:
        if level == "anonymous":
            return True
        if not presented:
            return False
        given = presented.encode()
        if hmac.compare_digest(given, self._master_key.encode()):
            return True
        return level == "function" and hmac.compare_digest(given, self._function_key.encode())

    def _dispatch(self, handler: _Handler) -> int:
        split = urlsplit(handler.path)
        path = split.path or "/"
        query = parse_qsl(split.query, keep_blank_values=True)
        params: dict[str, str] = {}
        for k, v in query:
            params.setdefault(k, v)
        presented = handler.headers.get("x-functions-key") or params.get("code")

        admin = re.fullmatch(r"/admin/functions/([^/]+)/?", path, re.IGNORECASE)
        if admin:
            return self._admin_invoke(handler, admin.group(1), presented)
        if self.dev_sign_in is not None:
            answered = self._dev_auth(handler, path, split.query)
            if answered is not None:
                return answered

        matched: list[tuple[HttpRoute, dict[str, str]]] = []
        for route in self.routes:
            route_params = route.match(path)
            if route_params is not None:
                matched.append((route, route_params))
        if not matched:
            handler.read_body()
            return handler._send(404, b"")
        method = handler.command.upper()
        chosen = next(((r, p) for r, p in matched if r.methods is None or method in r.methods), None)
        if chosen is None:
            handler.read_body()
            allowed = sorted({m for r, _ in matched for m in (r.methods or ())})
            return handler._send(405, b"", [("Allow", ", ".join(allowed))])
        route, route_params = chosen
        body = handler.read_body()
        if not self._key_ok(presented, route.auth_level):
            return handler._send(401, b"")

        headers: dict[str, str] = {}
        for name, value in handler.headers.items():
            key = name.lower()
            if key.startswith("x-ms-client-principal"):  # only the platform sets these
                continue
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if self.dev_sign_in is not None:
            headers.update(self.dev_sign_in.principal_headers(handler.headers.get("Cookie")))
        host_header = handler.headers.get("Host") or f"{self.host}:{self.port}"
        request = func.HttpRequest(
            method=method,
            url=f"http://{host_header}{handler.path}",
            headers=headers,
            params=params,
            route_params=route_params,
            body=body,
        )
        try:
            result = self.invoke(route.function, request)
        except Exception:  # the host turns any exception into a 500
            log.error("function %s failed:\n%s", route.function.name, redact(traceback.format_exc()))
            return handler._send(500, b"")
        return self._send_result(handler, result)

    def _dev_auth(self, handler: _Handler, path: str, query: str) -> int | None:
        """The /.auth/* endpoints and the sign-in gate of the dev sign-in; None lets the request through."""
        assert self.dev_sign_in is not None
        method = handler.command.upper()
        if path.lower().startswith("/.auth/"):
            body = handler.read_body()
            answer = self.dev_sign_in.handle(method, path, query, body, handler.headers)
            if answer is None:
                return handler._send(404, b"")
            return handler._send(answer.status, answer.body, answer.headers)
        gate = self.dev_sign_in.gate(method, path, handler.headers)
        if gate is None:
            return None
        handler.read_body()
        return handler._send(gate.status, gate.body, gate.headers)

    @staticmethod
    def _send_result(handler: _Handler, result: Any) -> int:
        if result is None:
            return handler._send(204, b"")
        if isinstance(result, str | bytes):
            body = result.encode("utf-8") if isinstance(result, str) else result
            return handler._send(200, body, [("Content-Type", "text/plain; charset=utf-8")])
        if not isinstance(result, func.HttpResponse):
            raise TypeError(f"HTTP function returned {type(result).__name__}, expected func.HttpResponse")
        headers = [(k, v) for k, v in result.headers.items()]
        if not any(k.lower() == "content-type" for k, _ in headers):
            content_type = result.mimetype or "text/plain"
            if result.charset:
                content_type += f"; charset={result.charset}"
            headers.append(("Content-Type", content_type))
        return handler._send(result.status_code, result.get_body() or b"", headers)

    def _admin_invoke(self, handler: _Handler, name: str, presented: str | None) -> int:
        body = handler.read_body()
        if not self._key_ok(presented, "admin"):
            return handler._send(401, b"")
        info = next((f for f in self.functions.values() if f.name.lower() == name.lower()), None)
        if info is None or handler.command.upper() != "POST":
            return handler._send(404 if info is None else 405, b"")
        try:
            payload = json.loads(body or b"{}")
            raw_input = str(payload.get("input", "")) if isinstance(payload, dict) else ""
        except ValueError:
            return handler._send(400, b"")
        if info.trigger_type == "timerTrigger":
            value: Any = LocalTimerRequest(past_due=False)
        elif info.trigger_type == "queueTrigger":
            value = LocalQueueMessage(
                id=str(uuid.uuid4()), body=raw_input.encode("utf-8"), pop_receipt=None, dequeue_count=1
            )
        else:
            return handler._send(400, b"")
        threading.Thread(target=self._run_logged, args=(info, value), daemon=True, name=f"admin-{info.name}").start()
        return handler._send(202, b"")

    def _run_logged(self, info: FunctionInfo, value: Any) -> bool:
        try:
            self.invoke(info, value)
            return True
        except Exception:
            log.error("function %s failed:\n%s", info.name, redact(traceback.format_exc()))
            return False

    # -- timers --------------------------------------------------------------------------------------
    def _timer_loop(self, info: FunctionInfo, schedule: ncrontab.Schedule) -> None:
        if self.run_timers_at_start or info.settings.get("runOnStartup"):
            log.info("timer %s: running at start", info.name)
            self._run_logged(info, LocalTimerRequest(past_due=False))
        while not self._stop.is_set():
            due = schedule.next_after(datetime.now(UTC))
            log.info("timer %s: next run %s", info.name, due.isoformat())
            while not self._stop.is_set():
                remaining = (due - datetime.now(UTC)).total_seconds()
                if remaining <= 0:
                    break
                self._stop.wait(min(remaining, 60.0))
            if self._stop.is_set():
                return
            late = (datetime.now(UTC) - due).total_seconds()
            self._run_logged(
                info,
                LocalTimerRequest(
                    past_due=late > 1.0,
                    schedule_status={"Last": due.isoformat(), "Next": schedule.next_after(due).isoformat()},
                ),
            )

    # -- queues --------------------------------------------------------------------------------------
    def _queue_clients(self, info: FunctionInfo) -> tuple[Any, Any, str]:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue import TextBase64EncodePolicy

        connection = str(info.settings.get("connection") or DEFAULT_CONNECTION)
        queue_name = resolve_setting_refs(str(info.settings["queueName"])).lower()
        encode = TextBase64EncodePolicy() if self.queue_options.base64 else None
        # Receive the raw text and decode each message here (not with TextBase64DecodePolicy): one message
        # that is not Base64 must fail alone, as in the host, not break the receive of the whole batch.
        client = queue_client(connection, queue_name, message_encode_policy=encode)
        # The poison copy is sent as received (raw), so it stays byte-identical to the original.
        poison = queue_client(connection, f"{queue_name}-poison")
        try:
            client.create_queue()
        except ResourceExistsError:
            pass
        return client, poison, queue_name

    def _decode(self, content: Any) -> bytes:
        text = content if isinstance(content, str) else (content or b"").decode("utf-8")
        if not self.queue_options.base64:
            return text.encode("utf-8")
        return base64.b64decode(text.encode("ascii"), validate=True)

    def _to_poison(self, client: Any, poison: Any, queue: str, message: Any, pop_receipt: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            poison.create_queue()
        except ResourceExistsError:
            pass
        # Like the host: the poison copy carries the original text unchanged (still Base64-encoded).
        poison.send_message(message.content)
        client.delete_message(message.id, pop_receipt)
        log.warning("queue %s: message %s moved to %s-poison", queue, message.id, queue)

    def _process_message(self, info: FunctionInfo, client: Any, poison: Any, queue: str, message: Any) -> None:
        opts = self.queue_options
        dequeue_count = int(message.dequeue_count or 1)
        lease = _Lease(client, message)
        ok = False
        try:
            if dequeue_count > opts.max_dequeue_count:
                pop_receipt = lease.release()
                self._to_poison(client, poison, queue, message, pop_receipt)
                return
            try:
                body = self._decode(message.content)
            except (binascii.Error, ValueError, UnicodeError) as exc:
                log.error(
                    "queue %s: message %s is not valid %s (%s); did the sender use TextBase64EncodePolicy?",
                    queue,
                    message.id,
                    "Base64" if opts.base64 else "UTF-8",
                    exc,
                )
            else:
                value = LocalQueueMessage(
                    id=message.id,
                    body=body,
                    pop_receipt=message.pop_receipt,
                    dequeue_count=dequeue_count,
                    insertion_time=message.inserted_on,
                    expiration_time=message.expires_on,
                    time_next_visible=message.next_visible_on,
                )
                ok = self._run_logged(info, value)
        finally:
            pop_receipt = lease.release()
        if ok:
            client.delete_message(message.id, pop_receipt)
        elif dequeue_count >= opts.max_dequeue_count:
            self._to_poison(client, poison, queue, message, pop_receipt)
        else:
            client.update_message(message.id, pop_receipt, visibility_timeout=int(round(opts.visibility_timeout)))

    def _queue_loop(self, info: FunctionInfo) -> None:
        try:
            client, poison, queue = self._queue_clients(info)
        except Exception as exc:
            self.errors[info.name] = str(exc)
            log.error("function %s is not running: %s", info.name, exc)
            return
        opts = self.queue_options
        delay = 0.05
        # As the host: at most batchSize + newBatchThreshold messages run at once; a new batch is fetched when
        # newBatchThreshold or fewer are still running.
        in_flight: set[concurrent.futures.Future[None]] = set()
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=opts.batch_size + opts.new_batch_threshold, thread_name_prefix=f"queue-{info.name}"
        ) as pool:
            while not self._stop.is_set():
                if len(in_flight) > opts.new_batch_threshold:
                    done, in_flight = concurrent.futures.wait(
                        in_flight, timeout=0.5, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    self._reap(queue, done)
                    continue
                try:
                    messages = list(
                        client.receive_messages(
                            messages_per_page=opts.batch_size,
                            max_messages=opts.batch_size,
                            visibility_timeout=QUEUE_LEASE,
                        )
                    )
                except Exception as exc:  # storage down: keep polling
                    log.warning("queue %s: receive failed: %s", queue, exc)
                    messages = []
                if not messages:
                    self._stop.wait(delay)
                    delay = min(delay * 2, opts.max_polling_interval)
                    continue
                delay = 0.05
                in_flight |= {pool.submit(self._process_message, info, client, poison, queue, m) for m in messages}
            done, _ = concurrent.futures.wait(in_flight)
            self._reap(queue, done)

    @staticmethod
    def _reap(queue: str, done: set[concurrent.futures.Future[None]]) -> None:
        for fut in done:
            try:
                fut.result()
            except Exception as exc:
                log.error("queue %s: message handling failed: %s", queue, exc)

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> LocalRunner:
        if self._started:
            return self
        self._started = True
        self._stop.clear()
        if self.dev_sign_in is not None:  # App Service sets it when its authentication is on
            self._auth_setting_before = os.environ.get(PLATFORM_AUTH_SETTING)
            os.environ[PLATFORM_AUTH_SETTING] = "True"
        handler = type("Handler", (_Handler,), {"runner": self})
        self._server = _Server((self.host, self.port), handler)
        self.port = int(self._server.server_address[1])
        self._spawn("runner-http", self._server.serve_forever)
        if self.enable_timers:
            for info, schedule in self.timers:
                self._spawn(f"timer-{info.name}", self._timer_loop, info, schedule)
        if self.enable_queues:
            for info in self.queues:
                self._spawn(f"queue-{info.name}", self._queue_loop, info)
        for route in self.routes:
            methods = ",".join(sorted(route.methods)) if route.methods else "*"
            log.info(
                "http %s: [%s] http://%s:%s/%s/%s (%s)",
                route.function.name,
                methods,
                self.host,
                self.port,
                self.route_prefix.strip("/"),
                route.template.strip("/"),
                route.auth_level,
            )
        return self

    def _spawn(self, name: str, target: Callable[..., Any], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._loop_thread is not None:
                self._loop_thread.join(2.0)
            self._loop = None
        if self.dev_sign_in is not None and self._started:
            if self._auth_setting_before is None:
                os.environ.pop(PLATFORM_AUTH_SETTING, None)
            else:
                os.environ[PLATFORM_AUTH_SETTING] = self._auth_setting_before
        self._started = False

    def serve_forever(self) -> None:
        """Start (if needed) and run until SIGINT/SIGTERM."""
        stop = threading.Event()

        def _on_signal(signum: int, frame: object) -> None:
            stop.set()

        previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def __enter__(self) -> LocalRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _await(awaitable: Any) -> Any:
    return await awaitable


# ---------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------
def load_keys(keys_file: Path | None = None) -> tuple[str, str]:
    """Keys from O365MON_FUNCTION_KEY / O365MON_MASTER_KEY, else from (or into) `.local/keys.json`.

    The file (mode 0600, `{"function_key": ..., "master_key": ...}`) is reused on the next start; its path can
    be changed with O365MON_KEYS_FILE. Only the path is ever printed.
    """
    keys_file = keys_file or Path(os.environ.get("O365MON_KEYS_FILE") or KEYS_FILE)
    function_key = os.environ.get("O365MON_FUNCTION_KEY", "").strip()
    master_key = os.environ.get("O365MON_MASTER_KEY", "").strip()
    if function_key and master_key:
        return function_key, master_key
    stored: dict[str, str] = {}
    if keys_file.is_file():
        stored = json.loads(keys_file.read_text(encoding="utf-8"))
    function_key = function_key or stored.get("function_key", "")
    master_key = master_key or stored.get("master_key", "")
    if not function_key or not master_key:
        function_key = function_key or secrets.token_urlsafe(32)
        master_key = master_key or secrets.token_urlsafe(32)
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"function_key": function_key, "master_key": master_key}, fh, indent=2)
        print(f"generated local function/master keys in {keys_file}", flush=True)
    else:
        print(f"using local function/master keys from {keys_file}", flush=True)
    return function_key, master_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="o365mon serve", description="Run function_app locally (no Core Tools).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("O365MON_PORT", "7071")))
    parser.add_argument("--run-timers-at-start", action="store_true", help="fire every timer once at start")
    parser.add_argument("--no-timers", action="store_true", help="do not schedule timer functions")
    parser.add_argument("--no-queues", action="store_true", help="do not poll queue-triggered functions")
    parser.add_argument("--log-level", default=os.environ.get("O365MON_LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--dev-sign-in",
        action="store_true",
        help="emulate App Service Authentication: sign-in page at /.auth/login/dev",
    )
    args = parser.parse_args(argv)
    # `o365mon` configures logging at WARNING before handing over; the runner wants its INFO lines.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger().setLevel(args.log_level.upper())
    logging.getLogger("azure").setLevel(logging.WARNING)  # no per-request SDK lines

    from shared.settings import load_local_settings

    settings_path = os.environ.get("O365MON_LOCAL_SETTINGS")
    load_local_settings(Path(settings_path) if settings_path else REPO_ROOT / "local.settings.json")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import function_app

    function_key, master_key = load_keys()
    runner = LocalRunner(
        function_app.app,
        REPO_ROOT / "host.json",
        port=args.port,
        function_key=function_key,
        master_key=master_key,
        run_timers_at_start=args.run_timers_at_start,
        enable_timers=not args.no_timers,
        enable_queues=not args.no_queues,
        dev_sign_in=args.dev_sign_in,
    )
    if args.dev_sign_in:
        print(f"dev sign-in: http://{runner.host}:{runner.port}/.auth/login/dev", flush=True)
    runner.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
