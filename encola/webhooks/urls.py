"""Which webhook URLs encola will call, and which addresses it will connect to.

A URL must be http(s), carry no credentials, and point at public addresses only. The URL is
checked when it is configured (names resolved then, to warn early) and before every delivery
(literal addresses only: no DNS there). Names are judged again where it matters, when the HTTP
client connects: ``CheckingResolver`` is the resolver the hook session connects through, and it
refuses a name if any address it resolves to is not public, so the address that was checked is
the address connected to (no second resolution a rebinding DNS server could answer
differently).

An IPv6 address that embeds an IPv4 one is judged by the IPv4 address it carries: IPv4-mapped
(``::ffff:a.b.c.d``), IPv4-translated (``::ffff:0:a.b.c.d``), IPv4-compatible (``::a.b.c.d``),
NAT64 (``64:ff9b::/96``), 6to4 (``2002::/16``) and Teredo (server and client). Site-local
(``fec0::/10``), the local-use NAT64 prefix (``64:ff9b:1::/48``), addresses with a zone and
anything ``ipaddress`` does not call global (loopback, private, link-local, unique-local,
unspecified, reserved, documentation, benchmarking, multicast) are refused.

``ENCOLA_WEBHOOK_ALLOW_PRIVATE=1`` lifts the address rule, for local set-ups.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_LEGACY_IPV4_CHARS = frozenset("0123456789abcdefxABCDEFX.")


class UrlRefused(ValueError):
    def __init__(self, reason: str, host: str = ""):
        super().__init__(reason)
        self.reason, self.host = reason, host


class AddressRefused(OSError):
    """Raised by CheckingResolver: a name resolves to an address hooks may not go to."""

    def __init__(self, host: str, addresses: list[str]):
        self.host = f"{host} → {', '.join(addresses)}"
        super().__init__(f"apunta a una red privada o local {self.host}")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 address(es) an IPv6 address carries, or None for a plain IPv6 address."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    number = int(ip)
    if number >> 32 == 0 or ip in _IPV4_TRANSLATED or ip in _NAT64:  # ::a.b.c.d, SIIT, NAT64
        return [ipaddress.IPv4Address(number & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # (server, client): both must be public
    return None


def is_public(ip: IPAddress) -> bool:
    """Whether hooks may go to ``ip``: globally routable unicast, judged by any embedded IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id or ip in _SITE_LOCAL or ip in _NAT64_LOCAL:
            return False
        carried = embedded_ipv4(ip)
        if carried is not None:
            return all(is_public(v4) for v4 in carried)
    return ip.is_global and not (ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip.is_loopback)


def describe(ip: IPAddress) -> str:
    """The address as refusals name it, with the IPv4 address it carries, if any."""
    carried = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return f"{ip} ({', '.join(map(str, carried))})" if carried else str(ip)


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells without DNS (IPv6, dotted quad, or a legacy IPv4 form), if any.

    Legacy forms (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``) are read the way the
    C library reads them, since that is how a connection would read them.
    """
    host = unquote(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if "%" in host:  # an IPv6 address with a zone (fe80::1%eth0): link-local by nature
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    if host and set(host) <= _LEGACY_IPV4_CHARS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


def _refuse_private(host: str, addresses: list[str]) -> None:
    private = [a for a in addresses if not is_public(ipaddress.ip_address(a))]
    if private:
        raise UrlRefused("apunta a una red privada o local", f"{host} → {', '.join(private)}")


def check_url(url: str, allow_private: bool, *, require_resolution: bool = False, resolve_names: bool = True) -> None:
    """Raise UrlRefused unless ``url`` is an http(s) URL whose host is public (or private is allowed).

    With ``resolve_names`` off only literal addresses are judged here: names are left to
    CheckingResolver, at connect time (the dispatcher's way).
    """
    if len(url) > 2048:
        raise UrlRefused("la URL supera los 2048 caracteres")
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError for a port out of range or not numeric
    except ValueError as exc:
        raise UrlRefused(f"la URL no es valida ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("debe ser una URL http:// o https:// con un dominio, por ejemplo https://www.dominio.com/script")
    if parts.username or parts.password:
        raise UrlRefused("no debe incluir usuario ni contraseña")
    try:
        # The host as the HTTP client will read it: yarl folds Unicode look-alikes, so
        # "①②⑦.0.0.1" and "１２７.0.0.1" are 127.0.0.1 and "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ" is localhost.
        host = yarl.URL(url).raw_host or ""
    except (ValueError, UnicodeError) as exc:
        raise UrlRefused(f"la URL no es valida ({exc})") from None
    if allow_private:
        return
    shown = parts.hostname if parts.hostname == host else f"{parts.hostname} ({host})"
    literal = literal_address(host)
    if literal is not None:
        if not is_public(literal):
            raise UrlRefused("apunta a una red privada o local", f"{shown} → {describe(literal)}")
        return
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: loopback, whatever DNS says
        raise UrlRefused("apunta a una red privada o local", f"{shown} → 127.0.0.1, ::1")
    if not resolve_names:
        return
    addresses = resolve(host)
    if not addresses:
        if require_resolution:
            raise UrlRefused(f"no se pudo resolver el dominio {host}", host)
        return  # judged again, at connect time, by CheckingResolver
    _refuse_private(shown, addresses)


@lru_cache(maxsize=4096)
def delivery_refusal(url: str, allow_private: bool) -> UrlRefused | None:
    """Why the dispatcher may not call ``url`` (literal addresses and shape only), or None."""
    if not url:
        return UrlRefused("el punto de venta no tiene direccion de webhook")
    try:
        check_url(url, allow_private, resolve_names=False)
    except UrlRefused as refused:
        return refused
    return None


class CheckingResolver(AbstractResolver):
    """The hook session's resolver: the inner resolver's answer, refused if any address is not public.

    aiohttp connects only to the addresses a resolver returns, so every connection a hook makes
    by name goes to an address judged here. Literal addresses never reach a resolver; the
    dispatcher judges those (``delivery_refusal``).
    """

    def __init__(self, inner: AbstractResolver, allow_private: bool = False):
        self.inner = inner
        self.allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        if not self.allow_private:
            refused = [answer["host"] for answer in answers if not _public_text(answer["host"])]
            if refused:
                raise AddressRefused(host, sorted(set(refused)))
        return answers

    async def close(self) -> None:
        await self.inner.close()


def _public_text(address: str) -> bool:
    try:
        return is_public(ipaddress.ip_address(address))
    except ValueError:
        return False
