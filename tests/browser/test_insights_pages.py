"""The dashboard, a tenant page and the licence report in a real browser (headless Chromium), signed in as a
reader, on the console's simulator tenants after a real collection of each: every tenant is a row, the problem
filter keeps only the others, a tenant page shows every check and draws its history with uPlot (a canvas with
pixels that are not blank), and the licence CSV downloads with a header and one row per tenant and SKU.

O365MON_SCREENSHOTS=1 saves the screens into docs/ (docs/console-dashboard.png, docs/console-tenant.png)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import WAIT_S, screenshot, wait_for


@pytest.fixture(scope="module")
def collected(console):
    """Each console tenant collected once on both schedules, and 30 earlier days of history for one of them."""
    from shared.collect.collector import collect_all
    from shared.store import history, storage

    storage.reset_caches()
    for t in console.tenants.values():
        asyncio.run(collect_all(t.tenant_id))
        asyncio.run(collect_all(t.tenant_id, schedule="health"))
    charted = console.tenants["matched"]
    latest: dict[str, object] = {}
    for row in history.rows(charted.tenant_id):
        latest.update({k: v for k, v in row.items() if k not in ("PartitionKey", "RowKey", "Timestamp")})
    today = dt.datetime.now(dt.UTC).date()
    past = {}
    for d in range(3, 33):  # a month before the collection, drifting around its figures
        drift = 1 - 0.01 * d + 0.04 * (d % 3)
        day = {k: round(v * drift) for k, v in latest.items() if isinstance(v, int) and not isinstance(v, bool)}
        skus = history.licences_of(latest)
        day[history.LICENCES] = json.dumps({s: [e, max(0, c - d % 4)] for s, (e, c) in skus.items()})
        past[(today - dt.timedelta(days=d)).isoformat()] = day
    history.record(charted.tenant_id, past)
    return console


def test_dashboard_lists_every_tenant_filters_problems_and_opens_a_tenant(collected, sign_in) -> None:
    browser = sign_in("reader", then="")
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-testid=dashboard]"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=role]").text == "reader"
    rows = {r.get_attribute("data-tenant"): r for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-tenant]")}
    for t in collected.tenants.values():
        assert t.tenant_id in rows and t.display_name in rows[t.tenant_id].text
        assert t.domain in rows[t.tenant_id].text
    worst = {tid: r.get_attribute("data-worst") for tid, r in rows.items()}
    screenshot(browser, "console-dashboard")
    browser.find_element(By.ID, "problems").click()
    browser.find_element(By.CSS_SELECTOR, ".board-form button[type=submit]").click()
    wait_for(browser, lambda b: "problems=1" in b.current_url)
    shown = {r.get_attribute("data-tenant") for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-tenant]")}
    assert shown == {tid for tid, w in worst.items() if w != "OK"}
    browser.get(collected.page(""))
    tenant = collected.tenants["matched"]
    browser.find_element(By.LINK_TEXT, tenant.display_name).click()
    wait_for(browser, lambda b: b.find_elements(By.ID, "check-collection-status"))
    assert f"/tenants/{tenant.tenant_id}" in browser.current_url


def test_tenant_page_shows_every_check_and_draws_its_history(collected, sign_in) -> None:
    from shared.insights.summary import CHECKS

    tenant = collected.tenants["matched"]
    browser = sign_in("reader", then=f"tenants/{tenant.tenant_id}")
    wait_for(browser, lambda b: b.find_elements(By.ID, "check-collection-status"))
    for check in CHECKS:
        section = browser.find_element(By.ID, f"check-{check.check_id}")
        assert section.find_element(By.CSS_SELECTOR, "pre.output").text.split(":")[0] in (
            "OK", "WARNING", "CRITICAL", "UNKNOWN",
        )  # fmt: skip
    chart = "[data-testid=chart-active-users]"
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, chart).get_attribute("data-drawn"))
    assert browser.find_element(By.CSS_SELECTOR, chart).get_attribute("data-drawn") == "1"
    painted = browser.execute_script(
        """const canvas = document.querySelector(arguments[0] + ' canvas');
        if (!canvas) return -1;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
        return n;""",
        chart,
    )
    assert painted > 500  # axes, grid and two series over 31 days
    deadline = time.monotonic() + WAIT_S
    while browser.find_elements(By.CSS_SELECTOR, "[data-chart]:not([data-drawn])") and time.monotonic() < deadline:
        time.sleep(0.1)
    screenshot(browser, "console-tenant")


def test_licence_report_downloads_as_csv(collected, sign_in, tmp_path: Path) -> None:
    from shared.insights import licences

    browser = sign_in("reader", then="licences")
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-testid=licences]"))
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.find_element(By.CSS_SELECTOR, "[data-testid=csv]").click()
    target = tmp_path / "o365mon-licences.csv"
    wait_for(browser, lambda b: target.exists() and target.stat().st_size > 0)
    text = target.read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert text.splitlines()[0] == ",".join(licences.COLUMNS)
    expected = licences.rows()
    assert [(r["tenant_id"], r["sku"]) for r in rows] == [(e["tenant_id"], e["sku"]) for e in expected]
    assert {r["tenant_id"] for r in rows} == {t.tenant_id for t in collected.tenants.values()}
    for r, e in zip(rows, expected, strict=True):
        assert (int(r["enabled"]), int(r["consumed"]), int(r["free"])) == (e["enabled"], e["consumed"], e["free"])
    shown = browser.find_elements(By.CSS_SELECTOR, "[data-testid=licences] tbody tr")
    assert len(shown) == len(rows)
