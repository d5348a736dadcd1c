"""Start and stop a local Azurite (the npm storage emulator from package.json) for tests and `make serve`.

    with Azurite() as azurite:           # free ports, in memory
        os.environ["AzureWebJobsStorage"] = azurite.connection_string

CLI: `python -m devtools.azurite [--free-ports] [--location DIR]` prints the connection string and runs until
SIGINT/SIGTERM (default ports 10000-10002, so `UseDevelopmentStorage=true` works too).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent

ACCOUNT_NAME = "devstoreaccount1"
# The documented, public development-storage key (not a secret).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEFAULT_PORTS = (10000, 10001, 10002)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


class AzuriteError(RuntimeError):
    """Azurite is missing, did not start, or died."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def find_executable(repo_root: Path = REPO_ROOT) -> Path:
    exe = repo_root / "node_modules" / ".bin" / "azurite"
    if not exe.exists():
        raise AzuriteError(f"{exe} not found: run `make install` (or `npm install`) in {repo_root} first")
    return exe


class Azurite:
    """One Azurite process serving blob, queue and table on 127.0.0.1; a context manager."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        blob_port: int | None = None,
        queue_port: int | None = None,
        table_port: int | None = None,
        persistent_dir: Path | None = None,
        repo_root: Path = REPO_ROOT,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.executable = find_executable(repo_root)
        self.blob_port = blob_port or free_port()
        self.queue_port = queue_port or free_port()
        self.table_port = table_port or free_port()
        self.persistent_dir = persistent_dir
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._lock = threading.Lock()

    # -- properties ----------------------------------------------------------------------------------
    @property
    def ports(self) -> dict[str, int]:
        return {"blob": self.blob_port, "queue": self.queue_port, "table": self.table_port}

    def endpoint(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint('blob')};QueueEndpoint={self.endpoint('queue')};"
            f"TableEndpoint={self.endpoint('table')};"
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        cmd = [
            str(self.executable),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
            "--blobHost", self.host, "--blobPort", str(self.blob_port),
            "--queueHost", self.host, "--queuePort", str(self.queue_port),
            "--tableHost", self.host, "--tablePort", str(self.table_port),
        ]  # fmt: skip
        if self.persistent_dir is None:
            cmd.append("--inMemoryPersistence")
        else:
            cmd += ["--location", str(self.persistent_dir)]
        return cmd

    # -- lifecycle -----------------------------------------------------------------------------------
    def stderr_tail(self, limit: int = 2000) -> str:
        if self._stderr is None:
            return ""
        try:
            data = Path(self._stderr.name).read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace").strip()

    def start(self) -> Azurite:
        with self._lock:
            if self.running:
                return self
            for name, port in self.ports.items():
                if _port_open(self.host, port):
                    raise AzuriteError(f"{name} port {port} on {self.host} is already in use")
            if self.persistent_dir is not None:
                Path(self.persistent_dir).mkdir(parents=True, exist_ok=True)
            self._stderr = tempfile.NamedTemporaryFile(prefix="azurite-", suffix=".stderr")
            self._process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                start_new_session=True,  # own process group: stop() reaches node and its children
                cwd=str(self.persistent_dir or tempfile.gettempdir()),
            )
        deadline = time.monotonic() + self.start_timeout
        pending = dict(self.ports)
        while pending:
            if self._process.poll() is not None:
                tail = self.stderr_tail()
                self.stop()
                raise AzuriteError(f"Azurite exited with code {self._process.returncode}: {tail or '(no stderr)'}")
            for name, port in list(pending.items()):
                if _port_open(self.host, port):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                tail = self.stderr_tail()
                self.stop()
                raise AzuriteError(
                    f"Azurite did not open {', '.join(f'{n}:{p}' for n, p in pending.items())} within "
                    f"{self.start_timeout:.0f} s; stderr: {tail or '(empty)'}"
                )
            if pending:
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        with self._lock:
            process = self._process
            if process is not None and process.poll() is None:
                self._signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._signal_group(process, signal.SIGKILL)
                    process.wait(timeout=STOP_TIMEOUT)
            if process is not None:
                # Whatever is left of the group (a node child) goes too.
                self._signal_group(process, signal.SIGKILL)
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.azurite", description=__doc__.splitlines()[0])
    parser.add_argument("--free-ports", action="store_true", help="pick free ports instead of 10000-10002")
    parser.add_argument("--blob-port", type=int)
    parser.add_argument("--queue-port", type=int)
    parser.add_argument("--table-port", type=int)
    parser.add_argument("--location", type=Path, help="persist data in this directory (default: in memory)")
    args = parser.parse_args(argv)
    defaults: tuple[int | None, int | None, int | None] = (None, None, None) if args.free_ports else DEFAULT_PORTS
    try:
        azurite = Azurite(
            blob_port=args.blob_port or defaults[0],
            queue_port=args.queue_port or defaults[1],
            table_port=args.table_port or defaults[2],
            persistent_dir=args.location,
        ).start()
    except AzuriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    print(azurite.connection_string, flush=True)
    try:
        while not stop.wait(0.5):
            if not azurite.running:
                print(f"error: Azurite died: {azurite.stderr_tail()}", file=sys.stderr)
                return 1
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
