"""Offline validation of infra/ (Bicep + azd): parsers, checkov, security properties, and the settings contract.

The tools (checkov, pycep-parser, tree-sitter-bicep) live in their own venv, .venv/infra, created by `make test`
from requirements-infra.txt; these tests call infra/validate.py with that venv's Python. Under `make test`
(O365MON_REQUIRE_INFRA=1) a missing venv is a failure; a bare `pytest` without it skips with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.collect import fanout
from shared.console.auth import KEY_PROTECTED_PATHS, ROLES  # also adds the console's settings to SETTINGS
from shared.settings import SETTINGS
from shared.store import runs, snapshots, tenants

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
INFRA_PYTHON = ROOT / ".venv" / "infra" / "bin" / "python"

# Settings the code reads that the Bicep deliberately does NOT set in Azure, each with its reason.
CODE_ONLY_SETTINGS = {
    # Connection string for Azurite (local runs and tests); Azure uses the identity-based AzureWebJobsStorage__*
    # settings, and the storage account has shared keys disabled, so no connection string could work there.
    "AzureWebJobsStorage": "local only (Azurite connection string)",
    # CA file of the local Graph simulator; Azure talks to the real, publicly trusted endpoints.
    "O365_CA_BUNDLE": "local only (simulator CA)",
    # A PEM *file path*: Flex Consumption cannot load a certificate from Key Vault to a file, so in Azure the app
    # uses the client secret from Key Vault (docs/deployment.md, "Certificate or secret").
    "O365_CLIENT_CERTIFICATE_PATH": "not settable on Flex (file path); Azure uses the Key Vault secret",
    # App Service itself sets it when authentication (infra/app/api.bicep authsettingsV2) is on; the app only reads it.
    "WEBSITE_AUTH_ENABLED": "set by the platform with App Service Authentication",
}

# Settings the Bicep sets that the code does not read: the Functions host and platform read them.
PLATFORM_SETTINGS = {
    # The host's identity-based AzureWebJobsStorage connection (the code builds DefaultAzureCredential itself).
    "AzureWebJobsStorage__credential": "Functions host: identity-based storage connection",
    # Telemetry to Application Insights with Entra auth (local auth is disabled on the component).
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "Functions host: Application Insights endpoint",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Functions host: Entra (managed identity) telemetry auth",
    # App Service Authentication's client assertion: the user-assigned identity instead of a client secret.
    "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID": "App Service Authentication: managed identity as federated credential",
    # Not set at all: FUNCTIONS_EXTENSION_VERSION and FUNCTIONS_WORKER_RUNTIME are rejected on Flex Consumption,
    # whose runtime is declared in functionAppConfig.runtime (python 3.11).
}


def _infra_python() -> Path:
    if INFRA_PYTHON.is_file():
        return INFRA_PYTHON
    if os.environ.get("O365MON_REQUIRE_INFRA"):
        pytest.fail(f"{INFRA_PYTHON} is missing: `make test` must create it from requirements-infra.txt")
    pytest.skip("infra tools venv .venv/infra absent (run `make test`, which creates it, to validate infra/)")


def validate(root: Path, checkov: bool = True) -> tuple[int, dict]:
    cmd = [str(_infra_python()), str(INFRA / "validate.py"), str(root), "--json"]
    if not checkov:
        cmd.append("--no-checkov")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.stdout, f"validate.py printed nothing (exit {proc.returncode}): {proc.stderr[-3000:]}"
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def report() -> dict:
    code, rep = validate(INFRA)
    rep["exit_code"] = code
    return rep


def _copy_infra(tmp_path: Path) -> Path:
    dst = tmp_path / "infra"
    shutil.copytree(INFRA, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst


def _flip(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_every_bicep_file_parses(report):
    assert report["files"], "no .bicep file found"
    assert {"main.bicep", "app/api.bicep", "app/storage.bicep", "app/keyvault.bicep"} <= set(report["files"])
    assert report["parse_errors"] == []


def test_checkov_zero_parsing_errors_and_no_unexplained_failure(report):
    ck = report["checkov"]
    assert ck["summary"]["parsing_errors"] == 0, ck["parsing_errors"]
    assert ck["summary"]["resource_count"] > 0
    assert ck["summary"]["passed"] > 0
    assert report["checkov_problems"] == []
    assert ck["failed"] == []
    for skip in ck["skipped"]:
        assert len(skip["reason"]) >= 20 and skip["reason"] != "No comment provided", skip
    # Checks that must pass, not be skipped (a skip comment added later would hide them).
    for must in (
        "CKV_AZURE_3",
        "CKV_AZURE_44",
        "CKV_AZURE_59",
        "CKV_AZURE_70",
        "CKV_AZURE_78",
        "CKV_AZURE_110",
        "CKV_AZURE_111",
        "CKV_AZURE_42",
        "CKV_AZURE_145",
        "CKV_AZURE_71",
        "CKV_AZURE_72",
        "CKV_AZURE_34",
    ):
        assert must in ck["passed_ids"], f"{must} did not pass"


def test_security_properties_checkov_cannot_see(report):
    assert report["property_problems"] == []
    assert report["ok"] and report["exit_code"] == 0


def test_settings_contract_code_and_bicep_agree(report):
    code = set(SETTINGS)  # read now: other modules append settings to this dict
    bicep = set(report["app_settings"])
    assert not CODE_ONLY_SETTINGS.keys() & bicep, "an allow-listed code-only setting is set by the Bicep"
    missing = code - bicep - CODE_ONLY_SETTINGS.keys()
    assert not missing, f"settings the code reads but infra/app/api.bicep does not set: {sorted(missing)}"
    unused = bicep - code - PLATFORM_SETTINGS.keys()
    assert not unused, f"settings infra/app/api.bicep sets but nothing reads: {sorted(unused)}"
    stale = (CODE_ONLY_SETTINGS.keys() - code) | (PLATFORM_SETTINGS.keys() - bicep)
    assert not stale, f"allow-list entries that no longer apply: {sorted(stale)}"


def test_easy_auth_signs_people_in_and_lets_machines_through_with_keys(report):
    """People sign in with Entra ID before any console page; the pollers' and scripts' key-protected paths (the
    same list the local runner's dev sign-in honours) and the health probe are excluded; no client secret."""
    auth = report["auth_settings"]
    validation = auth["globalValidation"]
    assert validation["requireAuthentication"] is True
    assert validation["unauthenticatedClientAction"] == "RedirectToLoginPage"
    assert validation["excludedPaths"] == list(KEY_PROTECTED_PATHS)
    assert not any(path.startswith("/api/console") for path in validation["excludedPaths"])
    aad = auth["identityProviders"]["azureActiveDirectory"]
    assert aad["registration"]["clientSecretSettingName"] == "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"
    assert aad["registration"]["clientId"] == "consoleClientId"
    assert auth["httpSettings"]["requireHttps"] is True
    assert auth["login"]["tokenStore"]["enabled"] is False  # nothing calls an API on the person's behalf


def test_console_app_roles_manifest_declares_reader_and_admin():
    roles = json.loads((INFRA / "console-app-roles.json").read_text(encoding="utf-8"))
    assert sorted(r["value"] for r in roles) == sorted(ROLES)
    assert len({r["id"] for r in roles}) == len(roles) and all(re.fullmatch(r"[0-9a-f-]{36}", r["id"]) for r in roles)
    assert all(r["allowedMemberTypes"] == ["User"] and r["isEnabled"] for r in roles)


def test_bicep_declares_the_tables_the_code_uses(report):
    used = {tenants.TABLE, snapshots.POINTERS, snapshots.ROWS, runs.RUNS, runs.STATUS, fanout.LEASES}
    assert used <= set(report["tables"]), sorted(used - set(report["tables"]))


def test_azd_files_point_at_the_bicep():
    azure_yaml = (ROOT / "azure.yaml").read_text(encoding="utf-8")
    assert re.search(r"^\s+host: function$", azure_yaml, re.M) and re.search(r"language: python", azure_yaml)
    assert "path: infra" in azure_yaml
    params = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    main = (INFRA / "main.bicep").read_text(encoding="utf-8")
    declared = set(re.findall(r"^param (\w+) ", main, re.M))
    assert set(params) <= declared, sorted(set(params) - declared)
    required = {p for p in declared if not re.search(rf"^param {p} \w+ =", main, re.M)}
    assert required <= set(params), f"required parameters azd cannot fill: {sorted(required - set(params))}"
    assert "targetScope = 'subscription'" in main
    for path in INFRA.rglob("*.bicep"):  # registry modules are opaque to checkov
        assert not re.search(r"^module \w+ 'br[:/]", path.read_text(encoding="utf-8"), re.M), path


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        ("app/storage.bicep", "allowSharedKeyAccess: false", "allowSharedKeyAccess: true", "allowSharedKeyAccess"),
        ("app/monitoring.bicep", "DisableLocalAuth: true", "DisableLocalAuth: false", "DisableLocalAuth"),
        ("app/keyvault.bicep", "enablePurgeProtection: true", "enablePurgeProtection: false", "enablePurgeProtection"),
        (
            "app/rbac.bicep",
            "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
            "0a9a7e1f-b9d0-4cc4-a60d-000000000000",
            "Storage Table Data Contributor",
        ),
        (
            "app/api.bicep",
            "AzureWebJobsStorage__credential: 'managedidentity'",
            "AzureWebJobsStorage__credential: 'connectionstring'",
            "AzureWebJobsStorage__credential",
        ),
        (
            "app/api.bicep",
            "unauthenticatedClientAction: 'RedirectToLoginPage'",
            "unauthenticatedClientAction: 'AllowAnonymous'",
            "unauthenticatedClientAction",
        ),
        (
            "app/api.bicep",
            "clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'",
            "clientSecretSettingName: 'CONSOLE_CLIENT_SECRET'",
            "no secret",
        ),
        (
            "app/api.bicep",
            "keyVaultReferenceIdentity: identityId",
            "keyVaultReferenceIdentity: 'SystemAssigned'",
            "keyVaultReferenceIdentity",
        ),
    ],
)
def test_breaking_a_security_property_fails_validation(tmp_path, rel, old, new, expected):
    root = _copy_infra(tmp_path)
    _flip(root, rel, old, new)
    code, rep = validate(root, checkov=False)
    assert code == 1 and not rep["ok"]
    assert any(expected in p for p in rep["property_problems"]), rep["property_problems"]


def test_checkov_failure_and_parse_error_fail_validation(tmp_path):
    """A property checkov does see (storage TLS), and a file pycep cannot parse (checkov alone would exit 0)."""
    root = _copy_infra(tmp_path)
    _flip(root, "app/storage.bicep", "minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'")
    (root / "app" / "broken.bicep").write_text("param principalId string = deployer().objectId\n", encoding="utf-8")
    code, rep = validate(root)
    assert code == 1 and not rep["ok"]
    problems = "\n".join(rep["checkov_problems"])
    assert "CKV_AZURE_44" in problems
    assert rep["checkov"]["summary"]["parsing_errors"] >= 1 and "could not parse" in problems
    assert any("broken.bicep" in e for e in rep["parse_errors"])
    assert any("minimumTlsVersion" in p for p in rep["property_problems"])
