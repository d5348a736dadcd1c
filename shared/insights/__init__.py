"""The console's insights: per-tenant summaries, the all-tenants dashboard, history and the licence report."""
