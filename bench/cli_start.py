"""`o365mon check` as Nagios runs it: one process per check. Wall time of the whole process (median and best of
`--runs`), the in-process split (imports / the check itself) and the heaviest top-level imports
(`python -X importtime`), on a one-mailbox tenant in a fresh Azurite (start-up does not depend on tenant size:
the 100,000-user figures are bench.check_cpu's).

Two ways of starting: as this checkout runs (`site` with the editable install's import hook, ~13 ms of it), and
as an installed package does (`-S` with the same paths on PYTHONPATH: no hook). Beside them, the floor of any
check that reads Table Storage through azure-data-tables: the interpreter plus `import azure.data.tables`.
Run: `.venv/bin/python -m bench.cli_start [--runs 15]`.
"""

from __future__ import annotations

import argparse
import os
import site
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GB = 1024**3
SPLIT = """
import time; t0 = time.perf_counter()
import shared.cli.main as cli
from shared.checks.service import answer
t1 = time.perf_counter()
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(["check", "exchange", "mailbox-usage", "--tenant={tenant}"])
print(round(t1 - t0, 4), round(time.perf_counter() - t1, 4))
"""


def _walls(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, check=False)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from bench.stack import storage_alone
    from shared.collect.catalog import MAILBOX_USAGE
    from shared.store import tenants
    from tests.support import store_snapshot

    with storage_alone() as azurite:
        tenant = str(uuid.uuid4())
        tenants.add(tenants.Tenant(tenant, "Contoso", ["bench.contoso.com"]))
        row = ["ceo@contoso.com", "2024-01-15", GB, 98 * GB, 99 * GB, 100 * GB, 10, 7]
        store_snapshot(tenant, MAILBOX_USAGE, [row], "2024-01-15")
        env = {"AzureWebJobsStorage": azurite.connection_string, "PATH": os.environ["PATH"],
               "O365MON_LOCAL_SETTINGS": os.devnull}  # fmt: skip
        check = ["-m", "shared.cli.main", "check", "exchange", "mailbox-usage", f"--tenant={tenant}"]
        answer = subprocess.run([sys.executable, *check], env=env, cwd=ROOT, capture_output=True, text=True)
        print(f"answer: {answer.stdout.splitlines()[0][:100]}... (exit {answer.returncode})")
        installed = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()])}
        cases = [
            ("o365mon check, this checkout (editable install)", [sys.executable, *check], env),
            ("o365mon check, as an installed package (no import hook)", [sys.executable, "-S", *check], installed),
            ("floor: python -c 'import azure.data.tables'", [sys.executable, "-c", "import azure.data.tables"], env),
            ("floor: python -c pass", [sys.executable, "-c", "pass"], env),
        ]
        print(f"load average {os.getloadavg()[0]:.2f}; {args.runs} runs each")
        for label, cmd, case_env in cases:
            walls = _walls(cmd, case_env, args.runs)
            print(f"  {label}: median {statistics.median(walls) * 1000:.0f} ms, best {min(walls) * 1000:.0f} ms")
        splits = [
            subprocess.run([sys.executable, "-c", SPLIT.format(tenant=tenant)], env=env, cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
            for _ in range(args.runs)
        ]  # fmt: skip
        imports = statistics.median(float(s[0]) for s in splits) * 1000
        work = statistics.median(float(s[1]) for s in splits) * 1000
        print(f"  in-process: imports {imports:.0f} ms, the check itself {work:.0f} ms (medians)")
        trace = subprocess.run([sys.executable, "-X", "importtime", *check], env=env, cwd=ROOT,
                               capture_output=True, text=True).stderr  # fmt: skip
        top = []
        for line in trace.splitlines():
            if line.startswith("import time:") and "|" in line:
                _, cumulative, name = line.split("|")
                if not name.startswith("  ") and cumulative.strip().isdigit():
                    top.append((int(cumulative), name.strip()))
        print("  heaviest top-level imports (-X importtime, inflated by its own bookkeeping):")
        for micros, name in sorted(top, reverse=True)[:8]:
            print(f"    {micros / 1000:6.1f} ms  {name}")


if __name__ == "__main__":
    main()
