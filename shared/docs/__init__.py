"""The documentation side: the documentation-store interface, its own-tables backend, imports and exports, and
the IT Glue API client."""
