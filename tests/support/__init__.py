"""Test helpers and shared data (the fixtures stay in tests/conftest.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shared.collect.catalog import Dataset

if TYPE_CHECKING:
    from devtools.simulator import GraphSimulator


def store_snapshot(tenant_id: str, report: Dataset, rows: list[list], refresh_date: str) -> None:
    """Store rows as a collection would (snapshot + per-mode summaries), without going through Graph."""
    from shared.collect.collector import store_rows

    store_rows(tenant_id, report, rows, refresh_date=refresh_date)


def use_simulator(monkeypatch: pytest.MonkeyPatch, sim: GraphSimulator, client_id: str, secret: str) -> None:
    """Point the app's Graph and credential settings at a running Graph simulator."""
    monkeypatch.setenv("GRAPH_ENDPOINT", sim.graph_endpoint)
    monkeypatch.setenv("LOGIN_ENDPOINT", sim.login_endpoint)
    monkeypatch.setenv("O365_CA_BUNDLE", str(sim.ca_path))
    monkeypatch.setenv("O365_CLIENT_ID", client_id)
    monkeypatch.setenv("O365_CLIENT_SECRET", secret)


# Centreon's email-activity mode run on observed data (3 users over D7, 2 active on 2024-01-15), and its output.
CENTREON_ROWS = [
    ["alice@contoso.com", "2024-01-15", 4, 3, 10, 7],
    ["bob@contoso.com", "2024-01-15", 9, 9, 9, 7],
    ["carol@contoso.com", "2024-01-10", 1, 1, 1, 7],
    ["alice@contoso.com", "2024-01-15", 6, 20, 10, 1],
    ["bob@contoso.com", "2024-01-15", 4, 3, 5, 1],
]
CENTREON_OUTPUT = (
    "OK: Active users on 2024-01-15 : 2/3 (66.67%) - Total (active users) Send Count: 10, Receive Count: 23, "
    "Read Count: 15 | 'perfdate'=1705320000;;;; 'active_users'=2users;;;0;3 'total_send_count'=10;;;0; "
    "'total_receive_count'=23;;;0; 'total_read_count'=15;;;0;\n"
)
FUNCTION_KEY, MASTER_KEY = "fk-test-0123456789abcdef", "mk-test-0123456789abcdef"
