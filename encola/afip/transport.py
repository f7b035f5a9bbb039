"""The HTTP exchange under the SOAP layer: POST bytes, get (status, bytes) or an AFIP error.

Two clients, one contract:

- ``httpx.AsyncClient``, for an in-process simulator (``httpx.ASGITransport``) and the tests'
  mock transports;
- :class:`AiohttpTransport`, for AFIP or a simulator over the network. A worker with a hundred
  lanes keeps dozens of calls in flight, and httpx's connection pool spends CPU on every pending
  request for every connection it holds: measured on this project's machine, 100 concurrent
  callers over 32 connections cost 5.2 ms of CPU per call with httpx against 0.3 ms with aiohttp.

Whichever client, failures are classified the same way: a request that certainly never reached
the server (refused or timed out while connecting, no free connection in time) raises
``AfipNotSentError``; anything after that (a timeout waiting for the answer, a dropped
connection) raises ``AfipConnectionError``, whose outcome is unknown. Neither client retries a
POST by itself. No httpx or aiohttp exception leaves this module.
"""

from __future__ import annotations

import ssl

import aiohttp
import httpx

from encola.afip import observe
from encola.afip.errors import AfipConnectionError, AfipNotSentError
from encola.afip.tls import afip_ssl_context


async def post(
    http: "Http", url: str, body: bytes, headers: dict[str, str], timeout: httpx.Timeout
) -> tuple[int, bytes]:
    """POST through either client (see the module's docstring); returns the status and the body."""
    if isinstance(http, ObservedHttp):
        return await http.post(url, body, headers, timeout)
    if isinstance(http, AiohttpTransport):
        return await observe.observed(http.post(url, body, headers, timeout), url, body, headers)
    return await observe.observed(_post_httpx(http, url, body, headers, timeout), url, body, headers)


async def _post_httpx(
    http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], timeout: httpx.Timeout
) -> tuple[int, bytes]:
    try:
        response = await http.post(url, content=body, headers=headers, timeout=timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise AfipNotSentError(f"could not connect to {url}: {type(exc).__name__}: {exc}") from None
    except httpx.TimeoutException as exc:
        raise AfipConnectionError(f"timeout calling {url}: {type(exc).__name__}") from None
    except (httpx.TransportError, OSError) as exc:
        raise AfipConnectionError(f"connection to {url} failed: {type(exc).__name__}: {exc}") from None
    except httpx.HTTPError as exc:
        raise AfipConnectionError(f"HTTP error calling {url}: {type(exc).__name__}: {exc}") from None
    return response.status_code, response.content


class AiohttpTransport:
    """AFIP over the network with aiohttp: a pool of at most ``max_connections`` keep-alive
    connections, opened on first use (an aiohttp session needs the running event loop) and
    closed by :meth:`aclose`. TLS certificates are verified, with ``ssl_context`` when given, else
    with encola/afip/tls.py's context, which accepts AFIP's weak DH parameters (for AFIP only)."""

    def __init__(self, *, max_connections: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.max_connections, ssl=self.ssl_context or afip_ssl_context())
        self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: httpx.Timeout) -> tuple[int, bytes]:
        session = self._session or self._open()
        limits = aiohttp.ClientTimeout(
            total=None,
            connect=timeout.pool,  # waiting for a free connection, then opening it: nothing sent yet
            sock_connect=timeout.connect,
            sock_read=timeout.read,
        )
        try:
            async with session.post(url, data=body, headers=headers, timeout=limits, allow_redirects=False) as response:
                return response.status, await response.read()
        except (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError) as exc:
            raise AfipNotSentError(f"could not connect to {url}: {type(exc).__name__}: {exc}") from None
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise AfipConnectionError(f"timeout calling {url}: {type(exc).__name__}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise AfipConnectionError(f"connection to {url} failed: {type(exc).__name__}: {exc}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


class ObservedHttp:
    """Either client, telling ``observe(ok, error)`` how each exchange went: ``ok`` when AFIP
    answered (a SOAP fault is an answer), not when the call failed or the server answered that it
    is unavailable (502, 503, 504). What ``estado_servicios`` reports is built from this."""

    UNAVAILABLE = frozenset({502, 503, 504})

    def __init__(self, inner: "httpx.AsyncClient | AiohttpTransport", observe) -> None:
        self.inner = inner
        self.observe = observe

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: httpx.Timeout) -> tuple[int, bytes]:
        try:
            status, content = await post(self.inner, url, body, headers, timeout)
        except (AfipConnectionError, AfipNotSentError) as exc:
            self.observe(False, str(exc))
            raise
        self.observe(status not in self.UNAVAILABLE, None if status not in self.UNAVAILABLE else f"HTTP {status} de {url}")
        return status, content


Http = httpx.AsyncClient | AiohttpTransport | ObservedHttp  # what the AFIP clients take
