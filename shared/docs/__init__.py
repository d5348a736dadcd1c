"""The documentation side: the documentation-store interface, its own-tables and IT Glue backends, the ledger of
what o365mon made in IT Glue, imports and exports, and the IT Glue API client."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.docs.base import DocumentationStore
    from shared.docs.tables import TableDocumentationStore


def documentation_store() -> DocumentationStore:
    """The backend DOCS_BACKEND names (tables, the default, or itglue): the one the matcher, the review, the
    CLI and the HTTP API all use."""
    from shared import settings

    if settings.docs_backend() == "itglue":
        from shared.docs.itglue_store import ItGlueDocumentationStore

        return ItGlueDocumentationStore()
    from shared.docs.tables import TableDocumentationStore

    return TableDocumentationStore()


class ImportNotSupported(ValueError):
    status = 400


def import_store() -> TableDocumentationStore:
    """Imports write the own tables: with DOCS_BACKEND=itglue the documentation is IT Glue's, edited there."""
    from shared import settings

    if settings.docs_backend() == "itglue":
        raise ImportNotSupported(
            "imports write o365mon's own tables; with DOCS_BACKEND=itglue the documentation lives in IT Glue"
        )
    from shared.docs.tables import TableDocumentationStore

    return TableDocumentationStore()


def close(store: object) -> None:
    """Release a store's connections (the IT Glue client's); the own tables hold none of their own."""
    closer = getattr(store, "close", None)
    if callable(closer):
        closer()
