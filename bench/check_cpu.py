"""Check CPU and latency at 100,000 users beside Centreon's own plugin, before/after a change.

Rows (one 100,000-user tenant, mailbox-usage):
- `--filter-mailbox` matching one mailbox (anchored, `^name$`, and as a literal matched anywhere), and
  `--filter-counters=status` (70,000 active mailboxes): server CPU (process time of the check in the serving
  process) and wall time of the in-process answer;
- `o365mon check` on the command line: wall time of the whole process (median of `--cli-runs`) and its
  import time (`python -X importtime`, the sum of the top-level imports);
- latency through the local Functions runner (HTTP, keep-alive) under concurrency c = 1, 8, 32.

Centreon's figures were measured on this machine with its own plugin over the same simulated tenant (see
the README's performance section); ours/Centreon is printed beside each row that has one.

`--baseline DIR` also measures the code of another checkout (e.g. `git worktree add /tmp/base main`) against
the same stored data, for the before/after columns. `--azurite-dir DIR` keeps Azurite's data, so a second run
skips the collection. Run: `.venv/bin/python -m bench.check_cpu [--baseline DIR] [--azurite-dir DIR]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.runner import LocalRunner

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-function-key"
SEED = 7701

# Centreon's centreon-plugins (cloud::microsoft::office365) over the same 100,000-user tenant, on this machine.
CENTREON_S = {"filter-mailbox": 1.78, "status": 16.8, "cli": (0.24, 0.37)}


# --- measured in a child process whose `shared` is the checkout under test -------------------------------
def _best(fn, runs: int) -> tuple[float, float]:
    """(min wall s, min process CPU s) of `fn` over `runs` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def _http(port: int, path: str, concurrency: int, per_worker: int) -> dict:
    import http.client

    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            for _ in range(per_worker):
                start = time.perf_counter()
                conn.request("GET", path, headers={"x-functions-key": KEY})
                resp = conn.getresponse()
                body = resp.read()
                took = time.perf_counter() - start
                with lock:
                    times.append(took)
                    if resp.status != 200 or body.startswith(b"UNKNOWN"):
                        errors.append(f"{resp.status} {body[:80]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ordered = sorted(times)
    return {
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "per_s": len(times) / wall,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def local_runner(port: int) -> LocalRunner:
    """The function app of the checkout on sys.path, served by the local runner with the bench's keys."""
    import function_app
    from devtools.runner import LocalRunner

    host = Path(function_app.__file__).with_name("host.json")
    return LocalRunner(function_app.app, host, port=port, function_key=KEY, master_key=KEY + "-master")


def measure(tenant_id: str, mailbox: str, runs: int, cli_runs: int, concurrency: list[int], requests: int) -> dict:
    import re
    from urllib.parse import quote

    import function_app
    from devtools.azurite import free_port
    from shared.checks.service import answer

    one = {"filter-mailbox": f"^{re.escape(mailbox)}$"}
    literal = {"filter-mailbox": re.escape(mailbox)}  # unanchored: matched anywhere in a name
    cases = {"filter-mailbox": one, "filter-literal": literal, "status": {"filter-counters": "status"}}
    out: dict = {"checkout": str(Path(function_app.__file__).parent)}
    try:
        from shared.store.chunk_cache import CHUNKS

        forget = CHUNKS.clear
    except ImportError:  # a checkout from before the chunk cache: every run is a cold one
        forget = lambda: None  # noqa: E731
    for name, options in cases.items():
        forget()
        result, _ = answer("exchange", "mailbox-usage", {"tenant": tenant_id, **options})
        assert not result.short.startswith("UNKNOWN"), result.short

        def warm(o: dict = options) -> None:
            answer("exchange", "mailbox-usage", {"tenant": tenant_id, **o})[0].text()  # rendered, as it is sent

        def cold(o: dict = options) -> None:
            forget()
            warm(o)

        cold_wall, cold_cpu = _best(cold, runs)
        warm()
        wall, cpu = _best(warm, runs)
        out[name] = {
            "wall_s": wall, "cpu_s": cpu, "cold_wall_s": cold_wall, "cold_cpu_s": cold_cpu,
            "first_line": result.short[:100],
        }  # fmt: skip

    cli = [sys.executable, "-m", "shared.cli.main", "check", "exchange", "mailbox-usage", f"--tenant={tenant_id}"]
    cwd = out["checkout"]  # `-m` puts the checkout first on sys.path
    walls = []
    for _ in range(cli_runs):
        start = time.perf_counter()
        subprocess.run(cli, cwd=cwd, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
    imports = []
    for _ in range(max(3, cli_runs // 3)):
        done = subprocess.run([sys.executable, "-X", "importtime", *cli[1:]], cwd=cwd, capture_output=True, text=True)
        # 'import time: self | cumulative | name', nested names indented: the top-level ones sum to the total
        lines = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")]
        top = [int(cumulative) for _, cumulative, name in lines[1:] if not name[1:].startswith(" ")]
        imports.append(sum(top))
    out["cli"] = {"wall_s": statistics.median(walls), "min_s": min(walls), "import_s": min(imports) / 1e6}

    port = free_port()
    runner = local_runner(port)
    runner.start()
    try:
        base = f"/api/checks/exchange/mailbox-usage?tenant={tenant_id}"
        http_cases = {
            "unfiltered": (base, concurrency),
            "filter-mailbox": (base + "&filter-mailbox=" + quote(one["filter-mailbox"]), concurrency),
            # One request per worker at most c = 8: each is seconds of CPU on a shared interpreter.
            "status": (base + "&filter-counters=status", [c for c in concurrency if c <= 8]),
        }
        out["http"] = {}
        for name, (path, levels) in http_cases.items():
            for c in levels:
                per_worker = 1 if name == "status" else max(1, requests // c)
                out["http"][f"{name} c={c}"] = _http(port, path, c, per_worker)
    finally:
        runner.stop()
    return out


# --- the parent: the stack, the collection, and the table --------------------------------------------------
def _child(checkout: Path, args: argparse.Namespace, tenant_id: str, mailbox: str) -> dict:
    # The deadline is lifted: the status check of the code before took over 10 s on the shared 2 cores.
    env = {**os.environ, "PYTHONPATH": str(checkout), "CHECK_DEADLINE_S": "300"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tenant_id, "--mailbox", mailbox]
    cmd += ["--runs", str(args.runs), "--cli-runs", str(args.cli_runs), "--requests", str(args.requests)]
    cmd += ["--concurrency", args.concurrency]
    done = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring {checkout} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(ours: float, centreon: float | tuple[float, float]) -> str:
    if isinstance(centreon, tuple):
        return f"{ours / centreon[1]:.2f}-{ours / centreon[0]:.2f}x"
    return f"{ours / centreon:.3f}x"


def report(after: dict, before: dict | None) -> None:
    def cell(d: dict | None, *keys: str, scale: float = 1.0, fmt: str = "{:.3f}") -> str:
        for k in keys:
            if d is None or k not in d:  # a baseline run before the cold/warm split
                return "-"
            d = d[k]
        return fmt.format(d * scale)  # type: ignore[operator]

    print(f"{'case (100,000 users)':<52} {'Centreon':>11} {'before':>9} {'after':>9} {'after/Centreon':>15}")
    rows = [
        ("mailbox-usage --filter-mailbox (one): wall s", "filter-mailbox", "wall_s", CENTREON_S["filter-mailbox"]),
        ("  server CPU s", "filter-mailbox", "cpu_s", None),
        ("  first check after a collection: wall s", "filter-mailbox", "cold_wall_s", CENTREON_S["filter-mailbox"]),
        ("    server CPU s", "filter-mailbox", "cold_cpu_s", None),
        ("  unanchored (literal), first check: wall s", "filter-literal", "cold_wall_s", CENTREON_S["filter-mailbox"]),
        ("    server CPU s", "filter-literal", "cold_cpu_s", None),
        ("mailbox-usage --filter-counters=status: wall s", "status", "wall_s", CENTREON_S["status"]),
        ("  server CPU s", "status", "cpu_s", None),
        ("  first check after a collection: wall s", "status", "cold_wall_s", CENTREON_S["status"]),
        ("    server CPU s", "status", "cold_cpu_s", None),
        ("o365mon check CLI: wall s (median)", "cli", "wall_s", CENTREON_S["cli"]),
        ("  imports s (-X importtime)", "cli", "import_s", None),
    ]
    for label, case, key, centreon in rows:
        shown = (
            "" if centreon is None else (f"{centreon[0]}-{centreon[1]}" if isinstance(centreon, tuple) else centreon)
        )
        ratio = "" if centreon is None else _ratio(after[case][key], centreon)
        print(f"{label:<52} {shown:>11} {cell(before, case, key):>9} {cell(after, case, key):>9} {ratio:>15}")
    print()
    print(
        f"{'HTTP through the local runner':<30} {'before p50/p99 ms':>20} {'after p50/p99 ms':>20} {'after req/s':>12}"
    )
    for name, a in after["http"].items():
        b = before["http"].get(name) if before else None
        was = f"{b['p50_ms']:.1f}/{b['p99_ms']:.1f}" if b else "-"
        errors = f"  ({a['errors']} errors: {a['first_error']})" if a["errors"] else ""
        print(f"{name:<30} {was:>20} {a['p50_ms']:>9.1f}/{a['p99_ms']:<10.1f} {a['per_s']:>12.1f}{errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--baseline", type=Path, help="another checkout measured on the same data (before)")
    parser.add_argument("--azurite-dir", type=Path, help="keep Azurite's data here (a second run skips collecting)")
    parser.add_argument("--runs", type=int, default=5, help="in-process runs per case (best of)")
    parser.add_argument("--cli-runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=64, help="HTTP requests per cheap case and level")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mailbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    if args.child:
        print(json.dumps(measure(args.child, args.mailbox, args.runs, args.cli_runs, levels, args.requests)))
        return

    import asyncio

    from bench.stack import CLIENT_ID, SECRET, stack_settings
    from devtools.azurite import Azurite
    from devtools.simulator.server import AppCredential, GraphSimulator
    from devtools.simulator.tenants import SampleTenant

    sample = SampleTenant.generate(SEED, args.users)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Azurite(persistent_dir=args.azurite_dir) as azurite,
        GraphSimulator(tenants=[sample], apps={CLIENT_ID: AppCredential(secret=SECRET)}, state_dir=Path(tmp)) as sim,
    ):
        os.environ.update(stack_settings(azurite, sim))
        from shared.collect.catalog import UPN
        from shared.store import snapshots, storage, tenants

        storage.reset_caches()
        pointer = snapshots.current(sample.tenant_id, "mailbox_usage")
        if pointer is None or pointer.rows < args.users or not pointer.indexed:
            tenants.add(tenants.Tenant(sample.tenant_id, sample.display_name, [sample.domain]))
            from shared.collect.collector import collect_all

            start = time.perf_counter()
            (run,) = asyncio.run(collect_all(sample.tenant_id))
            assert run.status == "success", run.error
            print(f"collected {args.users} users in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            pointer = snapshots.current(sample.tenant_id, "mailbox_usage")
            assert pointer is not None
        name, last = pointer.columns.index(UPN), pointer.columns.index("Last Activity Date")
        # a mailbox active on the refresh date: the check has per-mailbox counters only for those
        mailbox = next(str(r[name]) for r in snapshots.load_rows(pointer) if str(r[last]) == pointer.refresh_date)
        before = _child(args.baseline.resolve(), args, sample.tenant_id, mailbox) if args.baseline else None
        after = _child(ROOT, args, sample.tenant_id, mailbox)
        print(f"tenant {sample.tenant_id} (seed {SEED}), {args.users} users; one mailbox: {mailbox}")
        print(f"before: {before['checkout'] if before else '-'}   after: {after['checkout']}")
        report(after, before)


if __name__ == "__main__":
    main()
