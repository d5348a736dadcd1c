"""Offline validation of the Bicep in infra/ (no Bicep CLI, no network). Runs in the infra venv (.venv/infra).

    .venv/infra/bin/python infra/validate.py [DIR] [--no-checkov] [--json]

1. Every .bicep file parses with pycep-parser (the parser checkov uses) and with tree-sitter-bicep.
2. checkov (--framework bicep --skip-download -o json) runs on DIR; the validation fails on any parsing error
   (checkov itself exits 0 on those), on any failed check, and on any skip without a written reason.
3. Property checks for what checkov cannot see: no shared keys, TLS 1.2, HTTPS only, local auth off,
   identity-based storage settings, role definition GUIDs, Key Vault RBAC + purge protection, ...
It prints a JSON report with --json (tests/test_infra.py reads it) and exits 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Built-in Azure role definition ids (identical in every tenant).
ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MIN_SKIP_REASON = 20  # characters: a skip needs a sentence, not "n/a"


def parse_all(root: Path) -> tuple[dict[str, dict], list[str]]:
    """{relative path: pycep JSON} and the parse errors of both parsers."""
    import tree_sitter_bicep
    from pycep import BicepParser
    from tree_sitter import Language, Parser

    ts_parser = Parser(Language(tree_sitter_bicep.language()))
    parsed: dict[str, dict] = {}
    errors: list[str] = []
    for path in sorted(root.rglob("*.bicep")):
        rel = str(path.relative_to(root))
        try:
            parsed[rel] = BicepParser().parse(file_path=path)
        except Exception as exc:  # lark raises several exception types
            errors.append(f"{rel}: pycep-parser: {str(exc).splitlines()[0]}")
        tree = ts_parser.parse(path.read_bytes())
        if tree.root_node.has_error:
            errors.append(f"{rel}: tree-sitter-bicep: syntax error near line {_first_error_line(tree.root_node)}")
    if not parsed and not errors:
        errors.append(f"no .bicep file under {root}")
    return parsed, errors


def _first_error_line(node: object) -> int:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n.start_point[0] + 1
        stack.extend(reversed(n.children))
    return 0


def run_checkov(root: Path) -> dict:
    exe = Path(sys.executable).with_name("checkov")
    cmd = [str(exe), "-d", str(root), "--framework", "bicep", "--skip-download", "-o", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": f"checkov exit {proc.returncode}, no JSON: {proc.stderr[-2000:]}"}
    if isinstance(report, list):  # one entry per framework
        report = next((r for r in report if r.get("check_type") == "bicep"), report[0])
    results = report.get("results", {})
    summary = report.get("summary", {})

    def brief(c: dict) -> dict:
        return {
            "id": c["check_id"],
            "name": c.get("check_name", ""),
            "file": c.get("file_path", ""),
            "resource": c.get("resource", ""),
            "reason": (c.get("check_result") or {}).get("suppress_comment", ""),
        }

    return {
        "exit_code": proc.returncode,
        "summary": summary,
        "failed": [brief(c) for c in results.get("failed_checks", [])],
        "skipped": [brief(c) for c in results.get("skipped_checks", [])],
        "passed": [brief(c) for c in results.get("passed_checks", [])],
        "parsing_errors": results.get("parsing_errors", []),
    }


def checkov_problems(ck: dict) -> list[str]:
    if "error" in ck:
        return [ck["error"]]
    problems = []
    n_parse = ck["summary"].get("parsing_errors", 0)
    if n_parse or ck["parsing_errors"]:
        problems.append(f"checkov could not parse {n_parse} file(s): {ck['parsing_errors']}")
    for c in ck["failed"]:
        problems.append(f"checkov {c['id']} failed on {c['resource']} ({c['file']}): {c['name']}")
    for c in ck["skipped"]:
        reason = (c["reason"] or "").strip()
        if reason == "No comment provided" or len(reason) < MIN_SKIP_REASON:
            problems.append(f"checkov {c['id']} skipped on {c['resource']} without a written reason")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Property checks over the pycep output


def resources(parsed: dict[str, dict]) -> list[tuple[str, str, str, dict, dict]]:
    """(file, symbol, type, config, raw) for every declared (not `existing`) resource; loops/conditions unwrapped."""
    out = []
    for rel, doc in parsed.items():
        for symbol, res in (doc.get("resources") or {}).items():
            if res.get("existing"):
                continue
            config = res.get("config") or {}
            while isinstance(config, dict) and ("loop_type" in config or "condition" in config) and "config" in config:
                config = config["config"]
            out.append((rel, symbol, res["type"], config, res))
    return out


def _key(k: str) -> str:
    return k.strip("'")


def _get(obj: object, *path: str) -> object:
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = {_key(k): v for k, v in obj.items()}.get(p)
    return obj


def app_settings(parsed: dict[str, dict]) -> dict[str, object]:
    """Every app setting the Bicep sets: the properties of Microsoft.Web/sites/config 'appsettings'."""
    settings: dict[str, object] = {}
    for _rel, _sym, rtype, config, _raw in resources(parsed):
        if rtype.lower() == "microsoft.web/sites/config" and _get(config, "name") == "appsettings":
            props = _get(config, "properties")
            if not isinstance(props, dict):
                raise ValueError("appsettings properties must be an object literal (the settings test reads its keys)")
            settings.update({_key(k): v for k, v in props.items()})
    return settings


def auth_settings(parsed: dict[str, dict]) -> dict:
    """The properties of the function app's App Service Authentication (Microsoft.Web/sites/config 'authsettingsV2')."""
    for _rel, _sym, rtype, config, _raw in resources(parsed):
        if rtype.lower() == "microsoft.web/sites/config" and _get(config, "name") == "authsettingsV2":
            props = _get(config, "properties")
            return props if isinstance(props, dict) else {}
    return {}


def _auth_problems(auth: dict, settings: dict[str, object]) -> list[str]:
    """People sign in (Entra ID) before any page but the key-protected paths; no client secret; HTTPS only."""
    problems = []

    def expect(cond: bool, message: str) -> None:
        if not cond:
            problems.append(f"authsettingsV2: {message}")

    expect(bool(auth), "App Service Authentication (authsettingsV2) must be declared")
    if not auth:
        return problems
    expect(_get(auth, "platform", "enabled") is True, "platform.enabled must be true")
    expect(_get(auth, "globalValidation", "requireAuthentication") is True, "requireAuthentication must be true")
    expect(
        _get(auth, "globalValidation", "unauthenticatedClientAction") == "RedirectToLoginPage",
        "unauthenticatedClientAction must be RedirectToLoginPage",
    )
    expect(_get(auth, "httpSettings", "requireHttps") is True, "httpSettings.requireHttps must be true")
    aad = _get(auth, "identityProviders", "azureActiveDirectory")
    expect(_get(aad, "enabled") is True, "the Entra ID provider must be enabled")
    secret_setting = _get(aad, "registration", "clientSecretSettingName")
    expect(
        secret_setting == "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID" and bool(settings.get(str(secret_setting))),
        "the provider must prove itself with the managed identity (OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID), no secret",
    )
    expect(_get(auth, "login", "nonce", "validateNonce") is True, "login.nonce.validateNonce must be true")
    return problems


def _role_guids(doc: dict, res: dict, config: dict) -> list[str]:
    """GUIDs of a role assignment's roleDefinitionId (through variables and a `for role in <array var>` loop)."""
    rid = _get(config, "properties", "roleDefinitionId")
    name = _get(rid, "function", "parameters", "resource_name_1") if isinstance(rid, dict) else rid
    variables = {k: (v or {}).get("value") for k, v in (doc.get("variables") or {}).items()}
    names = [name]
    loop = _get(res.get("config"), "loop_type", "detail")
    if isinstance(loop, dict) and loop.get("item_name") == name:
        arr = variables.get(loop.get("array_name"))
        names = arr if isinstance(arr, list) else []
    guids = []
    for n in names:
        value = variables.get(n, n)
        if isinstance(value, str) and GUID.fullmatch(value):
            guids.append(value)
    return guids


def property_problems(parsed: dict[str, dict], raw_text: str) -> list[str]:
    problems: list[str] = []

    def expect(cond: bool, message: str) -> None:
        if not cond:
            problems.append(message)

    by_type: dict[str, list[tuple[str, str, dict, dict]]] = {}
    for rel, sym, rtype, config, raw in resources(parsed):
        by_type.setdefault(rtype.lower(), []).append((rel, sym, config, raw))

    def each(rtype: str, what: str) -> list[tuple[str, str, dict, dict]]:
        found = by_type.get(rtype.lower(), [])
        expect(bool(found), f"no {what} ({rtype}) declared")
        return found

    for rel, sym, c, _ in each("Microsoft.Storage/storageAccounts", "storage account"):
        where = f"{rel}:{sym}"
        expect(_get(c, "properties", "allowSharedKeyAccess") is False, f"{where}: allowSharedKeyAccess must be false")
        expect(_get(c, "properties", "allowBlobPublicAccess") is False, f"{where}: allowBlobPublicAccess must be false")
        expect(_get(c, "properties", "minimumTlsVersion") == "TLS1_2", f"{where}: minimumTlsVersion must be TLS1_2")
        expect(_get(c, "properties", "supportsHttpsTrafficOnly") is True, f"{where}: supportsHttpsTrafficOnly true")
    for rel, sym, c, _ in each("Microsoft.Storage/storageAccounts/blobServices/containers", "deployment container"):
        expect(_get(c, "properties", "publicAccess") == "None", f"{rel}:{sym}: container publicAccess must be None")
    for rel, sym, c, _ in each("Microsoft.Insights/components", "Application Insights"):
        expect(_get(c, "properties", "DisableLocalAuth") is True, f"{rel}:{sym}: Application Insights DisableLocalAuth")
        expect(_get(c, "properties", "WorkspaceResourceId") is not None, f"{rel}:{sym}: App Insights on Log Analytics")
    for rel, sym, c, _ in each("Microsoft.OperationalInsights/workspaces", "Log Analytics workspace"):
        expect(_get(c, "properties", "features", "disableLocalAuth") is True, f"{rel}:{sym}: workspace local auth")
    for rel, sym, c, _ in each("Microsoft.KeyVault/vaults", "Key Vault"):
        where = f"{rel}:{sym}"
        expect(_get(c, "properties", "enableRbacAuthorization") is True, f"{where}: enableRbacAuthorization true")
        expect(_get(c, "properties", "enableSoftDelete") is True, f"{where}: enableSoftDelete must be true")
        expect(_get(c, "properties", "enablePurgeProtection") is True, f"{where}: enablePurgeProtection must be true")
        expect(not _get(c, "properties", "accessPolicies"), f"{where}: no access policies (RBAC only)")
    for rel, sym, c, _ in each("Microsoft.KeyVault/vaults/secrets", "Key Vault secret"):
        expect(bool(_get(c, "properties", "contentType")), f"{rel}:{sym}: secret contentType must be set")
        expect(_get(c, "properties", "attributes", "exp") is not None, f"{rel}:{sym}: secret exp must be set")
    for rel, sym, c, _ in each("Microsoft.Web/serverfarms", "Flex Consumption plan"):
        expect(_get(c, "sku", "name") == "FC1", f"{rel}:{sym}: plan sku must be FC1")
        expect(_get(c, "sku", "tier") == "FlexConsumption", f"{rel}:{sym}: plan tier must be FlexConsumption")
        expect(_get(c, "properties", "reserved") is True, f"{rel}:{sym}: plan must be Linux (reserved true)")
    for rel, sym, c, _ in each("Microsoft.Web/sites", "function app"):
        where = f"{rel}:{sym}"
        p = _get(c, "properties")
        expect(_get(p, "httpsOnly") is True, f"{where}: httpsOnly must be true")
        expect(_get(p, "siteConfig", "minTlsVersion") == "1.2", f"{where}: siteConfig.minTlsVersion must be 1.2")
        expect(_get(p, "siteConfig", "ftpsState") == "Disabled", f"{where}: siteConfig.ftpsState must be Disabled")
        expect(_get(p, "siteConfig", "remoteDebuggingEnabled") is False, f"{where}: remote debugging must be off")
        expect(_get(c, "identity", "type") == "UserAssigned", f"{where}: identity must be user-assigned")
        kv_identity = _get(p, "keyVaultReferenceIdentity")
        assigned = [_key(k) for k in (_get(c, "identity", "userAssignedIdentities") or {})]
        expect(
            isinstance(kv_identity, str) and kv_identity != "SystemAssigned" and f"${{{kv_identity}}}" in assigned,
            f"{where}: keyVaultReferenceIdentity must be the user-assigned identity",
        )
        expect(_get(p, "functionAppConfig", "runtime", "name") == "python", f"{where}: runtime must be python")
        expect(_get(p, "functionAppConfig", "runtime", "version") == "3.11", f"{where}: runtime version must be 3.11")
        auth = _get(p, "functionAppConfig", "deployment", "storage", "authentication", "type")
        expect(auth == "UserAssignedIdentity", f"{where}: deployment storage must use the user-assigned identity")

    settings = app_settings(parsed)
    expect(bool(settings), "no Microsoft.Web/sites/config 'appsettings' declared")
    if settings:
        expect(
            settings.get("AzureWebJobsStorage__credential") == "managedidentity",
            "AzureWebJobsStorage__credential must be managedidentity",
        )
        for name in ("clientId", "blobServiceUri", "queueServiceUri", "tableServiceUri"):
            expect(bool(settings.get(f"AzureWebJobsStorage__{name}")), f"AzureWebJobsStorage__{name} must be set")
        expect("AzureWebJobsStorage" not in settings, "no AzureWebJobsStorage connection string in Azure")
        expect(
            "Authorization=AAD" in str(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "")),
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be ClientId=<identity>;Authorization=AAD",
        )
        expect(
            str(settings.get("O365_CLIENT_SECRET", "")).startswith("@Microsoft.KeyVault("),
            "O365_CLIENT_SECRET must be a Key Vault reference",
        )
        expect(
            str(settings.get("CONSOLE_CSRF_KEY", "")).startswith("@Microsoft.KeyVault("),
            "CONSOLE_CSRF_KEY must be a Key Vault reference",
        )
        flex_forbidden = ("FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_CONTENTSHARE")
        for forbidden in flex_forbidden:
            expect(forbidden not in settings, f"{forbidden} must not be set on Flex Consumption")
    expect("listKeys(" not in raw_text, "no listKeys(): nothing may read a storage or App Insights key")

    # Role assignments: the function app's identity gets each data-plane role it needs, as a ServicePrincipal.
    granted: set[str] = set()
    for rel, doc in parsed.items():
        for sym, res in (doc.get("resources") or {}).items():
            if res.get("type") != "Microsoft.Authorization/roleAssignments" or res.get("existing"):
                continue
            config = res.get("config") or {}
            while isinstance(config, dict) and ("loop_type" in config or "condition" in config) and "config" in config:
                config = config["config"]
            if _get(config, "properties", "principalId") == "identityPrincipalId":
                expect(
                    _get(config, "properties", "principalType") == "ServicePrincipal",
                    f"{rel}:{sym}: principalType of the app identity must be ServicePrincipal",
                )
                granted.update(_role_guids(doc, res, config))
    for role, guid in ROLES.items():
        expect(guid in granted, f"the app identity lacks {role} ({guid})")
    problems += _auth_problems(auth_settings(parsed), settings)
    return problems


def table_names(parsed: dict[str, dict]) -> list[str]:
    for doc in parsed.values():
        default = _get(doc.get("parameters"), "tableNames", "default")
        if isinstance(default, list):
            return default
    return []


def validate(root: Path, checkov: bool = True) -> dict:
    parsed, parse_errors = parse_all(root)
    raw_text = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.bicep"))
    report: dict = {"root": str(root), "files": sorted(parsed), "parse_errors": parse_errors}
    try:
        report["property_problems"] = property_problems(parsed, raw_text)
        report["app_settings"] = sorted(app_settings(parsed))
        report["auth_settings"] = auth_settings(parsed)
    except ValueError as exc:
        report["property_problems"], report["app_settings"] = [str(exc)], []
    report["tables"] = table_names(parsed)
    if checkov:
        ck = run_checkov(root)
        report["checkov"] = {k: v for k, v in ck.items() if k != "passed"}
        report["checkov"]["passed_ids"] = sorted({c["id"] for c in ck.get("passed", [])})
        report["checkov_problems"] = checkov_problems(ck)
    report["ok"] = not (parse_errors or report["property_problems"] or report.get("checkov_problems"))
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", nargs="?", default=str(HERE), type=Path)
    ap.add_argument("--no-checkov", action="store_true", help="parsers and property checks only")
    ap.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = ap.parse_args(argv)
    report = validate(args.root.resolve(), checkov=not args.no_checkov)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for problem in report["parse_errors"] + report["property_problems"] + report.get("checkov_problems", []):
            print("FAIL", problem)
        if "checkov" in report:
            s = report["checkov"].get("summary", {})
            print(
                f"checkov: passed {s.get('passed')}, failed {s.get('failed')}, skipped {s.get('skipped')}, "
                f"parsing errors {s.get('parsing_errors')}"
            )
            for c in report["checkov"].get("skipped", []):
                print(f"  skipped {c['id']} on {c['resource']}: {c['reason']}")
        print("infra validation:", "OK" if report["ok"] else "FAILED")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
