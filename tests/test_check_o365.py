"""pollers/check_o365, the poller-side client, run as a real subprocess against the real function app.

The function app is served by the local runner over real Azurite; failure cases use tiny local servers (one
that records requests and answers what it is told, one that never answers, one over TLS with a private CA).
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.azurite import free_port
from devtools.simulator.certs import CA_FILE, server_ssl_context
from tests.support import CENTREON_OUTPUT, FUNCTION_KEY

PLUGIN = Path(__file__).resolve().parent.parent / "pollers" / "check_o365"
SECRET = "Centreon-Client-Secret-7f3a9c"
CENTREON_PLUGIN = "cloud::microsoft::office365::exchange::plugin"
OBSERVED = CENTREON_OUTPUT.encode()


@pytest.fixture
def server(served_app: tuple[str, str]) -> tuple[str, str]:
    return served_app


def run_plugin(*args: str, key: str | None = FUNCTION_KEY, env: dict[str, str] | None = None):
    """(exit code, stdout bytes, stderr text) of the real plugin in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("O365MON")}
    if key is not None:
        clean["O365MON_FUNCTION_KEY"] = key
    clean.update(env or {})
    proc = subprocess.run([sys.executable, str(PLUGIN), *args], capture_output=True, env=clean, timeout=20)
    assert "Traceback" not in proc.stderr.decode(), proc.stderr
    return proc.returncode, proc.stdout, proc.stderr.decode()


def http_get(url: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"x-functions-key": FUNCTION_KEY})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers["X-Nagios-Exit-Code"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["X-Nagios-Exit-Code"], e.read()


# -------------------------------------------------------------------------------------------------------------
# Against the real function app
# -------------------------------------------------------------------------------------------------------------
def test_centreon_command_line_gives_the_byte_identical_answer(server) -> None:
    base, tenant = server
    status, exit_header, body = http_get(
        f"{base}/api/checks/{CENTREON_PLUGIN}/email-activity?tenant={tenant}&warning-active-users=1:&verbose=1"
    )
    assert (status, exit_header) == (200, "0") and body.startswith(b"OK: Active users on 2024-01-15 : 2/3")
    code, out, err = run_plugin(
        f"--url={base}",
        f"--plugin={CENTREON_PLUGIN}",
        "--mode=email-activity",
        "--custommode=graphapi",
        f"--tenant={tenant}",
        "--client-id=00000000-1111-2222-3333-444444444444",
        f"--client-secret={SECRET}",
        "--statefile-dir",
        "/var/lib/centreon/centplugins",
        "--statefile-concat-cwd",
        "--timeout=30",
        "--proxyurl=http://proxy.example:3128",
        "--warning-active-users=1:",
        "--verbose",
    )
    assert (code, out) == (0, body)
    assert SECRET not in out.decode() and SECRET not in err
    assert "--client-secret" in err and "server-side" in err and len(err.splitlines()) == 1


def test_short_plugin_name_positionals_and_verbose_match_http(server) -> None:
    base, tenant = server
    status, exit_header, body = http_get(f"{base}/api/checks/exchange/email-activity?tenant={tenant}&verbose=1")
    assert status == 200
    # --opt value form, the verbose flag (sent as verbose=1), plugin and mode as positionals, URL ending in /api
    code, out, err = run_plugin("--url", f"{base}/api/", "exchange", "email-activity", "--tenant", tenant, "--verbose")
    assert (code, out, err) == (int(exit_header), body, "")
    code, out, _ = run_plugin(f"--url={base}", "--plugin=exchange", "--mode=email-activity", f"--tenant={tenant}")
    assert (code, out) == (0, OBSERVED)


@pytest.mark.parametrize(
    ("option", "exit_code", "status"), [("warning", 1, b"WARNING: "), ("critical", 2, b"CRITICAL: ")]
)
def test_thresholds_give_the_exit_code(server, option: str, exit_code: int, status: bytes) -> None:
    base, tenant = server
    code, out, _ = run_plugin(
        f"--url={base}", "--plugin=exchange", "--mode=email-activity", f"--tenant={tenant[:8]}.contoso.com",
        f"--{option}-active-users", "90:",
    )  # fmt: skip
    assert code == exit_code and out.startswith(status + b"Active users on 2024-01-15 : 2/3 (66.67%)")


def test_wrong_key_is_unknown_and_names_the_key(server) -> None:
    base, tenant = server
    code, out, _ = run_plugin(
        f"--url={base}", "--plugin=exchange", "--mode=email-activity", f"--tenant={tenant}", key="wrong-key-123456"
    )
    text = out.decode()
    assert code == 3 and text.startswith("UNKNOWN: HTTP 401") and "check the function key" in text
    assert "wrong-key-123456" not in text and text.count("\n") == 1


@pytest.mark.parametrize(
    ("path_args", "query", "http_status"),
    [
        (("--plugin=exchange", "--mode=no-such-mode"), "", 404),
        (("--plugin=no-such-plugin", "--mode=email-activity"), "", 404),
        (
            ("--plugin=exchange", "--mode=email-activity", "--warning-active-users=abc"),
            "&warning-active-users=abc",
            400,
        ),
    ],
)
def test_server_unknown_answers_are_printed_as_is(server, path_args, query: str, http_status: int) -> None:
    base, tenant = server
    plugin, mode = (a.split("=", 1)[1] for a in path_args[:2])
    status, exit_header, body = http_get(f"{base}/api/checks/{plugin}/{mode}?tenant={tenant}{query}")
    assert status == http_status and exit_header == "3" and body.startswith(b"UNKNOWN: ")
    assert run_plugin(f"--url={base}", *path_args, f"--tenant={tenant}")[:2] == (3, body)


def test_key_from_env_file_or_argv(server, tmp_path: Path) -> None:
    base, tenant = server
    args = (f"--url={base}", "--plugin=exchange", "--mode=email-activity", f"--tenant={tenant}")
    assert run_plugin(*args)[:2] == (0, OBSERVED)  # O365MON_FUNCTION_KEY
    key_file = tmp_path / "function.key"
    key_file.write_text(f"{FUNCTION_KEY}\nsecond line is ignored\n")
    assert run_plugin(*args, f"--key-file={key_file}", key=None)[:2] == (0, OBSERVED)
    # --key-file wins over the environment
    assert run_plugin(*args, "--key-file", str(key_file), key="stale-key-000000")[:2] == (0, OBSERVED)
    code, out, err = run_plugin(*args, f"--key={FUNCTION_KEY}", key=None)
    assert (code, out) == (0, OBSERVED) and "visible" in err and FUNCTION_KEY not in err
    # URL from the environment
    assert run_plugin(*args[1:], env={"O365MON_URL": base})[:2] == (0, OBSERVED)


def test_missing_or_unreadable_key_is_unknown(tmp_path: Path) -> None:
    args = ("--url=http://127.0.0.1:9", "--plugin=exchange", "--mode=email-activity", "--tenant=contoso.com")
    code, out, _ = run_plugin(*args, key=None)
    assert code == 3 and out.startswith(b"UNKNOWN: no function key")
    code, out, _ = run_plugin(*args, f"--key-file={tmp_path / 'missing.key'}", key=None)
    assert code == 3 and out.startswith(b"UNKNOWN: cannot read the function key file")


# -------------------------------------------------------------------------------------------------------------
# Transport failures and unexpected answers
# -------------------------------------------------------------------------------------------------------------
def test_refused_connection_is_unknown() -> None:
    port = free_port()  # nothing listens there
    code, out, _ = run_plugin(f"--url=http://127.0.0.1:{port}", "exchange", "email-activity", "--tenant=x")
    assert code == 3 and out.startswith(b"UNKNOWN: connection refused by http://127.0.0.1:")


def test_timeout_is_unknown() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_never_answer() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_and_never_answer, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        started = time.monotonic()
        code, out, _ = run_plugin(
            f"--url=http://127.0.0.1:{port}", "exchange", "email-activity", "--tenant=x", "--http-timeout=0.5"
        )
        assert code == 3 and out.startswith(b"UNKNOWN: no answer from http://127.0.0.1:") and b"0.5s" in out
        assert time.monotonic() - started < 5
        assert held  # the request really reached the server
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


class FakeApp(ThreadingHTTPServer):
    """Records each request and answers `reply` (status, headers, body)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.reply: tuple[int, dict[str, str], bytes] = (200, {"X-Nagios-Exit-Code": "0"}, b"OK: fake\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeApp

    def do_GET(self) -> None:
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        status, headers, body = self.server.reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    app = FakeApp()
    thread = threading.Thread(target=app.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        app.shutdown()
        app.server_close()


def test_request_carries_key_header_and_only_check_options(fake_app: FakeApp) -> None:
    code, out, err = run_plugin(
        f"--url={fake_app.url}", f"--plugin={CENTREON_PLUGIN}", "--mode", "mailbox-usage", "--custommode=graphapi",
        "--tenant=contoso.com", "--client-id=abc", "--client-secret", SECRET, "--login-endpoint=https://x",
        "--graph-endpoint=https://y", "--statefile-suffix=s", "--timeout", "30", "--filter-mailbox=^ceo@ x",
        "--warning-usage-status", "%{used} > 10", "--critical-active-users", "-10:", "--use-new-perfdata",
        "--output-ignore-perfdata", "--use-pseudonymize", "--debug", "--output-json", "--filter-counters=",
        "--http-timeout=5",
    )  # fmt: skip
    assert (code, out) == (0, b"OK: fake\n") and SECRET not in err
    (path, headers), = fake_app.seen  # fmt: skip
    assert headers["x-functions-key"] == FUNCTION_KEY
    assert path == (
        f"/api/checks/{CENTREON_PLUGIN}/mailbox-usage?tenant=contoso.com&filter-mailbox=%5Eceo%40%20x"
        "&warning-usage-status=%25%7Bused%7D%20%3E%2010&critical-active-users=-10%3A&use-new-perfdata=1"
        "&output-ignore-perfdata=1&use-pseudonymize=1&debug=1&output-json=1&filter-counters="
    )


@pytest.mark.parametrize(
    ("reply", "exit_code", "output"),
    [
        ((200, {"X-Nagios-Exit-Code": "2"}, b"CRITICAL: x | 'a'=1\nline 2\n"), 2, b"CRITICAL: x | 'a'=1\nline 2\n"),
        ((200, {}, b"OK: but no exit header\n"), 3, b"OK: but no exit header\n"),
        ((200, {"X-Nagios-Exit-Code": "7"}, b"OK: invalid exit header\n"), 3, b"OK: invalid exit header\n"),
        ((200, {"X-Nagios-Exit-Code": "0"}, b""), 3, b"UNKNOWN: empty answer from "),
        ((403, {}, b"Forbidden"), 3, b"UNKNOWN: HTTP 403 Forbidden from "),
        ((404, {}, b"<html>not here</html>"), 3, b"UNKNOWN: HTTP 404 Not Found from "),
        ((500, {}, b"<html>boom</html>"), 3, b"UNKNOWN: HTTP 500 Internal Server Error from "),
        ((503, {"X-Nagios-Exit-Code": "3"}, b"UNKNOWN: storage down\n"), 3, b"UNKNOWN: storage down\n"),
        ((302, {"Location": "http://elsewhere.example/"}, b""), 3, b"UNKNOWN: HTTP 302 redirect from "),
    ],
)
def test_unexpected_answers(fake_app: FakeApp, reply, exit_code: int, output: bytes) -> None:
    fake_app.reply = reply
    code, out, _ = run_plugin(f"--url={fake_app.url}", "exchange", "email-activity", "--tenant=contoso.com")
    assert code == exit_code and out.startswith(output)
    assert b"<html>" not in out and b"tenant=" not in out  # no HTML, and messages never show the query
    assert len(fake_app.seen) == 1  # a redirect is never followed (it would carry the key elsewhere)


def test_tls_private_ca(tmp_path: Path) -> None:
    app = FakeApp()
    app.socket = server_ssl_context(tmp_path).wrap_socket(app.socket, server_side=True)
    thread = threading.Thread(target=app.serve_forever, daemon=True)
    thread.start()
    url = f"--url=https://127.0.0.1:{app.server_address[1]}"
    try:
        code, out, _ = run_plugin(url, "exchange", "email-activity", "--tenant=contoso.com")
        assert code == 3 and out.startswith(b"UNKNOWN: TLS certificate of https://127.0.0.1:") and b"--ca-file" in out
        args = (url, "exchange", "email-activity", "--tenant=contoso.com")
        assert run_plugin(*args, f"--ca-file={tmp_path / CA_FILE}")[:2] == (0, b"OK: fake\n")
        code, out, err = run_plugin(*args, "--insecure")
        assert (code, out) == (0, b"OK: fake\n") and "--insecure" in err
    finally:
        app.shutdown()
        app.server_close()


# -------------------------------------------------------------------------------------------------------------
# The file itself
# -------------------------------------------------------------------------------------------------------------
def test_plugin_file_is_a_single_stdlib_python36_script() -> None:
    source = PLUGIN.read_text(encoding="utf-8")
    assert source.startswith("#!/usr/bin/env python3\n") and os.access(PLUGIN, os.X_OK)
    tree = ast.parse(source, feature_version=(3, 6))  # no walrus, match, positional-only parameters...
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    modules |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert modules and modules <= sys.stdlib_module_names and "__future__" not in modules
    py36_has_no = ("dataclasses", "contextvars", "capture_output", "ssl.TLSVersion", "removeprefix", "asyncio.run")
    assert not [name for name in py36_has_no if name in source]


def test_help_and_usage_errors_never_traceback() -> None:
    code, out, _ = run_plugin("--help", key=None)
    text = out.decode()
    assert code == 3 and "Examples:" in text and "--key-file" in text and "O365MON_FUNCTION_KEY" in text
    for args in (
        ("--url=http://127.0.0.1:9", "exchange"),  # no mode
        ("--url=ftp://x", "exchange", "email-activity"),
        ("--url=http://127.0.0.1:9", "exchange", "email-activity", "--http-timeout=abc"),
        ("--url=http://127.0.0.1:9", "exchange", "email-activity", "--url"),
        ("exchange", "email-activity", "--tenant=x"),  # no URL
    ):
        code, out, _ = run_plugin(*args)
        assert code == 3 and out.startswith(b"UNKNOWN: ") and out.count(b"\n") == 1, args
