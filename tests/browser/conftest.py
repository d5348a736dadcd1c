"""Browser fixtures: the function app in the local runner (dev sign-in on, queues polled) over an Azurite of its
own, with simulator tenants synced and matched against a documentation set; headless Debian Chromium driven by
Selenium through /usr/bin/chromedriver (nothing downloaded). Loopback only.

    console      the served app: .url, .tenants {label: SampleTenant}, .docs (documentation store), .runner,
                 .graph (its Graph simulator), .runs (filled by `collected`)
    collected    the console after one reports and one health collection of every tenant (dashboard, tenant pages,
                 licence report read them); the review tests do without (about 10 s)
    browser      one Chromium for the session (window 1280x900), cookies cleared before each test
    sign_in      sign_in(role, name=...) signs the browser in through /.auth/login/dev and returns it

`make test` installs chromium and chromium-driver (Makefile); without them these tests fail under
O365MON_REQUIRE_INFRA=1 and skip otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "7401aaaa-2222-3333-4444-555555555555"
# Seeds 7401-7500 belong to the console's tests; each label is one review situation against the sample docs.
TENANTS = {
    "suggested": (7401, "Fabrikam"),  # -> suggestion "Fabrikham Inc"
    "unmatched": (7402, "Northwind Traders"),  # nothing close: match to another organization by search
    "ignorable": (7403, "Tailspin Toys"),
    "creatable": (7404, "Litware"),
    "matched": (7405, "Woodgrove Bank"),  # exact name: matched, contacts linked
}
WAIT_S = 10.0


@dataclass
class Console:
    url: str
    runner: Any
    tenants: dict[str, Any]
    docs: Any
    master_key: str
    function_key: str
    graph: Any = None
    runs: list[Any] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def page(self, path: str) -> str:
        return f"{self.url}/api/console/{path.lstrip('/')}"


def _require(path: Path) -> None:
    if path.exists():
        return
    if os.environ.get("O365MON_REQUIRE_INFRA"):
        pytest.fail(f"{path} is missing: `make install` installs Debian's chromium and chromium-driver")
    pytest.skip(f"{path} absent (make install installs chromium and chromium-driver)")


@pytest.fixture(scope="session")
def console_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An Azurite of the browser tests alone: the review lists every tenant, so no other test's tenants."""
    from devtools.azurite import Azurite

    with Azurite() as instance:
        yield instance


@pytest.fixture(scope="session")
def console_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Graph simulator of its own: the manual sync reaches it while the app runs, whatever other modules serve."""
    from devtools.simulator import GraphSimulator
    from devtools.simulator.server import AppCredential
    from devtools.simulator.tenants import SampleTenant

    sample = {label: SampleTenant.generate(seed, 12, display_name=name) for label, (seed, name) in TENANTS.items()}
    secret = "console-" + secrets.token_urlsafe(12)
    apps = {CLIENT_ID: AppCredential(secret=secret)}
    with GraphSimulator(list(sample.values()), apps, tmp_path_factory.mktemp("console-graph")) as sim:
        yield sim, sample, secret


@pytest.fixture(scope="session")
def console(console_storage: Any, console_graph: Any) -> Iterator[Console]:
    import function_app
    from devtools.azurite import free_port
    from devtools.runner import LocalRunner
    from shared.directory.sync import sync_tenant
    from shared.docs import transfer
    from shared.docs.tables import TableDocumentationStore
    from shared.matching.run import handle_message
    from shared.store import storage, tenants

    graph_simulator, sample, secret = console_graph
    env = {
        "AzureWebJobsStorage": console_storage.connection_string,
        "GRAPH_ENDPOINT": graph_simulator.graph_endpoint,
        "LOGIN_ENDPOINT": graph_simulator.login_endpoint,
        "O365_CA_BUNDLE": str(graph_simulator.ca_path),
        "O365_CLIENT_ID": CLIENT_ID,
        "O365_CLIENT_SECRET": secret,
        "DOCS_BACKEND": "tables",
        "CONSOLE_CSRF_KEY": secrets.token_urlsafe(32),
        "SYNC_SCHEDULE": "0 0 0 1 1 *",
        "COLLECT_SCHEDULE": "0 0 0 1 1 *",
        "HEALTH_SCHEDULE": "0 0 0 1 1 *",
    }
    patch = pytest.MonkeyPatch()
    for name, value in env.items():
        patch.setenv(name, value)
    for name in ("AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__queueServiceUri", "O365_TENANT_ID"):
        patch.delenv(name, raising=False)
    storage.reset_caches()
    docs = TableDocumentationStore()
    transfer.import_json(docs, (ROOT / "devtools" / "sample_docs" / "documentation.json").read_text("utf-8"))
    for t in sample.values():
        tenants.add(tenants.Tenant(t.tenant_id, t.display_name, [t.domain]))
        asyncio.run(sync_tenant(t.tenant_id, "test", enqueue=False))
        handle_message(json.dumps({"tenant_id": t.tenant_id, "trigger": "test"}), store=docs)
    function_key, master_key = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    runner = LocalRunner(
        function_app.app,
        ROOT / "host.json",
        port=free_port(),
        function_key=function_key,
        master_key=master_key,
        enable_timers=False,
        dev_sign_in=True,
    )
    runner.start()
    try:
        yield Console(runner.base_url, runner, sample, docs, master_key, function_key, graph_simulator, [], env)
    finally:
        runner.stop()
        patch.undo()
        storage.reset_caches()


@pytest.fixture(scope="session")
def collected(console: Console) -> Console:
    from shared.collect.collector import collect_all

    console.runs = asyncio.run(collect_all()) + asyncio.run(collect_all(schedule="health"))
    return console


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    _require(CHROMIUM)
    _require(CHROMEDRIVER)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="o365mon-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: Any, console: Console) -> Any:
    chromium.get(f"{console.url}/.auth/logout")  # no session left over from another test
    chromium.delete_all_cookies()
    chromium.set_window_size(1280, 900)
    return chromium


@pytest.fixture
def sign_in(browser: Any, console: Console) -> Callable[..., Any]:
    from selenium.webdriver.common.by import By

    def sign_in(role: str, name: str = "", then: str = "review") -> Any:
        browser.get(f"{console.url}/.auth/login/dev?post_login_redirect_uri=/api/console/{then}")
        field_ = browser.find_element(By.ID, "name")
        field_.clear()
        field_.send_keys(name or f"Test {role.title()}")
        browser.find_element(By.CSS_SELECTOR, f"input[name=role][value={role}]").click()
        browser.find_element(By.ID, "sign-in").click()
        # The click starts a navigation that Selenium does not wait for: wait for the signed-in page itself.
        wait_for(
            browser,
            lambda b: "/.auth/login" not in b.current_url and b.find_elements(By.CSS_SELECTOR, "[data-testid=role]"),
        )
        wait_for(browser, lambda b: b.execute_script("return document.readyState") == "complete")
        return browser

    return sign_in


def wait_for(browser: Any, condition: Callable[[Any], Any], timeout: float = WAIT_S) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # An htmx swap may replace an element between finding it and reading it: look again.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(browser, timeout, poll_frequency=0.05, ignored_exceptions=ignored).until(condition)


DOCS = ROOT / "docs"


def screenshot(browser, name: str, width: int = 1280) -> None:
    if not os.environ.get("O365MON_SCREENSHOTS"):
        return
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(max(height + 40, 500), 2400))
    browser.save_screenshot(str(DOCS / f"{name}.png"))
    browser.set_window_size(1280, 900)
