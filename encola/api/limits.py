"""Abuse limits: requests per apikey and per address, and failed authentications per address.

Counted by the ``limits`` library in fixed windows: in this process's memory by default, or in
Redis (``ENCOLA_RATE_LIMIT_STORAGE=redis://host:6379``) so that several API processes share the
counts. A request over a limit gets TusFacturas' answer to a client going too fast, HTTP 429 with
``Retry-After``, in the TF envelope (TFC-1018; TFC-1019 once an address has failed authentication
too often, answered without looking at the credentials at all).

The order on every ``/app/api/v2/`` POST: the address's limit and failure count before the body
is read, the apikey's limit once it is, then the credentials. If Redis cannot be reached requests
go through (logged once a minute): a limiter outage must not stop invoicing.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.strategies import FixedWindowRateLimiter as AsyncFixedWindow
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from starlette.responses import Response

from encola.api.envelope import error_envelope, json_response
from encola.domain.errors import err
from encola.settings import Rate, Settings

log = logging.getLogger("encola.api.limits")

_ITEMS = {
    "second": RateLimitItemPerSecond,
    "minute": RateLimitItemPerMinute,
    "hour": RateLimitItemPerHour,
    "day": RateLimitItemPerDay,
}
_SPANISH = {"second": ("segundo", "segundos"), "minute": ("minuto", "minutos"), "hour": ("hora", "horas"), "day": ("dia", "dias")}
_OUTAGE_LOG_SECONDS = 60.0


def client_address(scope) -> str:
    """The peer's address as the server saw it (uvicorn puts X-Forwarded-For's client there only
    for the proxies in ENCOLA_FORWARDED_ALLOW_IPS)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def describe(rate: Rate) -> str:
    """The rate in Spanish, for TFC-1018: ``5000 por segundo``, ``20 cada 5 minutos``."""
    one, many = _SPANISH[rate.unit]
    return f"{rate.count} por {one}" if rate.per == 1 else f"{rate.count} cada {rate.per} {many}"


def too_many(code: str, retry_after: int, **values) -> Response:
    """TF's 429: the envelope, and how long to wait."""
    response = json_response(error_envelope([err(code, segundos=retry_after, **values)], ""), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


class AbuseLimits:
    """The limits of one process, built once from the settings."""

    def __init__(self, settings: Settings):
        self.rates = {
            "credential": settings.rate_limit_per_credential,
            "address": settings.rate_limit_per_address,
            "auth": settings.auth_failures_per_address,
        }
        self.items: dict[str, RateLimitItem | None] = {
            name: _ITEMS[rate.unit](rate.count, rate.per, namespace=f"encola-{name}") if rate else None
            for name, rate in self.rates.items()
        }
        self.before_body = self.items["address"] is not None or self.items["auth"] is not None
        self._shared = not settings.rate_limit_storage.startswith("memory")
        if self._shared:
            uri = settings.rate_limit_storage
            storage = storage_from_string(uri if uri.startswith("async+") else "async+" + uri, implementation="redispy")
            self._limiter = AsyncFixedWindow(storage)
        else:
            self._limiter = FixedWindowRateLimiter(MemoryStorage())
        self._outage_logged = 0.0

    async def admit_address(self, scope) -> Response | None:
        """Before the body is read: the address's request limit, and whether it is locked out."""
        if not self.before_body:
            return None
        address = client_address(scope)
        if self.items["auth"] is not None and not await self._call("test", "auth", address):
            return too_many("TFC-1019", await self._retry_after("auth", address))
        if self.items["address"] is not None and not await self._call("hit", "address", address):
            return too_many("TFC-1018", await self._retry_after("address", address), limite=describe(self.rates["address"]))
        return None

    async def admit_credential(self, apikey: str) -> Response | None:
        """The apikey's request limit; counted for the apikey as sent, before the tokens are checked
        (failed authentications are throttled per address, so others cannot spend much of it)."""
        if self.items["credential"] is None or not apikey:
            return None
        key = apikey[:32]
        if not await self._call("hit", "credential", key):
            return too_many("TFC-1018", await self._retry_after("credential", key), limite=describe(self.rates["credential"]))
        return None

    async def failed_authentication(self, scope) -> None:
        """Count one failed authentication (wrong credentials or operator token) for the address."""
        if self.items["auth"] is not None:
            await self._call("hit", "auth", client_address(scope))

    async def _retry_after(self, name: str, key: str) -> int:
        stats = await self._call("get_window_stats", name, key)
        reset = stats.reset_time if stats else time.time() + 1
        return max(1, math.ceil(reset - time.time()))

    async def _call(self, method: str, name: str, key: str):
        try:
            result = getattr(self._limiter, method)(self.items[name], key)
            return await result if self._shared else result
        except Exception as exc:  # the shared storage is unreachable: let the request through
            now = time.monotonic()
            if now - self._outage_logged > _OUTAGE_LOG_SECONDS:
                self._outage_logged = now
                log.warning("rate limit storage unavailable, requests are not limited: %s", exc,
                            extra={"action": "rate_limit_outage"})
            return None if method == "get_window_stats" else True
