"""Where the documents are: consultas answer links, and anyone holding one downloads the PDFs.

Real ``encola serve`` (embedded simulator) on both databases; points of sale made with ``encola pdv
create`` and changed with ``encola pdv update`` and ``puntos_venta/administrar``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from encola.clock import Clock
from encola.documents import links as document_links
from support import HTTP, RENDER_PROCESSES, EncolaProcess, WebhookReceiver, factura_b, open_store_of_processes, pdf_text

pytestmark = pytest.mark.postgres

TODAY = Clock().today()
SELLER_CUIT = "30712345671"
OTHER_CUIT = "20222222223"
RAZON_SOCIAL = "Ñandú & Hijos <S.A.>"
DOMICILIO = "Av. Corrientes 1234, CABA"
IIBB = "901-123456-7"
INICIO = "01/03/2015"


@pytest.fixture(scope="module")
def receiver(database_url):  # one per database: the references repeat
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver, tmp_path_factory):
    folder = tmp_path_factory.mktemp("documents")
    logo = folder / "logo.png"
    Image.new("RGB", (120, 40), (20, 60, 160)).save(logo, format="PNG")
    process = EncolaProcess(database_url, extra_env={**RENDER_PROCESSES, "ENCOLA_AFIP_SIM_LEDGER": str(folder / "sim.db")})
    process.logo = logo
    process.seller = provision(process, receiver, SELLER_CUIT, 10, RAZON_SOCIAL, "--domicilio", DOMICILIO,
                               "--iibb", IIBB, "--inicio-actividades", INICIO, "--logo", str(logo))
    process.other = provision(process, receiver, OTHER_CUIT, 3, "Otra Empresa SRL")
    process.start()
    yield process
    process.stop()


def provision(server, receiver, cuit: str, punto_venta: int, razon_social: str, *flags: str) -> dict:
    import json

    keys = json.loads(server.cli("pdv", "create", "--cuit", cuit, "--punto-venta", str(punto_venta),
                                 "--condicion-iva", "RI", "--razon-social", razon_social, "--webhook", receiver.url,
                                 "--webhook-token", receiver.token, *flags))
    keys["punto_venta"] = punto_venta
    return keys


def credentials(keys: dict) -> dict:
    return {name: keys[name] for name in ("usertoken", "apikey", "apitoken")}


def send(server, keys: dict, reference: str, fecha=TODAY) -> None:
    body = factura_b(credentials(keys), reference=reference, fecha=fecha, punto_venta=keys["punto_venta"])
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "N", answer


def consulta(server, keys: dict, reference: str) -> dict:
    answer = server.post(
        "facturacion/consulta_avanzada",
        {**credentials(keys), "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}},
    ).json()
    assert answer["error"] == "N", answer
    return answer


def emitted(server, receiver, keys: dict, reference: str) -> dict:
    send(server, keys, reference)
    receiver.wait_for(reference, "emitido", timeout=30)
    return consulta(server, keys, reference)["comprobantes"][0]["comprobante"]


@pytest.fixture(scope="module")
def invoice(server, receiver) -> dict:
    return emitted(server, receiver, server.seller, "doc-1")


def get(url: str) -> httpx.Response:
    return HTTP.get(url, timeout=30)  # no credentials of any kind


# --- the links ---------------------------------------------------------------------------------


def test_consultas_answer_absolute_links_under_the_servers_address(server, invoice):
    for url in (invoice["comprobante_pdf_url"], invoice["comprobante_ticket_url"], invoice["micrositios"]["descarga"]):
        assert url.startswith(server.base + "/comprobantes/"), url
    numero = f"{invoice['numero']:08d}"
    assert invoice["comprobante_pdf_url"].endswith(f"/FACTURA_B_00010-{numero}.pdf")
    assert invoice["comprobante_ticket_url"].endswith(f"/FACTURA_B_00010-{numero}_ticket.pdf")
    assert invoice["micrositios"]["cliente"] == invoice["micrositios"]["descarga"]
    token = urlsplit(invoice["comprobante_pdf_url"]).path.split("/")[3]
    assert len(token) == 32 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 192 bits


def test_consulta_simple_answers_the_same_links(server, invoice):
    answer = server.post(
        "facturacion/consulta",
        {**credentials(server.seller), "comprobante": {"tipo": "FACTURA B", "punto_venta": 10, "numero": invoice["numero"]}},
    ).json()
    assert answer["error"] == "N", answer
    found = answer["comprobante"]
    assert found["comprobante_pdf_url"] == invoice["comprobante_pdf_url"]
    assert found["comprobante_ticket_url"] == invoice["comprobante_ticket_url"]
    assert found["micrositios"] == invoice["micrositios"]


def test_a_queued_invoice_has_no_links_and_its_address_is_not_found(server, database_url):
    send(server, server.seller, "doc-manana", fecha=TODAY + timedelta(days=3))
    found = consulta(server, server.seller, "doc-manana")["comprobantes"][0]["comprobante"]
    assert (found["comprobante_pdf_url"], found["comprobante_ticket_url"]) == ("", "")
    assert found["micrositios"] == {"cliente": "", "descarga": ""}
    store = open_store_of_processes(database_url)
    queued = store.search_by_external_reference(store.pdv_by_apikey(server.seller["apikey"]).id, "doc-manana", 0, 1).rows[0]
    folder = document_links.Links(server.base, store.document_link_key()).folder(queued.id)
    for url in (folder, folder + "FACTURA_B_00010-00000000.pdf"):
        assert get(url).status_code == 404


# --- the downloads -----------------------------------------------------------------------------


def test_the_a4_downloads_without_credentials_and_shows_the_issuer_data(invoice):
    answer = get(invoice["comprobante_pdf_url"])
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    name = invoice["comprobante_pdf_url"].rsplit("/", 1)[1]
    assert f'filename="{name}"' in answer.headers["content-disposition"]
    text = pdf_text(answer.content)
    for expected in (RAZON_SOCIAL, DOMICILIO, IIBB, INICIO, SELLER_CUIT, "SIN VALIDEZ FISCAL — SIMULADOR"):
        assert expected in text
    assert "None" not in text
    assert answer.content.count(b"/Subtype /Image") == 2  # the logo and the QR


def test_the_ticket_downloads_with_the_issuer_data_and_the_mark(invoice):
    answer = get(invoice["comprobante_ticket_url"])
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert "_ticket.pdf" in answer.headers["content-disposition"]
    text = pdf_text(answer.content)
    for expected in (RAZON_SOCIAL, DOMICILIO, IIBB, "SIN VALIDEZ FISCAL — SIMULADOR"):
        assert expected in text


def test_the_same_link_gives_the_same_bytes(invoice):
    first, again = get(invoice["comprobante_pdf_url"]), get(invoice["comprobante_pdf_url"])
    assert first.content == again.content


def test_the_buyers_page_summarises_the_invoice_in_spanish_escaped(invoice):
    answer = get(invoice["micrositios"]["descarga"])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "Ñandú &amp; Hijos &lt;S.A.&gt;" in page and "<S.A.>" not in page
    assert 'lang="es-AR"' in page and "Descargar factura" in page and "viewport" in page
    assert invoice["cae"].strip() in page and "121,00" in page
    for url in (invoice["comprobante_pdf_url"], invoice["comprobante_ticket_url"]):
        assert f'href="{url.rsplit("/", 1)[1]}"' in page
    assert "http://" not in page.replace(invoice["micrositios"]["descarga"], "") and "<script" not in page
    assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_wrong_tokens_and_names_are_a_plain_404(server, invoice):
    url = invoice["comprobante_pdf_url"]
    base, invoice_id, token, name = url.rsplit("/", 3)
    wrong = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in (
        f"{base}/{invoice_id}/{wrong}/{name}",
        f"{base}/{invoice_id}/{token[:-1]}/{name}",
        f"{base}/{invoice_id}/{token}/OTRO.pdf",
        f"{base}/{invoice_id}/{token}/{name}/x",
        f"{base}/{int(invoice_id) + 1}/{token}/{name}",
        f"{base}/{invoice_id}/{wrong}/",
        f"{base}/0/{token}/",
        f"{base}/99999999999999999999/{token}/",
        f"{server.base}/comprobantes/",
        f"{server.base}/comprobantes",
    ):
        answer = get(bad)
        assert answer.status_code == 404, bad
        assert RAZON_SOCIAL not in answer.text


def test_head_answers_as_get_does_without_the_body(server, invoice):
    url = invoice["comprobante_pdf_url"]
    full = get(url)
    answer = HTTP.head(url, timeout=30)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == full.headers["content-disposition"]
    assert int(answer.headers["content-length"]) == len(full.content)
    base, invoice_id, token, name = url.rsplit("/", 3)
    assert HTTP.head(f"{base}/{invoice_id}/{token[::-1]}/{name}", timeout=30).status_code == 404


# --- issuer versions ---------------------------------------------------------------------------


def test_an_issuer_change_applies_to_later_invoices_only(server, receiver):
    before = emitted(server, receiver, server.seller, "doc-antes")
    server.cli("pdv", "update", "--cuit", SELLER_CUIT, "--punto-venta", "10", "--domicilio", "Calle Nueva 99",
               "--iibb", "Exento", "--logo", "")
    after = emitted(server, receiver, server.seller, "doc-despues")
    old, new = pdf_text(get(before["comprobante_pdf_url"]).content), pdf_text(get(after["comprobante_pdf_url"]).content)
    assert DOMICILIO in old and IIBB in old and "Calle Nueva 99" not in old
    assert "Calle Nueva 99" in new and "Exento" in new and DOMICILIO not in new
    assert get(after["comprobante_pdf_url"]).content.count(b"/Subtype /Image") == 1  # the QR only
    server.cli("pdv", "update", "--cuit", SELLER_CUIT, "--punto-venta", "10", "--domicilio", DOMICILIO,
               "--iibb", IIBB, "--logo", str(server.logo))


# --- tenancy -----------------------------------------------------------------------------------


def test_one_workspaces_token_never_opens_another_workspaces_invoice(server, receiver, invoice):
    theirs = emitted(server, receiver, server.other, "doc-otro")
    _, mine_id, mine_token, _ = invoice["comprobante_pdf_url"].rsplit("/", 3)
    base, their_id, their_token, their_name = theirs["comprobante_pdf_url"].rsplit("/", 3)
    assert get(theirs["comprobante_pdf_url"]).status_code == 200
    for url in (f"{base}/{their_id}/{mine_token}/{their_name}", f"{base}/{mine_id}/{their_token}/{their_name}",
                f"{base}/{their_id}/{mine_token}/", f"{base}/{mine_id}/{their_token}/"):
        assert get(url).status_code == 404, url
    assert "Otra Empresa SRL" in pdf_text(get(theirs["comprobante_pdf_url"]).content)
    assert RAZON_SOCIAL not in pdf_text(get(theirs["comprobante_pdf_url"]).content)


def test_consultas_of_one_point_of_sale_never_show_anothers_links(server, invoice):
    answer = consulta(server, server.other, "doc-1")
    assert answer["total"] == 0 and answer["comprobantes"] == []
    by_date = server.post(
        "facturacion/consulta_avanzada",
        {**credentials(server.other), "busqueda_tipo": "F", "comprobante": {"fecha": TODAY.strftime("%d/%m/%Y")}},
    ).json()
    urls = {c["comprobante"]["comprobante_pdf_url"] for c in by_date["comprobantes"]}
    assert invoice["comprobante_pdf_url"] not in urls
    assert all("_00003-" in url for url in urls)


# --- hostile paths -----------------------------------------------------------------------------

# "." and ".." are left out: the client resolves them, so the request leaves /comprobantes.
SEGMENT = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9]{1,25}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{30,34}", fullmatch=True),
    st.sampled_from(["", "%00", "-1", "1e9", "0x10", "٣", "FACTURA_B_00010-00000001.pdf"]),
).filter(lambda segment: segment not in (".", ".."))


@given(first=SEGMENT, second=SEGMENT, third=st.one_of(SEGMENT, st.none()), keep_token=st.booleans())
def test_no_path_under_comprobantes_is_a_server_error(server, invoice, first, second, third, keep_token):
    _, invoice_id, token, _ = invoice["comprobante_pdf_url"].rsplit("/", 3)
    segments = [first, token if keep_token else second] + ([] if third is None else [third])
    path = "/comprobantes/" + "/".join(quote(segment, safe="") for segment in segments)
    answer = HTTP.get(server.base + path, timeout=30)
    assert answer.status_code in (200, 404), (path, answer.status_code)
    if answer.status_code == 200:  # only the invoice's own page and files
        assert segments[0] == invoice_id and segments[1] == token


# --- administrar: the issuer fields ---------------------------------------------------------------


def administrar(server, keys: dict, **fields) -> dict:
    answer = server.post("puntos_venta/administrar", {**credentials(keys), **fields})
    assert answer.status_code == 200
    return answer.json()


def codes(answer: dict) -> list[str]:
    return [d["code"] for d in answer.get("error_details", [])]


def test_administrar_alta_takes_tfs_issuer_fields(server, database_url):
    answer = administrar(server, server.seller, operacion="A", punto_venta=44, razon_social="Sucursal SA",
                         direccion="Calle 1 N° 2", iibb="12345", fecha_inicio="12/12/2017")
    assert answer["error"] == "N", answer
    store = open_store_of_processes(database_url)
    with store.reading() as connection:
        made = store.pdv(connection, cuit=SELLER_CUIT, punto_venta=44)
    assert (made.domicilio, made.iibb, made.inicio_actividades.strftime("%d/%m/%Y")) == ("Calle 1 N° 2", "12345", "12/12/2017")
    [version] = store.issuer_versions(made.id)
    assert (version.razon_social, version.domicilio, version.iibb) == ("Sucursal SA", "Calle 1 N° 2", "12345")


def test_administrar_modificacion_makes_a_new_issuer_version(server, database_url):
    keys = {**administrar(server, server.seller, operacion="A", punto_venta=45, razon_social="Sucursal Dos SA"),
            "punto_venta": 45}
    answer = administrar(server, keys, operacion="M", direccion="Otra 3", fecha_inicio="1/2/2020")
    assert answer["error"] == "N", answer
    store = open_store_of_processes(database_url)
    versions = store.issuer_versions(store.pdv_by_apikey(keys["apikey"]).id)
    assert [(v.domicilio, v.inicio_actividades and v.inicio_actividades.isoformat()) for v in versions] == [
        (None, None), ("Otra 3", "2020-02-01")
    ]
    assert administrar(server, keys, operacion="M", direccion="Otra 3")["error"] == "N"
    assert len(store.issuer_versions(store.pdv_by_apikey(keys["apikey"]).id)) == 2  # nothing changed


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"direccion": "x" * 256}, ["TFC-5013"]),
        ({"direccion": {"calle": "x"}}, ["TFC-5013"]),
        ({"iibb": "1" * 65}, ["TFC-5014"]),
        ({"iibb": ["1"]}, ["TFC-5014"]),
        ({"fecha_inicio": "2017-12-12"}, ["TFC-5015"]),
        ({"fecha_inicio": "31/02/2017"}, ["TFC-5015"]),
        ({"fecha_inicio": (TODAY + timedelta(days=5)).strftime("%d/%m/%Y")}, ["TFC-5015"]),
        ({"fecha_inicio": "01/01/1850", "iibb": "a\tb"}, ["TFC-5014", "TFC-5015"]),
    ],
)
@pytest.mark.parametrize("operacion", ["A", "M"])
def test_administrar_refuses_bad_issuer_fields_with_their_codes(server, fields, expected, operacion):
    extra = {"punto_venta": 46, "razon_social": "No Se Crea SA"} if operacion == "A" else {}
    answer = administrar(server, server.seller, operacion=operacion, **extra, **fields)
    assert answer["error"] == "S" and sorted(codes(answer)) == expected, answer


JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=300),
                       st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@given(direccion=JSON_VALUE, iibb=JSON_VALUE, fecha_inicio=st.one_of(JSON_VALUE, st.from_regex(r"\d{1,2}/\d{1,2}/\d{1,5}", fullmatch=True)))
def test_administrar_m_answers_any_issuer_field_values_without_a_server_error(server, direccion, iibb, fecha_inicio):
    keys = server.fuzz_keys if hasattr(server, "fuzz_keys") else None
    if keys is None:
        keys = {**administrar(server, server.seller, operacion="A", punto_venta=47, razon_social="Fuzz SA"), "punto_venta": 47}
        server.fuzz_keys = keys
    answer = server.post("puntos_venta/administrar", {**credentials(keys), "operacion": "M", "direccion": direccion,
                                                      "iibb": iibb, "fecha_inicio": fecha_inicio})
    assert answer.status_code == 200
    body = answer.json()
    assert body["error"] in ("N", "S")
    assert set(codes(body)) <= {"TFC-5013", "TFC-5014", "TFC-5015", "TFC-1016"}, body


# --- the CLI -----------------------------------------------------------------------------------


def test_pdv_create_refuses_a_logo_that_is_not_an_image_and_a_bad_date(server, tmp_path):
    fake = tmp_path / "logo.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    import subprocess

    from support import ENCOLA

    done = subprocess.run([*ENCOLA, "pdv", "create", "--cuit", SELLER_CUIT, "--punto-venta", "48", "--condicion-iva",
                           "RI", "--razon-social", "X SA", "--logo", str(fake), "--inicio-actividades", "2015-03-01"],
                          env=server.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "TFC-5016" in done.stderr and "TFC-5015" in done.stderr
    text_file = tmp_path / "logo.txt"
    text_file.write_text("hola")
    done = subprocess.run([*ENCOLA, "pdv", "update", "--cuit", SELLER_CUIT, "--punto-venta", "10", "--logo", str(text_file)],
                          env=server.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "TFC-5016" in done.stderr and "no es PNG ni JPEG" in done.stderr
