"""`python -m devtools.itglue`: run the IT Glue simulator until Ctrl-C, printing its URL and API key."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from .server import ItGlueSimulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.itglue", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--rate-limit", type=int, default=3000, help="requests per window per account")
    parser.add_argument("--rate-window", type=float, default=300.0, help="seconds")
    parser.add_argument("--no-retry-after", action="store_true", help="answer 429 without Retry-After")
    parser.add_argument("--state-file", type=Path, help="also write {url, api_key} there (mode 0600)")
    args = parser.parse_args(argv)
    sim = ItGlueSimulator(
        port=args.port, rate_limit=args.rate_limit, rate_window=args.rate_window, retry_after=not args.no_retry_after
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sim:
        if args.state_file:
            args.state_file.parent.mkdir(parents=True, exist_ok=True)
            args.state_file.touch(mode=0o600)
            args.state_file.chmod(0o600)
            args.state_file.write_text(json.dumps({"url": sim.url, "api_key": sim.api_key}), encoding="utf-8")
        # A local, throwaway key: printing it is how a developer points the client at the simulator.
        print(f"ITGLUE_API_URL={sim.url}", flush=True)
        print(f"ITGLUE_API_KEY={sim.api_key}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
