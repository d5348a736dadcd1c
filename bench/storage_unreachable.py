"""Time to UNKNOWN when storage is gone: a check over the CLI (a fresh process, as Nagios runs it) against a
TCP port that accepts and never answers, against a refused port, and in-process against an Azurite that was
answering and is then SIGSTOPped (the table already known, so the point read is retried once).

    .venv/bin/python -m bench.storage_unreachable
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # Azurite's


def _connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"TableEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


def _cli(port: int) -> tuple[float, str]:
    env = {"PATH": os.environ.get("PATH", ""), "AzureWebJobsStorage": _connection_string(port),
           "O365MON_LOCAL_SETTINGS": os.devnull}  # fmt: skip
    code = "import sys; from shared.cli.main import main; sys.exit(main(sys.argv[1:]))"
    started = time.monotonic()
    args = [sys.executable, "-c", code, "check", "exchange", "email-activity", f"--tenant={uuid.uuid4()}"]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    return time.monotonic() - started, f"exit {out.returncode}: {out.stdout.strip()}"


def main() -> int:
    from bench.stack import storage_alone
    from devtools.azurite import free_port
    from shared.checks.service import answer
    from shared.store import tenants

    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(64)
    threading.Thread(target=lambda: [frozen.accept() for _ in iter(int, 1)], daemon=True).start()
    for name, port in (("CLI, frozen port", frozen.getsockname()[1]), ("CLI, refused port", free_port())):
        seconds, text = _cli(port)
        print(f"{name}: {seconds:.2f} s  {text}")
    with storage_alone() as azurite:
        tenant = str(uuid.uuid4())
        tenants.add(tenants.Tenant(tenant, "Contoso", ["bench.example.com"]))
        answer("exchange", "email-activity", {"tenant": tenant})
        os.kill(azurite.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            result, status = answer("exchange", "email-activity", {"tenant": tenant})
            seconds = time.monotonic() - started
        finally:
            os.kill(azurite.pid, signal.SIGCONT)
        print(f"in-process, SIGSTOPped Azurite: {seconds:.2f} s  HTTP {status}: {result.text().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
