"""Matching Microsoft 365 tenants and users to documented organizations and contacts (IT Glue's rules).

`normalize` (names, e-mails), `orgs` and `contacts` (pure decisions, no I/O: benchmarked in memory), `policy`
(which users may be created), `state` (per-tenant match state, results, sync logs), `lock` (one run per
tenant), `queue` (messages), `run` (a whole queue-triggered run), `review` (the admin actions).
"""
