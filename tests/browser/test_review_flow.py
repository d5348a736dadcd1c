"""The review screen in a real browser (headless Chromium), on simulator tenants against the sample documentation:
a reader sees and cannot act; an admin walks IT Glue's Matching workflow (unmatched -> accept a suggestion, match
to another organization found by search-as-you-type, ignore and unignore, create the organization, change a match,
manual sync -> sync logs, one contact beside its Microsoft 365 user). Decisions take effect at the next match run,
which the runner's queue trigger performs, so the test waits for the page to show the new state.

O365MON_SCREENSHOTS=1 saves the screens into docs/ (docs/console-review*.png) as the README shows them."""

from __future__ import annotations

import json
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import WAIT_S, screenshot, wait_for


def row(browser, tenant) -> object:
    return browser.find_element(By.ID, f"row-{tenant.tenant_id}")


def open_filter(browser, console, status: str) -> None:
    browser.get(console.page(f"review?status={status}"))


def wait_row_status(browser, console, tenant, status: str, organization: str = "") -> object:
    """Reload the filter until the tenant's row shows the status (and organization): the decision's match run
    happens in the queue trigger, a moment after the click."""
    deadline = time.monotonic() + WAIT_S
    while True:
        open_filter(browser, console, status)
        found = browser.find_elements(By.ID, f"row-{tenant.tenant_id}")
        if found and not found[0].find_elements(By.CSS_SELECTOR, "[data-testid=pending]"):
            if not organization or organization in found[0].text:
                return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{tenant.display_name} never showed {status} {organization}: {browser.page_source[:3000]}"
            )
        time.sleep(0.2)


def click_action(browser, tenant, action: str) -> None:
    row(browser, tenant).find_element(By.CSS_SELECTOR, f"button[data-action={action}]").click()
    wait_for(browser, lambda b: row(b, tenant).find_elements(By.CSS_SELECTOR, "[data-testid=pending], [role=status]"))


def match_by_search(browser, tenant, typed: str, org_name: str) -> None:
    box = row(browser, tenant).find_element(By.CSS_SELECTOR, "input[type=search]")
    box.send_keys(typed)
    results = f"#results-{tenant.tenant_id} button"
    choice = wait_for(
        browser,
        lambda b: next((el for el in b.find_elements(By.CSS_SELECTOR, results) if org_name in el.text), None),
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, results)) <= 10  # bounded
    choice.click()
    wait_for(browser, lambda b: row(b, tenant).find_elements(By.CSS_SELECTOR, "[data-testid=pending]"))


def post_from_page(browser, path: str) -> tuple[int, str]:
    """A POST sent by the page's own script, with the page's CSRF token: what a reader could try by hand."""
    script = """
        const done = arguments[arguments.length - 1];
        const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}');
        fetch(arguments[0], {method: 'POST', headers: headers}).then(r => r.text().then(t => done([r.status, t])));
    """
    status, text = browser.execute_async_script(script, path)
    return int(status), text


def test_reader_sees_the_review_but_cannot_act(sign_in, console):
    browser = sign_in("reader", name="Rita Reader", then="review?status=")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=role]").text == "reader"
    assert "Rita Reader" in browser.find_element(By.CSS_SELECTOR, "[data-testid=signed-in]").text
    suggested = console.tenants["suggested"]
    assert "Fabrikham Inc" in row(browser, suggested).text  # the suggestion is shown...
    assert browser.find_elements(By.CSS_SELECTOR, "button[data-action], #sync-all, input[type=search]") == []
    status, text = post_from_page(browser, f"/api/console/review/tenants/{suggested.tenant_id}/accept")
    assert status == 403 and "admin role" in text  # ...and refused server-side
    assert post_from_page(browser, "/api/console/review/sync")[0] == 403
    open_filter(browser, console, "suggested")
    assert row(browser, suggested).get_attribute("data-status") == "suggested"  # nothing changed


def test_admin_walks_the_review_flow(sign_in, console):
    t = console.tenants
    browser = sign_in("admin", name="Ada Admin", then="review")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=role]").text == "admin"
    # IT Glue's order: start with Unmatched.
    unmatched = browser.find_element(By.CSS_SELECTOR, ".filters a[aria-current=page]").text
    assert unmatched.startswith("Unmatched")
    for label in ("unmatched", "ignorable", "creatable"):
        assert row(browser, t[label]).get_attribute("data-status") == "unmatched"
    screenshot(browser, "console-review")

    # Accept a suggestion.
    browser.find_element(By.CSS_SELECTOR, "a[data-filter=suggested]").click()
    click_action(browser, t["suggested"], "accept")
    wait_row_status(browser, console, t["suggested"], "matched", "Fabrikham Inc")

    # Match to another organization, found by typing part of its name.
    open_filter(browser, console, "unmatched")
    match_by_search(browser, t["unmatched"], "pharma", "Contoso Pharmaceuticals")
    wait_row_status(browser, console, t["unmatched"], "matched", "Contoso Pharmaceuticals")

    # Ignore, then unignore.
    open_filter(browser, console, "unmatched")
    click_action(browser, t["ignorable"], "ignore")
    wait_row_status(browser, console, t["ignorable"], "ignored")
    click_action(browser, t["ignorable"], "unignore")
    wait_row_status(browser, console, t["ignorable"], "unmatched")

    # Create the organization from the tenant.
    click_action(browser, t["creatable"], "create-organization")
    wait_row_status(browser, console, t["creatable"], "matched", "Litware")

    # Change a match: the accepted tenant goes to another organization.
    open_filter(browser, console, "matched")
    assert row(browser, t["suggested"]).find_element(By.TAG_NAME, "label").text == "Change match"
    match_by_search(browser, t["suggested"], "contoso l", "CONTOSO, Ltd.")
    wait_row_status(browser, console, t["suggested"], "matched", "CONTOSO, Ltd.")
    screenshot(browser, "console-review-matched")

    # Manual sync of one tenant -> a new sync log at the top, with its counts.
    matched = t["matched"]
    browser.get(console.page(f"review/tenants/{matched.tenant_id}"))
    logs_before = len(browser.find_elements(By.CSS_SELECTOR, "[data-testid=logs] tbody tr"))
    browser.find_element(By.ID, "sync-tenant").click()
    notice = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "#flash[data-announce]"))
    assert "sync enqueued" in notice.text

    def finished_log(b):  # a run's record says `started` until it ends
        b.get(console.page(f"review/tenants/{matched.tenant_id}"))
        rows = b.find_elements(By.CSS_SELECTOR, "[data-testid=logs] tbody tr")
        if len(rows) <= logs_before or "started" in rows[0].text:
            return None
        return [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]

    cells = wait_for(browser, finished_log, timeout=20)
    assert cells[1:3] == ["manual", "success"]
    from shared.matching import state

    newest, previous = state.recent_logs(matched.tenant_id, 2)
    assert cells[0] == newest["started"] and newest["trigger"] == "manual"  # newest first
    assert int(cells[4]) == previous["users"] > 0  # with the run's counts
    statuses = {el.text for el in browser.find_elements(By.CSS_SELECTOR, "table.stack .badge")}
    assert statuses & {"linked", "created"}
    screenshot(browser, "console-review-tenant")


def test_contact_beside_its_microsoft_365_user(sign_in, console):
    """A contact whose documented title differs from Microsoft 365 shows that row highlighted, and the
    admin-center link to manage the user."""
    from shared.matching import state

    tenant = console.tenants["matched"]
    result = next(r for r in state.load_results(tenant.tenant_id) if r["status"] in ("created", "matched"))
    match = state.get_match(tenant.tenant_id)
    contact = console.docs.contact(match.org_id, result["contact_id"])
    changed = type(contact)(**{**contact.__dict__, "title": "Documented title"})
    console.docs.update_contacts([(contact, changed)])
    browser = sign_in("reader", then=f"review/tenants/{tenant.tenant_id}")
    link = browser.find_element(By.CSS_SELECTOR, f"a[href$='/contacts/{result['contact_id']}']")
    link.send_keys(Keys.ENTER)  # keyboard, as well as the mouse
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-testid=compare]"))
    differing = [el.get_attribute("data-differs") for el in browser.find_elements(By.CSS_SELECTOR, "tr.differs")]
    assert differing == ["title"]
    assert "Documented title" in browser.find_element(By.CSS_SELECTOR, "tr.differs").text
    manage = browser.find_element(By.CSS_SELECTOR, "[data-testid=manage]").get_attribute("href")
    assert manage == f"https://admin.microsoft.com/Adminportal/Home#/users/:/UserDetails/{result['user_id']}"
    screenshot(browser, "console-review-contact")


def test_signed_out_page_redirects_to_sign_in_and_json_gets_401(browser, console):
    browser.get(console.page("review"))
    assert "/.auth/login/dev" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "Dev sign-in"
    body = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/api/console/review', {headers: {Accept: 'application/json'}})"
        ".then(r => r.text().then(t => done([r.status, t])));"
    )
    assert body[0] == 401 and "sign in" in json.loads(body[1])["error"]


@pytest.mark.parametrize("width", [390])
def test_review_is_readable_on_a_phone(sign_in, console, width):
    browser = sign_in("admin", then="review?status=")
    browser.set_window_size(width, 844)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0  # no sideways scrolling of the page itself
    first = browser.find_element(By.CSS_SELECTOR, "table.stack tbody td[data-label=Tenant]")
    assert first.value_of_css_property("display") == "block"  # rows stacked as cards
    screenshot(browser, "console-review-phone", width=width)
