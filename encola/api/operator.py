"""The operator token for the embedded simulator's controls (``/afip-sim/*``, when mounted).

The console (encola/console) has accounts of its own; this token opens none of its pages.

Here an operator is whoever presents the token of ``ENCOLA_ADMIN_TOKEN``: ``Authorization: Bearer <token>``, or HTTP Basic with any user name and
the token as password (so a browser asks for it). Without that variable the surfaces are closed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from html import escape

from starlette.responses import HTMLResponse, Response

from encola.api.limits import AbuseLimits

REALM = "encola operator"

_NOT_CONFIGURED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>encola — closed</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem"><h1>encola</h1>
<p>This page is for operators and is closed: no operator token is configured.</p>
<p>Start encola with <code>ENCOLA_ADMIN_TOKEN</code> set to a long random value, e.g.
<code>ENCOLA_ADMIN_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') encola serve</code>,
then open this page again and give that token as the password (any user name), or send
<code>Authorization: Bearer &lt;token&gt;</code>.</p>
</body></html>"""

_UNAUTHORIZED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>encola — {title}</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem"><h1>encola</h1><p>{text}</p></body></html>"""


def presented_token(authorization: str | None) -> str | None:
    """The token an ``Authorization`` header carries: ``Bearer <token>`` or Basic with the token
    as password (the user name is ignored). None when the header is absent or malformed."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            return None
        user, colon, password = decoded.partition(":")
        return password if colon and password else None
    return None


def is_operator(authorization: str | None, token: str | None) -> bool:
    """Whether the header presents the configured token, compared in constant time."""
    presented = presented_token(authorization)
    if not token or presented is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), token.encode("utf-8"))


def refusal(token: str | None) -> Response:
    """403 with how to enable the page when no token is configured; 401 with a Basic challenge otherwise."""
    if not token:
        return HTMLResponse(_NOT_CONFIGURED, status_code=403)
    page = _UNAUTHORIZED.format(title="operator token required", text=escape(
        "This page is for operators: give the ENCOLA_ADMIN_TOKEN as the password (any user name), "
        "or send Authorization: Bearer <token>."))
    return HTMLResponse(page, status_code=401, headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def admit(scope, token: str | None, limits: AbuseLimits) -> Response | None:
    """None for an operator; otherwise the answer to send (401/403, or 429 once the address
    has failed authentication too often: then the token is not even compared)."""
    throttled = await limits.admit_address(scope)
    if throttled is not None:
        return throttled
    if is_operator(_header(scope, b"authorization"), token):
        return None
    if token and _header(scope, b"authorization") is not None:
        await limits.failed_authentication(scope)
    return refusal(token)


class OperatorOnly:
    """An ASGI app behind the operator token (the embedded simulator's controls)."""

    def __init__(self, app, token: str | None, limits: AbuseLimits):
        self.app = app
        self.token = token
        self.limits = limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            refused = await admit(scope, self.token, self.limits)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
