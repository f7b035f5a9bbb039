"""The store's side of documents: issuer versions, what emission records, the link key, the 0006 upgrade."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import column, insert, select, table, text

from encola.api.provisioning import modify
from encola.store.db import MIGRATIONS, make_engine
from encola.store.lanes import Lane, LaneStore
from encola.store.schema import invoices
from encola.store.store import Store
from store_helpers import CUIT, PUNTO_VENTA, make_pdv

LANE = Lane(CUIT, PUNTO_VENTA, 6)
MOMENT = datetime(2025, 3, 10, 12)
# The invoices table as revision 0005 had it.
OLD_INVOICES = table("invoices", *(column(c.name, c.type) for c in invoices.c if c.name not in ("issuer_id", "afip_env")))


def emit(store: Store, seller, reference: str, *, afip_env: str = "simulador") -> int:
    """Queue one FACTURA B and emit it through the engine's own statements."""
    lanes = LaneStore(store, afip_env=afip_env)
    seller.submit(reference)
    [row] = [r for r in lanes.next_batch(LANE, store.clock.today(), 50) if r.external_reference == reference]
    lease = lanes.acquire(LANE, f"worker-{reference}")
    numero = (lease.last_numero or 0) + 1
    lanes.assign_numbers(lease, [(row, numero)])
    lanes.mark_emitted(lease, [{
        "id": row.id, "pdv_id": row.pdv_id, "reference": reference, "cae": f"7100000000{numero:04d}",
        "cae_vencimiento": row.fecha + timedelta(days=10), "afip_qr": f"https://www.afip.gob.ar/fe/qr/?p={numero}",
        "afip_codigo_barras": None, "observaciones": [],
    }], last_numero=numero)
    lanes.release(lease)
    return row.id


def test_a_new_point_of_sale_has_its_first_issuer_version(store):
    seller = make_pdv(store)
    [version] = store.issuer_versions(seller.pdv.id)
    assert (version.razon_social, version.cuit, version.condicion_iva, version.domicilio) == (
        "Empresa de Prueba SA", CUIT, "RI", None
    )
    assert seller.pdv.issuer_id is not None


def test_only_a_change_of_what_documents_print_makes_a_new_version(store):
    seller = make_pdv(store)
    modify(store, seller.pdv, {"webhook_url": "http://127.0.0.1:9/otro", "activo": True})
    assert len(store.issuer_versions(seller.pdv.id)) == 1
    modify(store, seller.pdv, {"domicilio": "Calle 1", "iibb": "Exento", "inicio_actividades": date(2015, 3, 1)})
    modify(store, seller.pdv, {"domicilio": "Calle 1"})  # the same again: no new version
    modify(store, seller.pdv, {"logo": b"\x89PNG\r\n\x1a\nbytes"})
    versions = store.issuer_versions(seller.pdv.id)
    assert [(v.domicilio, v.iibb, v.inicio_actividades, v.logo) for v in versions] == [
        (None, None, None, None),
        ("Calle 1", "Exento", date(2015, 3, 1), None),
        ("Calle 1", "Exento", date(2015, 3, 1), b"\x89PNG\r\n\x1a\nbytes"),
    ]


def test_emission_records_the_issuer_version_and_the_afip_environment(store):
    seller = make_pdv(store)
    first = emit(store, seller, "ref-1", afip_env="homologacion")
    modify(store, seller.pdv, {"domicilio": "Nueva 2", "razon_social": "Nuevo Nombre SA"})
    second = emit(store, seller, "ref-2", afip_env="produccion")

    old, new = store.emitted_document(first), store.emitted_document(second)
    assert (old.afip_env, old.issuer.razon_social, old.issuer.domicilio) == ("homologacion", "Empresa de Prueba SA", None)
    assert (new.afip_env, new.issuer.razon_social, new.issuer.domicilio) == ("produccion", "Nuevo Nombre SA", "Nueva 2")
    assert old.row.id == first and old.row.state == "emitted" and old.row.cae


def test_only_an_emitted_invoice_has_a_document(store):
    seller = make_pdv(store)
    seller.submit("ref-queued")
    [queued] = store.search_by_external_reference(seller.pdv.id, "ref-queued", 0, 1).rows
    assert store.emitted_document(queued.id) is None
    assert store.emitted_document(queued.id + 1000) is None


def test_the_link_key_is_made_once_sealed_and_shared(store, engine, clock):
    key = store.document_link_key()
    assert len(key) == 32
    other = Store(engine, clock, store.secrets)
    assert other.document_link_key() == key
    with engine.connect() as connection:
        sealed = connection.execute(text("SELECT value FROM meta WHERE name = 'document_link_key'")).scalar_one()
    assert key.hex() not in sealed and store.secrets.open(sealed)


def _unreachable(*_args, **_kwargs):
    raise OSError("database unreachable")


PUBLIC_URL = "http://127.0.0.1:8000"


def _fresh_documents(store, engine, clock):
    """A documents room on a store of its own, with no link key cached yet (render in a thread)."""
    from encola.documents.http import Documents

    fresh = Store(engine, clock, store.secrets)
    return fresh, Documents(fresh, PUBLIC_URL, 1 << 20, 0)


def _pdf_path(store, invoice_id: int) -> str:
    """What follows ``/comprobantes/`` in the invoice's ``comprobante_pdf_url``."""
    from encola.documents.links import Links

    link = Links(PUBLIC_URL, store.document_link_key()).of(store.emitted_document(invoice_id).row)
    return link["comprobante_pdf_url"].split("/comprobantes/", 1)[1]


def test_the_documents_room_reads_the_link_key_when_it_opens(store, engine, clock, monkeypatch):
    """A download's token is checked without a query: the key was read when the server started."""
    from encola.documents.links import TOKEN_LENGTH

    seller = make_pdv(store)
    invoice_id = emit(store, seller, "ref-key-at-open")
    fresh, documents = _fresh_documents(store, engine, clock)
    documents.open()
    try:
        monkeypatch.setattr(fresh, "reading", _unreachable)
        monkeypatch.setattr(fresh, "writing", _unreachable)
        wrong = asyncio.run(documents.serve(f"{invoice_id}/{'A' * TOKEN_LENGTH}/FACTURA_B_00006-00000001.pdf"))
        assert wrong.status_code == 404  # the token check needed the key, and nothing else
        unreadable = asyncio.run(documents.serve(_pdf_path(store, invoice_id)))
        assert unreadable.status_code == 503  # the invoice itself is read per request
    finally:
        documents.close()


def test_a_database_unreachable_at_start_leaves_the_link_key_to_the_first_download(store, engine, clock, monkeypatch):
    seller = make_pdv(store)
    invoice_id = emit(store, seller, "ref-key-later")
    fresh, documents = _fresh_documents(store, engine, clock)
    with monkeypatch.context() as down:
        down.setattr(fresh, "reading", _unreachable)
        documents.open()  # does not raise: the server still starts
    try:
        answer = asyncio.run(documents.serve(_pdf_path(store, invoice_id)))
        assert answer.status_code == 200 and answer.body.startswith(b"%PDF-")
    finally:
        documents.close()


def test_upgrading_to_0006_gives_existing_pdvs_and_emitted_invoices_a_version(database_url, monkeypatch):
    monkeypatch.setenv("ENCOLA_AFIP_ENV", "produccion")
    monkeypatch.delenv("ENCOLA_AFIP_URL", raising=False)
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
        with engine.begin() as connection:
            now = "2025-03-10 12:00:00"
            connection.execute(text(f"INSERT INTO workspaces (id, nombre, activo, created_at) VALUES (1, 'W', true, '{now}')"))
            connection.execute(text(f"INSERT INTO cuits (cuit, workspace_id, created_at, updated_at) VALUES ('{CUIT}', 1, '{now}', '{now}')"))
            connection.execute(text(
                "INSERT INTO pdvs (id, workspace_id, cuit, punto_venta, razon_social, condicion_iva, conceptos, webhook_token,"
                " apikey, usertoken_hash, apitoken_hash, activo, created_at, updated_at) VALUES"
                f" (1, 1, '{CUIT}', 10, 'Vieja SA', 'M', 'P', 't', 'k', 'h', 'h', true, '{now}', '{now}')"
            ))
            for invoice_id, state in ((1, "emitted"), (2, "queued")):
                connection.execute(insert(OLD_INVOICES).values(
                    id=invoice_id, pdv_id=1, cuit=CUIT, punto_venta=10, cbte_tipo=11, tipo="FACTURA C",
                    external_reference=f"r{invoice_id}", request_hash="h", fecha=date(2025, 3, 10), state=state,
                    attempts=0, next_attempt_at=MOMENT, total="1", afip="{}", view="{}", response="{}",
                    created_at=MOMENT, updated_at=MOMENT,
                ))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with engine.connect() as connection:
            [(issuer_id, snapshot)] = connection.execute(text("SELECT id, snapshot FROM issuers")).all()
            assert connection.execute(text("SELECT issuer_id FROM pdvs")).scalar_one() == issuer_id
            rows = connection.execute(text("SELECT id, issuer_id, afip_env FROM invoices ORDER BY id")).all()
        assert json.loads(snapshot) == {
            "razon_social": "Vieja SA", "cuit": CUIT, "condicion_iva": "M", "domicilio": None, "iibb": None,
            "inicio_actividades": None, "logo": None,
        }
        assert [tuple(r) for r in rows] == [(1, issuer_id, "produccion"), (2, None, None)]
    finally:
        engine.dispose()


def test_the_pdvs_lookup_never_reads_the_logo(store, engine):
    seller = make_pdv(store)
    modify(store, seller.pdv, {"logo": b"\xff\xd8\xff" + b"x" * 1000})
    statements = []

    from sqlalchemy import event

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        store._pdv_cache.clear()
        assert store.pdv_by_apikey(seller.pdv.apikey).domicilio is None
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert statements and not any("logo" in s for s in statements)
    with engine.connect() as connection:
        assert len(connection.execute(select(text("logo")).select_from(text("pdvs"))).scalar_one()) == 1003


def test_a_render_process_reads_the_invoice_it_renders_by_its_file_name(store, engine):
    """encola/documents/stored.py: what the API sends a render process is the invoice id and the
    file name; the process opens the database itself. Only that invoice's own names render."""
    from encola.documents import filename
    from encola.documents.stored import render_stored, shareable_url

    seller = make_pdv(store)
    invoice_id = emit(store, seller, "ref-render")
    seller.submit("ref-not-yet")
    [queued] = store.search_by_external_reference(seller.pdv.id, "ref-not-yet", 0, 1).rows
    url = shareable_url(engine.url)
    row = store.emitted_document(invoice_id).row

    kind, pdf = render_stored(url, invoice_id, filename(row, "ticket"))
    assert kind == "ticket" and pdf.startswith(b"%PDF-")
    assert render_stored(url, invoice_id, filename(row, "a4"))[0] == "a4"
    assert render_stored(url, invoice_id, "FACTURA_B_00099-00000001.pdf") is None
    assert render_stored(url, queued.id, filename(queued, "a4")) is None
    assert render_stored(url, invoice_id + 1000, filename(row, "a4")) is None


def test_a_render_process_reads_postgresql_in_autocommit(store, engine):
    """The lookup is one SELECT: on PostgreSQL, one round trip, without BEGIN and COMMIT."""
    from sqlalchemy import text as sql

    from encola.documents.stored import _reading_engine, shareable_url

    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps its deferred BEGIN (store/db.py)")
    reading = _reading_engine(shareable_url(engine.url))
    try:
        with reading.connect() as connection:
            connection.execute(sql("SELECT 1"))
            assert connection.connection.driver_connection.autocommit
    finally:
        reading.dispose()


def test_an_in_memory_database_is_not_shared_with_render_processes():
    from sqlalchemy.engine import make_url

    from encola.documents.stored import shareable_url

    assert shareable_url(make_url("sqlite://")) is None
    assert shareable_url(make_url("sqlite:///:memory:")) is None
    assert shareable_url(make_url("sqlite:///file:x?mode=memory&uri=true")) is None
    assert shareable_url(make_url("sqlite:////tmp/encola.db")) == "sqlite:////tmp/encola.db"
    assert shareable_url(make_url("postgresql+psycopg://u:secreto@127.0.0.1/db")) == "postgresql+psycopg://u:secreto@127.0.0.1/db"
