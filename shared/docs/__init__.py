"""The documentation side: the documentation-store interface, its own-tables and IT Glue backends, the ledger of
what o365mon made in IT Glue, imports and exports, and the IT Glue API client."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.docs.base import DocumentationStore
    from shared.docs.tables import TableDocumentationStore


# A person (or a script) waits on an HTTP answer: each IT Glue call gets a few attempts within seconds, not the
# queue work's patience (10 attempts within 15 minutes), so an unreachable IT Glue is answered 503 while the
# caller still waits (Azure's front end gives up on an HTTP request after 230 s).
INTERACTIVE_DEADLINE_S = 20.0
INTERACTIVE_ATTEMPTS = 3
INTERACTIVE_TIMEOUT_S = 15.0
_interactive: contextvars.ContextVar[bool] = contextvars.ContextVar("o365mon_docs_interactive", default=False)


@contextlib.contextmanager
def interactive() -> Iterator[None]:
    """Inside this block, documentation_store() gives up on IT Glue within INTERACTIVE_DEADLINE_S per call."""
    token = _interactive.set(True)
    try:
        yield
    finally:
        _interactive.reset(token)


def documentation_store() -> DocumentationStore:
    """The backend DOCS_BACKEND names (tables, the default, or itglue): the one the matcher, the review, the
    CLI and the HTTP API all use."""
    from shared import settings

    if settings.docs_backend() == "itglue":
        from shared.docs.itglue import ItGlueClient
        from shared.docs.itglue_store import ItGlueDocumentationStore

        if _interactive.get():
            client = ItGlueClient(
                deadline=INTERACTIVE_DEADLINE_S, max_attempts=INTERACTIVE_ATTEMPTS, timeout=INTERACTIVE_TIMEOUT_S
            )
            return ItGlueDocumentationStore(client, owns_client=True)
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
