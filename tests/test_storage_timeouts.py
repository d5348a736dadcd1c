"""A check never hangs on storage: a frozen storage account (accepts connections, never answers) and a refused
port both give `UNKNOWN: storage unreachable: <reason>` with exit 3, over the CLI and over HTTP."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.azurite import free_port
from shared.store import storage

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
# Azurite's published development key: not a secret.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"TableEndpoint=http://127.0.0.1:{port}/{ACCOUNT};QueueEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


@pytest.fixture
def frozen_port() -> Iterator[int]:
    """A TCP server that accepts every connection and never sends a byte, as a SIGSTOPped Azurite does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def _cli_check(port: int) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AzureWebJobsStorage": _connection_string(port),
        "O365MON_LOCAL_SETTINGS": os.devnull,
    }
    code = "import sys; from shared.cli.main import main; sys.exit(main(sys.argv[1:]))"
    args = ["check", "exchange", "email-activity", f"--tenant={uuid.uuid4()}"]
    # The timeout only stops a hung test; the answer comes within the check path's few seconds.
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_check_on_frozen_storage_answers_unknown(frozen_port: int) -> None:
    out = _cli_check(frozen_port)
    assert out.returncode == 3, out
    assert out.stdout == f"UNKNOWN: storage unreachable: no answer within 2 s (127.0.0.1:{frozen_port}) \n"
    assert "Traceback" not in out.stderr


def test_cli_check_on_refused_storage_answers_unknown() -> None:
    port = free_port()
    out = _cli_check(port)
    assert out.returncode == 3, out
    assert out.stdout == f"UNKNOWN: storage unreachable: connection refused (127.0.0.1:{port}) \n"


def _http_check(monkeypatch: pytest.MonkeyPatch, storage_port: int) -> tuple[int, str, str]:
    import function_app
    from devtools.runner import LocalRunner

    monkeypatch.setenv("AzureWebJobsStorage", _connection_string(storage_port))
    monkeypatch.delenv("AzureWebJobsStorage__tableServiceUri", raising=False)
    storage.reset_caches()
    runner = LocalRunner(
        function_app.app, port=free_port(), function_key="fk", master_key="mk", enable_timers=False,
        enable_queues=False,
    )  # fmt: skip
    runner.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=60)
        conn.request(
            "GET", f"/api/checks/exchange/email-activity?tenant={uuid.uuid4()}", headers={"x-functions-key": "fk"}
        )
        resp = conn.getresponse()
        return resp.status, resp.getheader("X-Nagios-Exit-Code") or "", resp.read().decode()
    finally:
        runner.stop()
        storage.reset_caches()


def test_http_check_on_frozen_storage_answers_unknown(monkeypatch: pytest.MonkeyPatch, frozen_port: int) -> None:
    status, exit_code, body = _http_check(monkeypatch, frozen_port)
    assert (status, exit_code) == (503, "3")
    assert body == f"UNKNOWN: storage unreachable: no answer within 2 s (127.0.0.1:{frozen_port}) \n"


def test_http_check_on_refused_storage_answers_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    status, exit_code, body = _http_check(monkeypatch, port)
    assert (status, exit_code) == (503, "3")
    assert body == f"UNKNOWN: storage unreachable: connection refused (127.0.0.1:{port}) \n"


def test_collection_clients_keep_the_default_timeouts(storage_env) -> None:
    """Only the check path is shortened: a collection writing megabytes must not give up after 2 s."""
    plain = storage.table_service()
    with storage.check_path():
        fast = storage.table_service()
    assert fast is not plain
    assert storage.table_service() is plain


def test_storage_answering_5xx_is_storage_unreachable_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A storage account that answers 503 (server busy) for longer than the retries is named as such."""
    import http.server

    class Busy(http.server.BaseHTTPRequestHandler):
        def _busy(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _busy

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = _cli_check(server.server_address[1])
    finally:
        server.shutdown()
    assert out.returncode == 3, out
    assert (
        out.stdout
        == f"UNKNOWN: storage unreachable: storage answered HTTP 503 (127.0.0.1:{server.server_address[1]}) \n"
    )
