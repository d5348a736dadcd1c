"""Dependency rules: functions/ -> shared/; shared/ never imports azure.functions; only shared/collect/graph.py
imports msgraph, so the HTTP check path starts fast (proved in a fresh interpreter)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_shared_never_imports_azure_functions_and_only_graph_imports_msgraph() -> None:
    for path in (ROOT / "shared").rglob("*.py"):
        mods = imported_modules(path)
        assert not any(m == "azure.functions" or m.startswith("azure.functions.") for m in mods), path
        if path.name != "graph.py":
            assert not any(m.split(".")[0] in {"msgraph", "msgraph_core", "kiota_http"} for m in mods), path


def test_function_app_is_only_blueprint_registration() -> None:
    mods = imported_modules(ROOT / "function_app.py")
    assert mods <= {"azure.functions", "functions"}


def test_check_path_does_not_load_msgraph(storage_env, tenant_id) -> None:
    code = f"""
import json, sys
import function_app
import azure.functions as func
from functions.checks import check
req = func.HttpRequest("GET", "/api/checks/exchange/email-activity", params={{"tenant": "{tenant_id}"}},
                       route_params={{"plugin": "exchange", "mode": "email-activity"}}, body=b"")
resp = check(req)
print(json.dumps({{"status": resp.status_code, "body": resp.get_body().decode(),
                  "graph": sorted(m for m in sys.modules if m.split('.')[0] in ('msgraph', 'azure.identity'))}}))
"""
    env = {"AzureWebJobsStorage": storage_env.connection_string, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["body"].startswith("UNKNOWN: unknown tenant")  # the check really ran through storage
    assert result["graph"] == []


def test_readme_documents_every_setting() -> None:
    from shared.settings import SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in SETTINGS if f"`{name}`" not in readme] == []
    assert "make demo" in readme and "make test" in readme


def test_every_http_route_needs_a_key_and_admin_operations_the_admin_level() -> None:
    import function_app

    function_app.app.functions_bindings = {}  # get_functions() refuses a second call otherwise
    levels = {}
    for fn in function_app.app.get_functions():
        for binding in fn.get_bindings():
            data = binding.get_dict_repr()
            if data.get("type") == "httpTrigger":
                level = data.get("authLevel")
                levels[data["route"]] = str(getattr(level, "value", level)).lower()
    assert levels.pop("health") == "anonymous"  # the probe, and only it, answers without a key
    assert levels.pop("checks/{plugin}/{mode}") == "function"
    # The console's pages need a signed-in person, not a key (tests/test_console_auth.py refuses nobody on each).
    console = {route: levels.pop(route) for route in list(levels) if (route + "/").startswith("console/")}
    assert console and set(console.values()) == {"anonymous"}, console
    assert levels.pop("openapi.json") == "function"  # the description: pollers' keys may read it
    assert levels and all(level == "admin" for level in levels.values()), levels  # review, sync, docs
