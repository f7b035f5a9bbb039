"""Queries and intake limits as a client meets them, on a real ``encola serve``: EXT_REF_LIST, TF's
maximum text lengths (a multi-megabyte field is refused, not stored), the body limit, and a
consumidor final without domicilio."""

from __future__ import annotations

from datetime import timedelta

import pytest

from encola.clock import Clock
from support import EncolaProcess, WebhookReceiver, factura_b

CUIT = "30712345674"
TODAY = Clock().today()
FUTURE = TODAY + timedelta(days=30)


@pytest.fixture(scope="module")
def receiver(backend):
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url, extra_env={"ENCOLA_MAX_BODY_BYTES": str(4 * 1024 * 1024)})
    process.keys = process.provision(CUIT, 10, receiver.url, token=receiver.token)
    process.other = process.provision(CUIT, 12, receiver.url, token=receiver.token)
    process.start()
    yield process
    process.stop()


def queue(server, keys, reference, punto_venta=10, fecha=FUTURE, **overrides):
    answer = server.post("facturacion/nuevo_encola", factura_b(keys, reference=reference, fecha=fecha, punto_venta=punto_venta, **overrides)).json()
    assert answer["error"] == "N", answer
    return answer


def ext_ref_list(server, keys, references, **paging):
    return server.post(
        "facturacion/consulta_avanzada",
        {**keys, "busqueda_tipo": "EXT_REF_LIST", **paging,
         "comprobante": {"external_reference_list": references, "operacion": "V"}},
    ).json()


def test_ext_ref_list_finds_every_reference_newest_first(server):
    for day, reference in enumerate(["lst-a", "lst-b", "lst-c"]):
        queue(server, server.keys, reference, fecha=FUTURE + timedelta(days=day))
    found = ext_ref_list(server, server.keys, ["lst-a", "lst-c", "lst-missing", "lst-a"])
    assert found["error"] == "N" and found["total"] == 2
    assert [c["comprobante"]["external_reference"] for c in found["comprobantes"]] == ["lst-c", "lst-a"]
    page = ext_ref_list(server, server.keys, ["lst-a", "lst-b", "lst-c"], pagina=1, limite=2)
    assert page["total"] == 3 and [c["comprobante"]["external_reference"] for c in page["comprobantes"]] == ["lst-a"]


def test_the_generic_pages_bulk_form_is_understood_too(server):
    queue(server, server.keys, "gen-1")
    found = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": ["gen-1", "nada"]}},
    ).json()
    assert found["total"] == 1


def test_ext_ref_list_never_shows_another_pdvs_invoices(server):
    queue(server, server.other, "ajeno-1", punto_venta=12)
    assert ext_ref_list(server, server.keys, ["ajeno-1"])["total"] == 0
    assert ext_ref_list(server, server.other, ["ajeno-1"])["total"] == 1


@pytest.mark.parametrize("references", [[], "lst-a", ["x"] * 101, ["bad ref"], [None], [{"a": 1}], None])
def test_a_bad_list_is_tfc_7011(server, references):
    found = ext_ref_list(server, server.keys, references)
    assert found["error"] == "S" and found["error_details"][0]["code"] == "TFC-7011"
    assert found["comprobantes"] == []


def test_a_list_of_100_is_accepted(server):
    found = ext_ref_list(server, server.keys, [f"r{i}" for i in range(100)])
    assert found["error"] == "N" and found["total"] == 0


def test_a_multi_megabyte_leyenda_gral_is_refused_and_nothing_is_stored(server):
    body = factura_b(server.keys, reference="huge-leyenda", fecha=FUTURE, punto_venta=10, leyenda_gral="a" * (3 * 1024 * 1024))
    response = server.post("facturacion/nuevo_encola", body)
    answer = response.json()
    assert response.status_code == 200 and answer["error"] == "S"
    assert "TFC-2037" in [d["code"] for d in answer["error_details"]]
    assert len(response.content) < 4096
    assert ext_ref_list(server, server.keys, ["huge-leyenda"])["total"] == 0


def test_a_body_over_the_configured_size_is_refused_before_parsing(server):
    raw = b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    answer = server.post("facturacion/nuevo_encola", None, raw=raw).json()
    assert answer["error"] == "S" and answer["error_details"][0]["code"] == "TFC-1004"
    assert str(4 * 1024 * 1024) in answer["errores"][0]


@pytest.mark.parametrize("domicilio", [None, "", "absent"])
def test_a_consumidor_final_without_domicilio_is_queued(server, domicilio):
    body = factura_b(server.keys, reference=f"cf-sin-dom-{domicilio}", fecha=FUTURE, punto_venta=10)
    if domicilio == "absent":
        del body["cliente"]["domicilio"]
    else:
        body["cliente"]["domicilio"] = domicilio
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"


def test_a_responsable_inscripto_still_needs_domicilio(server):
    body = factura_b(server.keys, reference="ri-sin-dom", fecha=FUTURE, punto_venta=10)
    body["cliente"].update(condicion_iva="RI", documento_tipo="CUIT", documento_nro="30712293841", domicilio="")
    body["comprobante"]["tipo"] = "FACTURA A"
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert "TFC-3004" in [d["code"] for d in answer["error_details"]]
