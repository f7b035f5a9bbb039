"""Who is looking: the session cookie, the operator behind it, CSRF tokens, the login throttle.

The cookie (``encola_sesion``, path ``/console``) holds 32 random bytes; the database keeps only
their SHA-256, so a copy of the database opens no session. It is ``HttpOnly``, ``SameSite=Lax`` and
``Secure`` whenever the console is reached over HTTPS: the request's scheme is https (uvicorn takes
X-Forwarded-Proto from the proxies of ENCOLA_FORWARDED_ALLOW_IPS only) or ENCOLA_PUBLIC_URL is
https. Every unsafe request carries the session's CSRF token (a form field or the X-CSRF-Token
header); the login form, before any session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from encola.api.limits import client_address
from encola.store.operators import Session

COOKIE = "encola_sesion"
LOGIN_CSRF_COOKIE = "encola_login_csrf"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_LIFETIME = timedelta(hours=12)  # absolute: an operator logs in at least twice a day
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class CurrentOperator:
    """The operator of a request (``current_operator(request)``)."""

    id: int
    email: str
    csrf_token: str
    workspace_ids: frozenset[int] | None  # None: every workspace (``--all``)
    _pdvs: list[dict] | None = field(default=None, repr=False)

    @property
    def sees_all(self) -> bool:
        return self.workspace_ids is None

    def sees_workspace(self, workspace_id: int) -> bool:
        return self.workspace_ids is None or workspace_id in self.workspace_ids


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def current_operator(request: Request) -> CurrentOperator:
    """The logged-in operator; every console route but login runs with one (see Console.route)."""
    return request.state.operator


def operator_of(session: Session) -> CurrentOperator:
    return CurrentOperator(session.operator.id, session.operator.email, session.csrf_token, session.workspace_ids)


def csrf_field(request: Request) -> Markup:
    """The hidden input every console form carries (templates: ``{{ csrf_field(request) }}``)."""
    operator = getattr(request.state, "operator", None)
    value = operator.csrf_token if operator else request.state.login_csrf
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, value)


def csrf_valid(expected: str, presented: str | None) -> bool:
    return bool(expected) and presented is not None and hmac.compare_digest(expected.encode(), presented.encode())


async def presented_csrf(request: Request) -> str | None:
    """The CSRF token of an unsafe request: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def is_https(request: Request, public_url: str | None) -> bool:
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def set_cookie(response: Response, request: Request, public_url: str | None, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=is_https(request, public_url),
    )


def clear_cookie(response: Response, request: Request, public_url: str | None, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request, public_url))


class LoginThrottle:
    """Failed logins counted per address and per e-mail (fixed windows, the ``limits`` library):
    past the limit, logins from that address or for that e-mail are refused without checking the
    password until the window ends. The counts live where the API's limits do
    (ENCOLA_RATE_LIMIT_STORAGE: this process's memory, or Redis shared by every API process)."""

    def __init__(self, storage_uri: str = "memory://", failures: int = 10, minutes: int = 15):
        storage = MemoryStorage() if storage_uri.startswith("memory") else storage_from_string(storage_uri)
        self._limiter = FixedWindowRateLimiter(storage)
        self._item = RateLimitItemPerMinute(failures, minutes, namespace="encola-console-login")

    def _keys(self, request: Request, email: str) -> list[str]:
        return ["address:" + client_address(request.scope), "email:" + email.lower()[:320]]

    def locked(self, request: Request, email: str) -> int | None:
        """Seconds to wait when the address or the e-mail is locked out; None otherwise."""
        for key in self._keys(request, email):
            try:
                if not self._limiter.test(self._item, key):
                    stats = self._limiter.get_window_stats(self._item, key)
                    return max(1, int(stats.reset_time - time.time()) + 1)
            except Exception:  # an unreachable Redis must not lock everybody out
                return None
        return None

    def failed(self, request: Request, email: str) -> None:
        for key in self._keys(request, email):
            try:
                self._limiter.hit(self._item, key)
            except Exception:
                pass
