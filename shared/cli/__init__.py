"""The `o365mon` command line: checks on stored data, tenants, collection, documentation sync and review."""
