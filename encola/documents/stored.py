"""A document rendered from the database by the render process itself.

A first download used to read the invoice in the API process, in a thread of its threadpool, and
send the row, pickled, to a render process. Under sixteen first downloads at once that lookup was
about 40 % of the API process's CPU (sampled in ``benchmarks/run.py --phases documents``): the
query itself, and a thread fighting the event loop for the GIL. Now the API process checks the
token and sends the invoice id and the file name; the render process, which has a core to itself
and nothing else to do, reads the invoice on its own connection and renders it.

A render process can open a SQLite file or a PostgreSQL database. An in-memory SQLite database
(tests) exists only in the API process, and so does the one-thread pool (``ENCOLA_RENDER_PROCESSES
=0``): then the API process reads the invoice and sends the row (``render_named``).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from encola.documents.render import RENDERERS, filename
from encola.store.db import make_engine
from encola.store.documents import EmittedDocument, read_emitted_document

_engines: dict[str, Engine] = {}  # per render process, by database URL


def shareable_url(url: URL) -> str | None:
    """The URL another process opens this database with; None when it cannot (in memory)."""
    if url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    ):
        return None
    return url.render_as_string(hide_password=False)


def render_stored(database_url: str, invoice_id: int, name: str) -> tuple[str, bytes] | None:
    """In a render process: (kind, PDF) of the document called ``name`` of the emitted invoice
    ``invoice_id``; None when there is none (the invoice is not emitted, or has no such file)."""
    return render_named(_read(database_url, invoice_id), name)


def connect(database_url: str) -> None:
    """A render process's warm-up (``pool.RenderPool.open``): open its connection and prepare the
    lookup before the first buyer asks. Lazily, a PostgreSQL connection and the statement's first
    compilation made each process's first download the slowest of a benchmark run."""
    _read(database_url, 0)


def _read(database_url: str, invoice_id: int) -> EmittedDocument | None:
    engine = _engines.get(database_url)
    if engine is None:
        engine = _engines[database_url] = _reading_engine(database_url)
    with engine.connect() as connection:
        return read_emitted_document(connection, invoice_id)


def _reading_engine(database_url: str) -> Engine:
    """The render process's engine. The lookup is one SELECT, consistent by itself: on PostgreSQL
    it runs in autocommit, one round trip instead of three (BEGIN, SELECT, COMMIT), which also
    spares the server two statements per first download."""
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def render_named(document: EmittedDocument | None, name: str) -> tuple[str, bytes] | None:
    """(kind, PDF) of ``document``'s file called ``name``; None when it has none."""
    if document is None:
        return None
    kind = next((k for k in RENDERERS if filename(document.row, k) == name), None)
    if kind is None:
        return None
    return kind, RENDERERS[kind](document.row, document.issuer, afip_env=document.afip_env)
