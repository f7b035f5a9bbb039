"""``encola demo``: everything on SQLite with the embedded AFIP simulator, driven like a client.

It provisions two points of sale (a responsable inscripto and a monotributista) whose webhooks
point at a local inbox, hands the buyers' mail to a local SMTP sink (aiosmtpd) that writes each
message as an ``.eml`` under ``demo-data/mail/``, sends a handful of the reference docs' invoices over real HTTP (A, B, C,
a credit note, one dated in the future, one invalid, one AFIP rejects), shows answers and hooks
as they arrive until each invoice is emitted or errored, prints how to call the API with curl,
and keeps serving.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import secrets
import shutil
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from encola.clock import Clock
from encola.domain.fields import format_date
from encola.mail.config import parse_smtp_url
from encola.mail.sink import MailSink

DEMO_DIR = Path("demo-data")
RI_CUIT, MONO_CUIT = "30712345671", "20111111112"
WEBHOOK_TOKEN = "demo-webhook-token"
BOLD, DIM, GREEN, RED, CYAN, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[36m", "\033[0m"
if not sys.stdout.isatty():
    BOLD = DIM = GREEN = RED = CYAN = RESET = ""


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")  # one write per line: the inbox thread prints too
    sys.stdout.flush()


class Inbox:
    """A webhook receiver on 127.0.0.1 that prints every hook and checks the TF-WebhookToken."""

    def __init__(self):
        self.hooks: list[dict] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                ok = self.headers.get("TF-WebhookToken") == WEBHOOK_TOKEN
                inbox.hooks.append(body)
                color = RED if body["evento"] == "error" else GREEN if body["evento"] == "emitido" else CYAN
                say(f"  {DIM}hook ←{RESET} {color}{body['evento']:<12}{RESET} {body['external_reference']:<18} "
                    f"intento {body['intento']}  {DIM}{(body['msg'][-1] if body['msg'] else '')[:120]}{RESET}")
                self.send_response(200 if ok else 403)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _show_mail(received) -> None:
    """The SMTP sink got a message: who it went to, its subject and attachment, where it was written."""
    message = received.message
    attached = ", ".join(part.get_filename() or "?" for part in message.iter_attachments())
    say(f"  {DIM}mail ←{RESET} {CYAN}{', '.join(received.recipients)}{RESET}  {message['Subject']}")
    say(f"         {DIM}adjunto {attached}  → {received.path}{RESET}")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _example(name: str) -> dict:
    from importlib.resources import files

    return json.loads(files("encola").joinpath("demo_examples", f"{name}.json").read_text())


def _requests(keys_ri: dict, keys_mono: dict, today, reference_prefix: str) -> list[tuple[str, str, dict]]:
    """(label, external_reference, body) in the order they are sent."""
    fecha = format_date(today)

    def prepared(name, keys, reference, punto_venta, **changes):
        body = _example(name)
        body.update(keys)
        values = dict(fecha=fecha, vencimiento=fecha, numero=0, external_reference=reference, punto_venta=punto_venta)
        body["comprobante"].update({**values, **changes})
        return body

    p = reference_prefix
    return [
        ("FACTURA A (docs' example)", f"{p}-A1", prepared("factura_a", keys_ri, f"{p}-A1", 10)),
        ("FACTURA B", f"{p}-B1", prepared("factura_b", keys_ri, f"{p}-B1", 10)),
        ("FACTURA C (docs' example)", f"{p}-C1", prepared("factura_c", keys_mono, f"{p}-C1", 3)),
        (
            "FACTURA B dated in 3 days",
            f"{p}-B2",
            prepared("factura_b", keys_ri, f"{p}-B2", 10, fecha=format_date(today + timedelta(days=3)),
                     vencimiento=format_date(today + timedelta(days=3))),
        ),
        ("invalid external_reference (docs' example)", "1%'703", prepared("factura_b", keys_ri, "1%'703", 10)),
    ]


async def _drive(base: str, keys_ri: dict, keys_mono: dict, inbox: Inbox, admin_token: str, operator_password: str) -> None:
    today = Clock().today()
    prefix = f"demo{os.getpid() % 10000}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        say(f"\n{BOLD}1. Sending invoices to POST /app/api/v2/facturacion/nuevo_encola{RESET}")
        sent = []
        for label, reference, body in _requests(keys_ri, keys_mono, today, prefix):
            answer = (await http.post("/app/api/v2/facturacion/nuevo_encola", json=body)).json()
            _show_answer(label, answer)
            if answer["error"] == "N":
                sent.append((reference, keys_ri if "C1" not in reference else keys_mono))

        say(f"\n{BOLD}2. Waiting for emission and hooks{RESET}")
        states = await _wait_for_outcomes(http, sent, inbox, today)

        say(f"\n{BOLD}3. AFIP will reject the next one (simulator fault reject_next=1){RESET}")
        operator = {"Authorization": f"Bearer {admin_token}"}  # the simulator's controls are for operators
        await http.post("/afip-sim/_sim/faults", json={"reject_next": 1}, headers=operator)
        rejected = _requests(keys_ri, keys_mono, today, prefix + "R")[1]
        answer = (await http.post("/app/api/v2/facturacion/nuevo_encola", json=rejected[2])).json()
        _show_answer("FACTURA B that AFIP rejects", answer)
        states.update(await _wait_for_outcomes(http, [(rejected[1], keys_ri)], inbox, today))
        factura_a = states.get(f"{prefix}-A1")
        if factura_a and factura_a["status"] == "EMITIDO":
            say(f"\n{BOLD}4. A credit note for {factura_a['comprobante_nro']} (comprobantes_asociados){RESET}")
            nc = _example("factura_a")
            nc.update(keys_ri)
            nc["comprobante"].update(
                tipo="NOTA DE CREDITO A", fecha=format_date(today), vencimiento=format_date(today), numero=0,
                external_reference=f"{prefix}-NCA1", punto_venta=10,
                comprobantes_asociados=[{"tipo_comprobante": "FACTURA A", "punto_venta": 10,
                                         "numero": factura_a["numero"], "comprobante_fecha": format_date(today),
                                         "cuit": RI_CUIT}],
            )
            answer = (await http.post("/app/api/v2/facturacion/nuevo_encola", json=nc)).json()
            _show_answer("NOTA DE CREDITO A", answer)
            states.update(await _wait_for_outcomes(http, [(f"{prefix}-NCA1", keys_ri)], inbox, today))

        keys_of = dict(sent + [(rejected[1], keys_ri), (f"{prefix}-NCA1", keys_ri)])
        await _wait_for_mails(http, states, keys_of)
        say(f"\n{BOLD}5. consulta_avanzada (EXT_REF) of each invoice{RESET}")
        for reference, state in states.items():
            color = GREEN if state["status"] == "EMITIDO" else RED if "ERROR" in state["status"] else CYAN
            say(f"  {reference:<18} {state['tipo']:<18} {state['comprobante_nro']}  {color}{state['status']}{RESET}"
                f"  CAE {state['cae'].strip() or '-'}")
            if state.get("comprobante_pdf_url"):
                say(f"  {'':<18} PDF  {state['comprobante_pdf_url']}")
            mailed = state.get("envio_x_mail") == "S"
            say(f"  {'':<18} mail {GREEN + 'S' + RESET + ' → ' + state['envio_x_mail_direcciones'] if mailed else 'N'}")
    _show_curl(base, keys_ri, prefix, admin_token, operator_password)


async def _wait_for_mails(http: httpx.AsyncClient, states: dict, keys_of: dict, timeout: float = 15.0) -> None:
    """Let the buyers' mails of the emitted invoices that asked for one go out (consultas say "S")."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        waiting = False
        for reference, state in list(states.items()):
            if state["status"] != "EMITIDO" or reference not in keys_of:
                continue
            found = (await http.post("/app/api/v2/facturacion/consulta_avanzada", json={
                **keys_of[reference], "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}})).json()
            if found["comprobantes"]:
                states[reference] = found["comprobantes"][0]["comprobante"]
            waiting = waiting or (states[reference].get("envio_x_mail") != "S" and _asks_for_mail(reference))
        if not waiting:
            return
        await asyncio.sleep(0.3)


def _asks_for_mail(reference: str) -> bool:
    return reference.endswith(("-A1", "-C1", "-NCA1"))  # the docs' examples with envia_por_mail "S"


def _show_answer(label: str, answer: dict) -> None:
    if answer["error"] == "N":
        say(f"  {GREEN}accepted{RESET} {label:<44} {answer['comprobante_tipo']} {answer['comprobante_nro']}")
    else:
        say(f"  {RED}refused{RESET}  {label:<44} {' | '.join(d['code'] for d in answer['error_details'])}")
        for text in answer["errores"][:2]:
            say(f"           {DIM}{text}{RESET}")


async def _wait_for_outcomes(http: httpx.AsyncClient, sent, inbox: Inbox, today, timeout: float = 60.0) -> dict:
    states: dict = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for reference, keys in sent:
            found = (await http.post("/app/api/v2/facturacion/consulta_avanzada", json={
                **keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}})).json()
            if found["comprobantes"]:
                states[reference] = found["comprobantes"][0]["comprobante"]
        settled = all(
            reference in states and (
                states[reference]["status"] in ("EMITIDO", "ENVIADO A PROCESAR - CON ERROR")
                or states[reference]["fecha"] != format_date(today)
            )
            and any(h["external_reference"] == reference and h["evento"] in ("emitido", "error", "encolado")
                    for h in inbox.hooks)
            for reference, _ in sent
        )
        if settled:
            await asyncio.sleep(0.5)  # let the last hooks print
            return states
        await asyncio.sleep(0.3)
    return states


def _show_curl(base: str, keys: dict, prefix: str, admin_token: str, operator_password: str) -> None:
    auth = f'"usertoken": "{keys["usertoken"]}", "apikey": "{keys["apikey"]}", "apitoken": "{keys["apitoken"]}"'
    say(f"\n{BOLD}6. Try it yourself{RESET} (the server keeps running; Ctrl-C to stop)")
    say(f"  console: {base}/console/  e-mail {DEMO_OPERATOR}, password {operator_password}")
    say(f"  OpenAPI: {base}/docs    simulator ledger: {base}/afip-sim/_sim/comprobantes")
    say(f"  the simulator's controls are for operators: any user name, password {admin_token}")
    say(f"    (curl -H 'Authorization: Bearer {admin_token}' {base}/afip-sim/_sim/comprobantes)")
    say(f"""  curl -s {base}/app/api/v2/facturacion/consulta_avanzada \\
    -H 'Content-Type: application/json' \\
    -d '{{{auth}, "busqueda_tipo": "EXT_REF", "comprobante": {{"external_reference": "{prefix}-A1"}}}}'
""")


DEMO_OPERATOR = "operador@demo.example.com"


def _create_operator(store) -> str:
    """A console operator who sees every workspace, as `encola operator create --all` makes one;
    its password."""
    from encola.console.passwords import hash_password, new_password

    password = new_password()
    store.create_operator(DEMO_OPERATOR, hash_password(password), workspace_ids=[], all_workspaces=True)
    return password


def run_demo(host: str, port: int) -> None:
    import uvicorn

    from encola.api.app import create_app
    from encola.api.provisioning import PdvSpec, provision
    from encola.runtime import build_services, open_store
    from encola.settings import Settings, listening_url

    # The demo prints its own account of what happens; the services' INFO lines would interleave.
    logging.getLogger("encola").setLevel(max(logging.WARNING, logging.getLogger("encola").getEffectiveLevel()))
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir()
    settings = Settings(
        database_url=f"sqlite:///{DEMO_DIR / 'encola.db'}",
        afip_sim_ledger=str(DEMO_DIR / "afip-sim-ledger.db"),
        afip_sim_latency_ms=300,  # AFIP-like
        webhook_allow_private=True,  # the inbox is on 127.0.0.1
        webhook_retry_schedule=(2.0, 5.0, 10.0),
        admin_token=secrets.token_urlsafe(24),  # printed at the end: the simulator's controls need it
        afip_sim_controls=True,  # step 3 injects a rejection through /afip-sim/_sim/faults
        public_url=os.environ.get("ENCOLA_PUBLIC_URL") or listening_url(host, port),  # the PDFs' links
    )
    sink_port = _free_port()
    settings = dataclasses.replace(  # the buyers' mail goes to a local SMTP sink writing .eml files
        settings,
        smtp=parse_smtp_url(f"smtp://127.0.0.1:{sink_port}"),
        mail_from="Demo Responsable Inscripto SA <facturas@demo.example.com>",
        mail_retry_schedule=(2.0, 5.0, 10.0),
    )
    store = open_store(settings)
    inbox = Inbox()
    mail_sink = MailSink(DEMO_DIR / "mail", port=sink_port).start()
    mail_sink.on_message = _show_mail
    ri = provision(store, PdvSpec(RI_CUIT, 10, "RI", "Demo Responsable Inscripto SA", "P", inbox.url, WEBHOOK_TOKEN))
    mono = provision(store, PdvSpec(MONO_CUIT, 3, "M", "Demo Monotributista", "P", inbox.url, WEBHOOK_TOKEN))
    from encola.pdv_at_afip import register_at_simulator

    for cuit, punto_venta in ((RI_CUIT, 10), (MONO_CUIT, 3)):  # at the embedded simulator, as `pdv create` does
        register_at_simulator(settings, cuit, punto_venta)
    operator_password = _create_operator(store)
    say(f"{BOLD}encola demo{RESET}: SQLite in {DEMO_DIR}/, embedded AFIP simulator (300 ms per call), "
        f"webhook inbox at {inbox.url}")
    say(f"  PDV 00010 of CUIT {RI_CUIT} (RI) and PDV 00003 of CUIT {MONO_CUIT} (monotributo)")
    say(f"  buyers' mail: SMTP sink at {mail_sink.url}, each message written to {DEMO_DIR / 'mail'}/*.eml")

    app = create_app(build_services(store, settings, with_engine=True))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    base = f"http://{host}:{port}"

    async def main():
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                return await serving
            await asyncio.sleep(0.05)
        try:
            await _drive(base, ri.credentials.as_json(), mono.credentials.as_json(), inbox, settings.admin_token,
                         operator_password)
        except Exception as exc:  # show it, keep serving
            say(f"{RED}demo driver failed: {exc!r}{RESET}")
        if os.environ.get("ENCOLA_DEMO_EXIT"):
            server.should_exit = True
        await serving

    asyncio.run(main())
