"""TLS to AFIP with AFIP's weak DH parameters, and nothing else weakened.

A real TLS server on 127.0.0.1 offers only finite-field DHE with 1024-bit parameters (what
AFIP's hosts negotiate): the AFIP transport's context connects, a default context (webhooks,
mail, anything else) refuses with DH_KEY_TOO_SMALL."""

from __future__ import annotations

import ipaddress
import ssl
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, rsa
from cryptography.x509.oid import NameOID

from encola.afip import AiohttpTransport
from encola.afip.tls import afip_ssl_context

pytestmark = pytest.mark.anyio


def _certificate(subject: str, issuer_key, issuer_name, key, *, ca: bool) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def weak_dh_server(tmp_path_factory):
    """(https URL, CA file) of a server that offers only DHE with 1024-bit parameters."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate("test CA", ca_key, None, ca_key, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _certificate("127.0.0.1", ca_key, ca.subject, key, ca=False)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    parameters = dh.generate_parameters(generator=2, key_size=1024)
    (folder / "dh.pem").write_bytes(parameters.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3))

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 has no finite-field DH of the server's choosing
    context.set_ciphers("DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0")
    context.load_dh_params(str(folder / "dh.pem"))
    context.load_cert_chain(str(folder / "server.pem"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/wsfev1/service.asmx", str(folder / "ca.pem")
    server.shutdown()
    server.server_close()


async def test_the_afip_context_connects_to_a_server_with_weak_dh(weak_dh_server):
    url, cafile = weak_dh_server
    transport = AiohttpTransport(max_connections=1, ssl_context=afip_ssl_context(cafile))
    try:
        status, body = await transport.post(url, b"<x/>", {"Content-Type": "text/xml"}, httpx.Timeout(5.0))
    finally:
        await transport.aclose()
    assert (status, body) == (200, b"ok")


async def test_a_default_context_still_refuses_weak_dh_after_afip_was_called(weak_dh_server):
    url, cafile = weak_dh_server
    transport = AiohttpTransport(max_connections=1, ssl_context=afip_ssl_context(cafile))
    try:
        await transport.post(url, b"<x/>", {}, httpx.Timeout(5.0))
    finally:
        await transport.aclose()
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=cafile)) as client:
        with pytest.raises(httpx.ConnectError, match="(?i)dh key too small"):
            await client.post(url, content=b"<x/>")


def test_webhooks_keep_the_default_context_while_afip_s_default_connects(weak_dh_server):
    """With the test CA as the process's trust store (SSL_CERT_FILE), so only DH can refuse:
    the AFIP transport as built in production (no context given) connects; the webhook
    sender's session, in the same process, refuses."""
    url, cafile = weak_dh_server
    script = textwrap.dedent(f"""
        import asyncio, httpx
        from encola.afip import AiohttpTransport
        from encola.settings import Settings
        from encola.webhooks.sender import http_session

        async def main():
            afip = AiohttpTransport(max_connections=1)
            print("afip", (await afip.post({url!r}, b"x", {{}}, httpx.Timeout(5.0)))[0])
            await afip.aclose()
            async with http_session(Settings(webhook_allow_private=True)) as hooks:
                try:
                    async with hooks.post({url!r}, data=b"x") as answer:
                        print("hooks", answer.status)
                except Exception as exc:
                    print("hooks refused:", exc)

        asyncio.run(main())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"SSL_CERT_FILE": cafile, "PATH": "/usr/bin:/bin"})
    assert "afip 200" in result.stdout, result.stderr
    assert "hooks refused:" in result.stdout and "dh key too small" in result.stdout.lower(), result.stdout + result.stderr
