"""`o365mon simulate`: run the Graph simulator in the foreground for local runs and demos.

It writes `<state_dir>/simulator.json` so other tools (and people) can find the endpoints, the CA and the
demo app's credentials. Those credentials are fixed sample values, valid only against this simulator.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import threading
from pathlib import Path
from typing import Any

from devtools.private_file import write_private

from .certs import make_client_certificate
from .latency import realistic_options
from .server import AppCredential, GraphSimulator
from .tenants import sample_tenants

DEMO_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
DEMO_CLIENT_SECRET = "sim-secret-o365mon-demo-only"
STATE_FILE = "simulator.json"
CLIENT_CERT_FILE = "client.pem"
DEFAULT_STATE_DIR = Path(".local/simulator")


def start_from_args(
    *,
    users: int = 50,
    seed: int = 1,
    tenants: int = 1,
    concealed: bool = False,
    state_dir: Path = DEFAULT_STATE_DIR,
    login_port: int = 0,
    graph_port: int = 0,
    download_port: int = 0,
    refresh_date: dt.date | None = None,
    throttle_limit: int | None = None,
    crlf: bool = False,
    reorder_columns: bool = False,
    extra_columns: bool = False,
    realistic: bool = False,
    latency_scale: float = 1.0,
    window_scale: float = 1.0,
) -> GraphSimulator:
    """Start a simulator with sample tenants and the demo app, and write the state file. Caller stops it."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    sample = sample_tenants(tenants, users, seed, concealed=concealed)
    if refresh_date is not None:
        sample = [t.with_options(refresh_date=refresh_date) for t in sample]
    cert_path = state_dir / CLIENT_CERT_FILE
    thumbprint = make_client_certificate(cert_path)
    # Graph's latency and limits; an explicit --throttle-limit still wins over the realistic 14.
    options = realistic_options(latency_scale, window_scale, seed) if realistic else {}
    if throttle_limit is not None or not realistic:
        options["throttle_limit"] = throttle_limit
    sim = GraphSimulator(
        sample,
        {DEMO_CLIENT_ID: AppCredential(secret=DEMO_CLIENT_SECRET, thumbprint=thumbprint)},
        state_dir,
        login_port=login_port,
        graph_port=graph_port,
        download_port=download_port,
        crlf=crlf,
        reorder_columns=reorder_columns,
        extra_columns=extra_columns,
        **options,
    ).start()
    write_state_file(sim, cert_path)
    return sim


def write_state_file(sim: GraphSimulator, client_certificate: Path | None = None) -> Path:
    state: dict[str, Any] = {
        "login_endpoint": sim.login_endpoint,
        "graph_endpoint": sim.graph_endpoint,
        "ca_path": str(sim.ca_path.resolve()),
        "tenants": [
            {"tenant_id": t.tenant_id, "domain": t.domain, "display_name": t.display_name, "users": t.users}
            for t in sim.tenants
        ],
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    if client_certificate is not None:
        state["client_certificate_path"] = str(client_certificate.resolve())
    # It holds the client secret: owner-only from creation; renamed into place, so pollers never see half of it.
    return write_private(sim.state_dir / STATE_FILE, json.dumps(state, indent=2) + "\n")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="o365mon simulate", description="Local Microsoft Graph / Entra ID simulator")
    p.add_argument("--users", type=int, default=50, help="users per tenant (default 50)")
    p.add_argument("--seed", type=int, default=1, help="seed of the first tenant (default 1: contoso.com)")
    p.add_argument("--tenants", type=int, default=1, help="number of tenants (default 1)")
    p.add_argument("--concealed", action="store_true", help="reports show concealed (hashed) user names")
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help=f"default {DEFAULT_STATE_DIR}")
    p.add_argument("--login-port", type=int, default=0, help="HTTPS token endpoint port (default: any free)")
    p.add_argument("--graph-port", type=int, default=0, help="HTTP Graph port (default: any free)")
    p.add_argument("--download-port", type=int, default=0, help="HTTP report download port (default: any free)")
    p.add_argument("--refresh-date", type=dt.date.fromisoformat, help="Report Refresh Date (default today-2)")
    p.add_argument("--throttle-limit", type=int, help="report requests per 10 min per app/tenant/report")
    p.add_argument("--crlf", action="store_true", help="CSV lines end in CRLF")
    p.add_argument("--reorder-columns", action="store_true", help="CSV columns in a non-documented order")
    p.add_argument("--extra-columns", action="store_true", help="CSV gains an undocumented column")
    p.add_argument(
        "--realistic",
        action="store_true",
        help="Graph's latency (seeded by --seed) and report throttling (14/app, 40/tenant per report per 10 min)",
    )
    p.add_argument("--latency-scale", type=float, default=1.0, help="multiply every --realistic delay (default 1)")
    p.add_argument("--window-scale", type=float, default=1.0, help="multiply the throttling windows (default 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sim = start_from_args(**vars(args))
    try:
        print(
            f"Graph simulator: login {sim.login_endpoint}, graph {sim.graph_endpoint}, "
            f"{len(sim.tenants)} tenant(s); details in {sim.state_dir / STATE_FILE}",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
