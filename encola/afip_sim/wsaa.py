"""The simulator's WSAA: verify the CMS, check the TRA, issue a ticket (TA).

Strict (the default) as AFIP is: only certificates the simulator's CA signed (ca.py, its WSASS)
are trusted, and a second loginCms while a ticket of that certificate and service is valid is
answered ``coe.alreadyAuthenticated``. Lenient (``--lenient-wsaa``): any certificate carrying a
CUIT, and a new ticket on every login.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from lxml import etree

from encola.afip_sim import cms, wire
from encola.afip_sim.ca import SimulatorCA
from encola.afip_sim.ledger import IssuedTicket, Ledger

ARGENTINA = timezone(timedelta(hours=-3))
TICKET_HOURS = 12
SERVICES = {"wsfe"}  # what the simulator authorizes a certificate for
# Other WSN ids AFIP's WSAA knows: asked for them, it answers coe.notAuthorized (the certificate is
# not associated to that service), not wsn.notFound (kept for names no WSAA knows).
KNOWN_SERVICES = {
    "wsfex", "wsmtxca", "wsbfe", "wsct", "wsfecred", "ws_sr_padron_a4", "ws_sr_padron_a5", "ws_sr_padron_a10",
    "ws_sr_padron_a13", "ws_sr_constancia_inscripcion", "wscdc", "wsremcarne", "wsremharina", "wsremazucar",
    "wslpg", "wsctg", "wsltv", "wslum", "wsagr", "wconsucuit", "veconsumerws", "wsfecae", "wsaa",
}
ALREADY_AUTHENTICATED = "El CEE ya posee un TA valido para el acceso al WSN solicitado"
NOT_AUTHORIZED = "Computador no autorizado a acceder al servicio"
UNTRUSTED = "Certificado no emitido por AC de confianza"
WSAA_DN = "CN=wsaahomo, O=AFIP, C=AR, SERIALNUMBER=CUIT 33693450239"
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Fault(Exception):
    code: str
    message: str


def login(body: bytes, ledger: Ledger, now: datetime, *, strict: bool, ca: SimulatorCA | None = None) -> tuple[int, bytes]:
    """Answer one loginCms request: (HTTP status, SOAP body). Strict needs the CA."""
    try:
        in0, namespace = _in0(body)
        ticket_xml = _issue(in0, ledger, now, ca if strict else None)
    except Fault as fault:
        return 500, wire.soap_fault(fault.code, fault.message, axis=True)
    ns = escape(namespace or "https://wsaahomo.afip.gov.ar/ws/services/LoginCms", {'"': "&quot;"})
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<soapenv:Body><loginCmsResponse xmlns="{ns}"><loginCmsReturn>{escape(ticket_xml)}</loginCmsReturn>'
        "</loginCmsResponse></soapenv:Body></soapenv:Envelope>"
    )
    return 200, answer.encode("utf-8")


def _in0(body: bytes) -> tuple[str, str | None]:
    try:
        op = wire.parse_envelope(body)
    except wire.BadRequest as exc:
        raise Fault("xml.bad", str(exc)) from None
    if wire.local(op.tag) != "loginCms":
        raise Fault("Client", "No such operation")
    in0 = next((c.text for c in op if wire.local(c.tag) == "in0"), None)
    if not in0:
        raise Fault("cms.bad", "CMS no informado")
    return in0, etree.QName(op).namespace


def _issue(in0: str, ledger: Ledger, now: datetime, ca: SimulatorCA | None) -> str:
    try:
        der = base64.b64decode("".join(in0.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Fault("cms.bad.base64", "Error al decodificar base64") from None
    try:
        signed = cms.verify(der)
    except cms.CmsError as exc:
        raise Fault(exc.code, str(exc)) from None
    cert = signed.certificate
    cuit = _cert_checks(cert, now)
    if ca is not None and not ca.signed(cert):
        raise Fault("cms.cert.untrusted", UNTRUSTED)
    service, unique_id = _tra_checks(signed.content, now)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    if ca is not None and ledger.valid_ticket_for(fingerprint, service, now.timestamp()) is not None:
        raise Fault("coe.alreadyAuthenticated", ALREADY_AUTHENTICATED)
    return _ticket(ledger, cert, cuit, service, fingerprint, unique_id, now)


def cuit_of(cert: x509.Certificate) -> int | None:
    """The CUIT in the subject's serialNumber ("CUIT 20123456789")."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        match = re.search(r"CUIT\s*(\d{11})", str(attr.value))
        if match:
            return int(match.group(1))
    return None


def _cert_checks(cert: x509.Certificate, now: datetime) -> int:
    if cert.not_valid_after_utc < now:
        raise Fault("cms.cert.expired", "Certificado expirado")
    if cert.not_valid_before_utc > now:
        raise Fault("cms.cert.invalid", "Certificado con fecha de inicio posterior a la actual")
    cuit = cuit_of(cert)
    if cuit is None:
        raise Fault("cms.cert.untrusted", UNTRUSTED)
    return cuit


def _tra_checks(tra: bytes, now: datetime) -> tuple[str, str]:
    try:
        root = etree.fromstring(tra, etree.XMLParser(resolve_entities=False, no_network=True))
        gen = _time(root.findtext("header/generationTime"))
        exp = _time(root.findtext("header/expirationTime"))
    except (etree.XMLSyntaxError, ValueError, TypeError):
        raise Fault("xml.bad", "No se ha podido interpretar el XML contra el SCHEMA") from None
    if root.tag != "loginTicketRequest":
        raise Fault("xml.bad", "No se ha podido interpretar el XML contra el SCHEMA")
    if gen > now + CLOCK_SKEW or gen < now - timedelta(hours=24):
        raise Fault("xml.generationTime.invalid", "generationTime posee formato o dato invalido")
    if exp < now:
        raise Fault("xml.expirationTime.expired", "expirationTime expirado")
    if exp > now + timedelta(hours=24) + CLOCK_SKEW or exp <= gen:
        raise Fault("xml.expirationTime.invalid", "expirationTime posee formato o dato invalido")
    service = (root.findtext("service") or "").strip()
    if service not in SERVICES:
        if service in KNOWN_SERVICES:
            raise Fault("coe.notAuthorized", NOT_AUTHORIZED)
        raise Fault("wsn.notFound", f"Servicio informado invalido: {service}")
    return service, (root.findtext("header/uniqueId") or "").strip()


def _time(value: str | None) -> datetime:
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ARGENTINA)  # no offset: Argentina time


def _ticket(ledger: Ledger, cert, cuit: int, service: str, fingerprint: str, unique_id: str, now: datetime) -> str:
    gen = now.astimezone(ARGENTINA)
    exp = gen + timedelta(hours=TICKET_HOURS)
    dn = cert.subject.rfc4514_string()
    sso = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sso version="2.0">\n'
        f'    <id src="{escape(WSAA_DN)}" dst="CN={service}, O=AFIP, C=AR" unique_id="{secrets.randbelow(2**32)}" '
        f'gen_time="{int(gen.timestamp())}" exp_time="{int(exp.timestamp())}"/>\n'
        '    <operation type="login" value="granted">\n'
        f'        <login entity="33693450239" service="{service}" uid="{escape(dn, {chr(34): "&quot;"})}" '
        'authmethod="cms" regmethod="22">\n'
        f'            <relations>\n                <relation key="{cuit}" reltype="4"/>\n            </relations>\n'
        "        </login>\n    </operation>\n</sso>\n"
    )
    token = base64.b64encode(sso.encode()).decode()
    sign = base64.b64encode(secrets.token_bytes(128)).decode()
    ledger.save_ticket(IssuedTicket(token, sign, cuit, service, fingerprint, gen.timestamp(), exp.timestamp()))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<loginTicketResponse version="1.0">\n    <header>\n'
        f"        <source>{escape(WSAA_DN)}</source>\n        <destination>{escape(dn)}</destination>\n"
        f"        <uniqueId>{secrets.randbelow(2**32)}</uniqueId>\n"
        f"        <generationTime>{gen.isoformat(timespec='milliseconds')}</generationTime>\n"
        f"        <expirationTime>{exp.isoformat(timespec='milliseconds')}</expirationTime>\n    </header>\n"
        f"    <credentials>\n        <token>{token}</token>\n        <sign>{sign}</sign>\n    </credentials>\n"
        "</loginTicketResponse>\n"
    )
