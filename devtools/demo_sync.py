"""`make demo`, contact sync part: loads the sample documentation set (devtools/sample_docs/), fetches each
tenant's directory from Graph (the simulator), runs the matcher directly and prints the counts and a few
review items. Called by devtools/demo.py once storage and Graph settings are in the environment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

SAMPLE_DOCS = Path(__file__).resolve().parent / "sample_docs" / "documentation.json"


def run(say: Callable[[str], None], tenant_ids: list[str]) -> None:
    from shared.directory.sync import sync_tenant
    from shared.docs import transfer
    from shared.docs.tables import TableDocumentationStore
    from shared.matching import review, state
    from shared.matching.run import handle_message

    store = TableDocumentationStore()
    counts = transfer.import_json(store, SAMPLE_DOCS.read_text(encoding="utf-8"))
    say(f"$ o365mon docs import {SAMPLE_DOCS.relative_to(SAMPLE_DOCS.parents[2])}")
    say(f"  {counts['organizations']} organizations, {counts['contacts']} contacts")
    for tenant_id in tenant_ids:
        info = asyncio.run(sync_tenant(tenant_id, "demo", enqueue=False))
        if info is None:
            log = state.recent_logs(tenant_id, 1)[0]
            say(f"  {tenant_id}: directory sync failed: {log['errors_text'][0][:160]}")
            continue
        record = handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "demo"}), store=store)
        c = record.counts
        say(
            f"  {info.display_name} ({info.users} users): organization {record.organization_status}; created "
            f"{c['created']}, updated {c['updated']}, matched {c['matched']}, ambiguous {c['ambiguous']}, "
            f"ignored {c['ignored']}, errors {c['errors']}"
        )
    say("$ o365mon review list")
    for item in review.list_items(store=store):
        if item["kind"] != "organization" or item["tenant_id"] not in tenant_ids:
            continue
        target = item["organization_name"] or ", ".join(f"{s['name']} ({s['score']:.0f})" for s in item["suggestions"])
        say(f"  {item['status']:10} {item['tenant_name']:18} -> {target or '-'}")
    for item in review.list_items("ambiguous", store=store)[:3]:
        if item["kind"] == "user" and item["tenant_id"] in tenant_ids:
            say(f"  ambiguous  {item['upn']} ({item['rule']}): {item['detail'][:120]}")
    matched = next((m for m in state.list_matches() if m.tenant_id in tenant_ids and m.status == "matched"), None)
    if matched is not None:
        rows = [r for r in state.load_results(matched.tenant_id) if r["status"] == "matched" and r["rule"] == "name"]
        if rows:
            out = review.compare(matched.tenant_id, rows[0]["contact_id"], store=store)
            say(f"$ o365mon review compare {matched.tenant_id} {rows[0]['contact_id']}")
            c = out["contact"]
            say(f"  {c['first_name']} {c['last_name']} <-> {out['user']['user_principal_name']} (linked by name)")
            say(f"  manage: {out['manage_url']}")
