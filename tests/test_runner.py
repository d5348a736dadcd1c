"""The local runner (devtools.runner) against a real Azurite, with a small test app (not function_app)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import azure.functions as func
import pytest
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from devtools import ncrontab
from devtools.azurite import Azurite
from devtools.runner import LocalRunner, compile_route, parse_timespan, redact

FUNCTION_KEY = "fk-" + uuid.uuid4().hex
MASTER_KEY = "mk-" + uuid.uuid4().hex
TABLE = "RunnerRecords"
QUEUE = "work-items"


def _table():  # the records table in Azurite (real storage)
    service = TableServiceClient.from_connection_string(os.environ["AzureWebJobsStorage"])
    return service.create_table_if_not_exists(TABLE)


def _record(partition: str, **values: object) -> None:
    _table().upsert_entity({"PartitionKey": partition, "RowKey": uuid.uuid4().hex, **values})


def build_app() -> func.FunctionApp:
    bp = func.Blueprint()

    @bp.route(route="hello/{name}", methods=["GET"])  # auth level from the app: function
    def hello(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(
            json.dumps({"name": req.route_params["name"], "q": req.params.get("q")}),
            mimetype="application/json",
        )

    @bp.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
    def admin_only(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("admin ok")

    @bp.route(route="open/{id:int}/{opt?}", auth_level=func.AuthLevel.ANONYMOUS)
    def open_route(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(json.dumps(dict(req.route_params)), status_code=201, headers={"X-Test": "1"})

    @bp.route(route="files/{*rest}", auth_level=func.AuthLevel.ANONYMOUS, methods=["GET", "POST"])
    async def files(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(f"{req.method} {req.route_params.get('rest', '')} {req.get_body().decode()}")

    @bp.route(route="broken", auth_level=func.AuthLevel.ANONYMOUS)
    def broken(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("kaputt")

    @bp.timer_trigger(arg_name="timer", schedule="%TEST_SCHEDULE%")
    def tick(timer: func.TimerRequest) -> None:
        _record("timer", past_due=timer.past_due)

    @bp.queue_trigger(arg_name="msg", queue_name=QUEUE, connection="AzureWebJobsStorage")
    def work(msg: func.QueueMessage) -> None:
        body = msg.get_body().decode()
        _record("queue", body=body, dequeue_count=msg.dequeue_count or 0, message_id=msg.id)
        if body == "boom":
            raise ValueError("boom")

    app = func.FunctionApp()
    app.register_functions(bp)
    return app


@pytest.fixture(scope="module")
def runner(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunner]:
    host_json = tmp_path_factory.mktemp("host") / "host.json"
    host_json.write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {"queues": {"maxDequeueCount": 2, "visibilityTimeout": "00:00:01"}},
            }
        )
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AzureWebJobsStorage", azurite.connection_string)
        mp.setenv("TEST_SCHEDULE", "0 0 0 1 1 *")  # once a year: only the start-up run can happen
        _table()
        local = LocalRunner(
            build_app(),
            host_json,
            port=0,
            function_key=FUNCTION_KEY,
            master_key=MASTER_KEY,
            run_timers_at_start=True,
        )
        local.start()
        try:
            yield local
        finally:
            local.stop()


def request(
    runner: LocalRunner, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection(runner.host, runner.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    finally:
        conn.close()


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def queue_client(name: str) -> QueueClient:
    client = QueueClient.from_connection_string(
        os.environ["AzureWebJobsStorage"],
        name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )
    try:
        client.create_queue()
    except Exception:  # the queue exists already
        pass
    return client


def records(partition: str, **match: object) -> list[dict]:
    rows = list(_table().query_entities(f"PartitionKey eq '{partition}'"))
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


# --- discovery ---------------------------------------------------------------------------------------
def test_discovers_every_trigger(runner: LocalRunner) -> None:
    assert {r.function.name for r in runner.routes} == {"hello", "admin_only", "open_route", "files", "broken"}
    assert [info.name for info, _ in runner.timers] == ["tick"]
    assert [info.name for info in runner.queues] == ["work"]
    assert runner.errors == {}
    levels = {r.function.name: r.auth_level for r in runner.routes}
    assert levels == {
        "hello": "function",
        "admin_only": "admin",
        "open_route": "anonymous",
        "files": "anonymous",
        "broken": "anonymous",
    }


# --- HTTP keys ---------------------------------------------------------------------------------------
def test_function_level_needs_a_key(runner: LocalRunner) -> None:
    status, body, _ = request(runner, "GET", "/api/hello/world")
    assert (status, body) == (401, b"")
    assert request(runner, "GET", "/api/hello/world?code=wrong")[:2] == (401, b"")
    status, body, resp = request(runner, "GET", f"/api/hello/world?code={FUNCTION_KEY}&q=1")
    assert status == 200
    assert json.loads(body) == {"name": "world", "q": "1"}
    assert resp.getheader("Content-Type").startswith("application/json")
    assert request(runner, "GET", "/api/hello/x", headers={"x-functions-key": FUNCTION_KEY})[0] == 200
    assert request(runner, "GET", "/api/hello/x", headers={"x-functions-key": MASTER_KEY})[0] == 200


def test_admin_level_takes_only_the_master_key(runner: LocalRunner) -> None:
    assert request(runner, "GET", "/api/admin-only")[:2] == (401, b"")
    assert request(runner, "GET", f"/api/admin-only?code={FUNCTION_KEY}")[:2] == (401, b"")
    assert request(runner, "GET", "/api/admin-only", headers={"x-functions-key": FUNCTION_KEY})[0] == 401
    assert request(runner, "GET", f"/api/admin-only?code={MASTER_KEY}")[:2] == (200, b"admin ok")


def test_anonymous_route_params_and_response_headers(runner: LocalRunner) -> None:
    status, body, resp = request(runner, "GET", "/api/open/42")
    assert status == 201 and json.loads(body) == {"id": "42"}
    assert resp.getheader("X-Test") == "1"
    status, body, _ = request(runner, "GET", "/api/open/42/extra%20bit")
    assert json.loads(body) == {"id": "42", "opt": "extra bit"}
    assert request(runner, "GET", "/api/open/notanint")[0] == 404  # {id:int} constraint


def test_catch_all_async_function_and_body(runner: LocalRunner) -> None:
    status, body, _ = request(runner, "POST", "/api/files/a/b/c.txt", body=b"payload")
    assert (status, body) == (200, b"POST a/b/c.txt payload")
    assert request(runner, "GET", "/api/files")[:2] == (200, b"GET  ")


def test_unknown_route_wrong_method_and_exception(runner: LocalRunner, caplog: pytest.LogCaptureFixture) -> None:
    assert request(runner, "GET", "/api/nope")[:2] == (404, b"")
    assert request(runner, "GET", "/")[0] == 404
    status, _, resp = request(runner, "POST", f"/api/hello/world?code={FUNCTION_KEY}")
    assert status == 405 and resp.getheader("Allow") == "GET"
    with caplog.at_level(logging.ERROR, logger="o365mon.runner"):
        assert request(runner, "GET", "/api/broken")[:2] == (500, b"")
    assert "RuntimeError: kaputt" in caplog.text


def test_keys_are_redacted_in_access_log(runner: LocalRunner, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="o365mon.runner"):
        request(runner, "GET", f"/api/hello/world?q=2&code={FUNCTION_KEY}")
        request(runner, "GET", f"/api/admin-only?code={MASTER_KEY}")
        request(runner, "GET", "/api/hello/world", headers={"x-functions-key": MASTER_KEY})
        wait_for(lambda: caplog.text.count("/api/") >= 3)
    assert "code=REDACTED" in caplog.text
    assert FUNCTION_KEY not in caplog.text and MASTER_KEY not in caplog.text
    assert redact("/x?a=1&code=s3cret&b=2") == "/x?a=1&code=REDACTED&b=2"


def test_keep_alive_connection_serves_many_requests(runner: LocalRunner) -> None:
    conn = http.client.HTTPConnection(runner.host, runner.port, timeout=10)
    started = time.monotonic()
    try:
        for i in range(20):
            conn.request("GET", f"/api/open/{i}")
            resp = conn.getresponse()
            assert resp.status == 201 and json.loads(resp.read()) == {"id": str(i)}
    finally:
        conn.close()
    assert time.monotonic() - started < 2.0  # ~40 ms per request would mean Nagle is on


# --- timers ------------------------------------------------------------------------------------------
def test_timer_fires_at_start_with_the_flag(runner: LocalRunner) -> None:
    rows = wait_for(lambda: records("timer"))
    assert len(rows) == 1 and rows[0]["past_due"] is False


def test_admin_endpoint_runs_a_timer_on_demand(runner: LocalRunner) -> None:
    before = len(wait_for(lambda: records("timer")))
    assert request(runner, "POST", "/admin/functions/tick", body=b"{}")[0] == 401
    status, _, _ = request(runner, "POST", "/admin/functions/tick", body=b"{}", headers={"x-functions-key": MASTER_KEY})
    assert status == 202
    wait_for(lambda: len(records("timer")) == before + 1)


def test_missing_schedule_setting_disables_only_that_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_SCHEDULE", raising=False)
    local = LocalRunner(build_app(), None, port=0, function_key="f", master_key="m")
    assert "TEST_SCHEDULE" in local.errors["tick"]
    assert local.timers == [] and len(local.routes) == 5


# --- queues ------------------------------------------------------------------------------------------
def test_base64_message_is_processed_once(runner: LocalRunner) -> None:
    body = f"hello-{uuid.uuid4().hex[:8]}"
    queue_client(QUEUE).send_message(body)
    rows = wait_for(lambda: records("queue", body=body))
    time.sleep(1.5)  # longer than the visibility timeout: a redelivery would show up now
    rows = records("queue", body=body)
    assert len(rows) == 1 and rows[0]["dequeue_count"] == 1
    assert wait_for(lambda: queue_client(QUEUE).get_queue_properties().approximate_message_count == 0, 5)


def test_failing_message_goes_to_poison_after_max_dequeue_count(runner: LocalRunner) -> None:
    poison = queue_client(f"{QUEUE}-poison")
    sent = queue_client(QUEUE).send_message("boom")
    found = wait_for(lambda: [m for m in poison.peek_messages(max_messages=32) if m.content == "boom"], 20)
    attempts = [r for r in records("queue", body="boom") if r["message_id"] == sent.id]
    assert sorted(r["dequeue_count"] for r in attempts) == [1, 2]  # maxDequeueCount 2 in host.json
    assert len(found) == 1
    assert not any(m.id == sent.id for m in queue_client(QUEUE).peek_messages(max_messages=32))


def test_plain_text_message_is_never_delivered_and_ends_in_poison(runner: LocalRunner) -> None:
    raw = QueueClient.from_connection_string(os.environ["AzureWebJobsStorage"], QUEUE)  # no Base64 policy
    text = f"not base64! {uuid.uuid4().hex[:6]}"
    raw.send_message(text)
    poison_raw = QueueClient.from_connection_string(os.environ["AzureWebJobsStorage"], f"{QUEUE}-poison")
    wait_for(lambda: [m for m in poison_raw.peek_messages(max_messages=32) if m.content == text], 20)
    assert records("queue", body=text) == []


# --- pure helpers ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */5 * * * *", "2024-01-01T00:02:30", "2024-01-01T00:05:00"),
        ("*/15 * * * * *", "2024-01-01T00:00:14", "2024-01-01T00:00:15"),
        ("*/15 * * * * *", "2024-01-01T00:00:15", "2024-01-01T00:00:30"),
        ("5/20 * * * * *", "2024-01-01T00:00:45", "2024-01-01T00:01:05"),
        ("0 30 9 * * 1-5", "2024-01-05T10:00:00", "2024-01-08T09:30:00"),  # Fri -> Mon
        ("0 0 0 29 2 *", "2023-03-01T00:00:00", "2024-02-29T00:00:00"),
        ("0 0 0,12 1 Jan,Jul *", "2024-01-01T12:00:00", "2024-07-01T00:00:00"),
        ("0 0 0 13 * 5", "2024-01-01T00:00:00", "2024-09-13T00:00:00"),  # day AND weekday (Friday 13th)
        ("0 0 6 * * 7", "2024-01-01T00:00:00", "2024-01-07T06:00:00"),  # 7 = Sunday
        ("0 0 6 * * Sun", "2024-01-01T00:00:00", "2024-01-07T06:00:00"),
        ("0 0 */6 * * *", "2024-12-31T23:00:00", "2025-01-01T00:00:00"),
        ("0 15-17/2 8 * * *", "2024-01-01T08:15:00", "2024-01-01T08:17:00"),
        ("00:05:00", "2024-01-01T00:00:00", "2024-01-01T00:05:00"),
    ],
)
def test_ncrontab_next_occurrence(expression: str, after: str, expected: str) -> None:
    assert ncrontab.next_occurrence(expression, datetime.fromisoformat(after)) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("bad", ["* * * * *", "61 * * * * *", "0 0 0 31 2 *", "0 */0 * * * *", "0 5-1 * * * *"])
def test_ncrontab_rejects_bad_expressions(bad: str) -> None:
    with pytest.raises(ncrontab.CrontabError):
        ncrontab.next_occurrence(bad, datetime(2024, 1, 1))


def test_route_templates() -> None:
    regex, _, _ = compile_route("nagios/{check}/{tenant?}")
    assert regex.fullmatch("/api/nagios/mailbox").groupdict() == {"check": "mailbox", "tenant": None}
    assert regex.fullmatch("/API/Nagios/mailbox/t1/").groupdict() == {"check": "mailbox", "tenant": "t1"}
    assert regex.fullmatch("/api/nagios") is None
    regex, _, catch_all = compile_route("{*path}", prefix="")
    assert catch_all and regex.fullmatch("/a/b").group("path") == "a/b"


def test_timespans() -> None:
    assert parse_timespan("00:00:01", 5) == 1.0
    assert parse_timespan("1.00:00:30", 5) == 86430.0
    assert parse_timespan(None, 2.0) == 2.0
    assert parse_timespan(3, 2.0) == 3.0


def test_host_json_defaults(tmp_path: Path) -> None:
    local = LocalRunner(func.FunctionApp(), tmp_path / "missing.json", function_key="f", master_key="m")
    opts = local.queue_options
    assert (opts.max_dequeue_count, opts.batch_size, opts.base64) == (5, 16, True)
    assert local.route_prefix == "api"


def test_base64_round_trip_matches_host_encoding() -> None:
    # What TextBase64EncodePolicy puts on the wire is what the runner (and the host) decodes.
    assert base64.b64encode("héllo".encode()).decode() == TextBase64EncodePolicy().encode("héllo")


def test_generated_keys_are_stored_not_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools.runner import load_keys

    monkeypatch.delenv("O365MON_FUNCTION_KEY", raising=False)
    monkeypatch.delenv("O365MON_MASTER_KEY", raising=False)
    keys_file = tmp_path / ".local" / "keys.json"
    function_key, master_key = load_keys(keys_file)
    out = capsys.readouterr().out
    assert str(keys_file) in out and function_key not in out and master_key not in out
    assert function_key != master_key and len(function_key) >= 32
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert load_keys(keys_file) == (function_key, master_key)  # stable across restarts
    monkeypatch.setenv("O365MON_FUNCTION_KEY", "envf")
    monkeypatch.setenv("O365MON_MASTER_KEY", "envm")
    assert load_keys(keys_file) == ("envf", "envm")


def test_main_serves_until_sigterm(tmp_path: Path) -> None:
    """`o365mon serve` end to end: a stand-in function_app module, port 0, keys file, SIGTERM."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "serve.py"
    script.write_text(
        "import sys, types\n"
        "import azure.functions as func\n"
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)\n"
        "@app.route(route='ping')\n"
        "def ping(req: func.HttpRequest) -> func.HttpResponse:\n"
        "    return func.HttpResponse('pong')\n"
        "sys.modules['function_app'] = types.SimpleNamespace(app=app)\n"
        "from devtools.runner import main\n"
        "sys.exit(main(['--port', '0', '--no-queues', '--no-timers']))\n"
    )
    keys_file = tmp_path / "keys.json"
    env = {**os.environ, "O365MON_KEYS_FILE": str(keys_file), "PYTHONPATH": str(Path(__file__).parent.parent)}
    env.pop("O365MON_FUNCTION_KEY", None)
    env.pop("O365MON_MASTER_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        port = None
        deadline = time.monotonic() + 15
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "http ping:" in line:
                port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        assert port, "".join(lines)
        keys = json.loads(keys_file.read_text())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/ping", headers={"x-functions-key": keys["function_key"]})
        assert conn.getresponse().read() == b"pong"
        conn.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        lines.append(out)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = "".join(lines)
    assert proc.returncode == 0, text
    assert str(keys_file) in text
    assert keys["function_key"] not in text and keys["master_key"] not in text
