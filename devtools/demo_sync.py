"""`make demo`, contact sync part: the IT Glue simulator holds the sample documentation set
(devtools/sample_docs/: near-miss organization names, contacts that match by alias, by user name, by name, or
not at all); each tenant's directory is fetched from Graph (the simulator) and the matcher writes into IT Glue
through its API (DOCS_BACKEND=itglue), printing what it created, linked and suggested and the IT Glue requests
it took. Called by devtools/demo.py once storage and Graph settings are in the environment."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Callable

from devtools.itglue import ItGlueSimulator, sample


def start_itglue() -> ItGlueSimulator:
    """The IT Glue simulator with the sample documentation, and the settings that point the app at it."""
    sim = ItGlueSimulator()
    sim.start()
    sample.seed(sim)
    os.environ.update({"DOCS_BACKEND": "itglue", "ITGLUE_API_URL": sim.url, "ITGLUE_API_KEY": sim.api_key})
    return sim


def _writes(counts: dict[str, int]) -> int:
    return sum(n for k, n in counts.items() if not k.startswith("GET"))


def run(say: Callable[[str], None], tenant_ids: list[str], itglue: ItGlueSimulator) -> None:
    from shared import docs
    from shared.directory.sync import sync_tenant
    from shared.matching import review, state
    from shared.matching.run import handle_message

    store = docs.documentation_store()
    orgs, people = len(itglue.organizations()), len(itglue.contacts())
    say(f"IT Glue simulator {itglue.url}: {orgs} organizations, {people} contacts (devtools/sample_docs)")
    synced = []
    for tenant_id in tenant_ids:
        info = asyncio.run(sync_tenant(tenant_id, "demo", enqueue=False))
        if info is None:
            log = state.recent_logs(tenant_id, 1)[0]
            say(f"  {tenant_id}: directory sync failed: {log['errors_text'][0][:160]}")
            continue
        record = handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "demo"}), store=store)
        synced.append(tenant_id)
        c = record.counts
        rules = Counter(r["rule"] for r in state.load_results(tenant_id) if r["status"] == "matched")
        linked = ", ".join(f"{n} by {rule}" for rule, n in sorted(rules.items()))
        say(
            f"  {info.display_name} ({info.users} users): organization {record.organization_status}; created "
            f"{c['created']}, linked {c['matched']}{f' ({linked})' if linked else ''}, ambiguous {c['ambiguous']}, "
            f"skipped {c['ignored']}, errors {c['errors']}; {record.doc_requests} IT Glue requests"
        )
        for note in record.notes:
            if note.startswith("licences:"):
                say(f"    {note}")
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
    first = itglue.request_counts()
    say(f"IT Glue requests in all: {sum(first.values())} ({_writes(first)} writes)")
    for tenant_id in synced:  # the same messages again, as a second delivery would bring them
        handle_message(json.dumps({"tenant_id": tenant_id, "trigger": "demo"}), store=store)
    again = {k: n - first.get(k, 0) for k, n in itglue.request_counts().items()}
    say(f"Second sync of the same tenants: {sum(again.values())} IT Glue requests, {_writes(again)} writes")
    docs.close(store)
