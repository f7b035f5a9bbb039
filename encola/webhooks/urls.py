"""Which webhook URLs encola will call: http(s) only, and no private or loopback targets.

Checked when a URL is configured and again before every delivery (a name can change what it
resolves to). ``ENCOLA_WEBHOOK_ALLOW_PRIVATE=1`` lifts the address rule, for local set-ups.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UrlRefused(ValueError):
    def __init__(self, reason: str, host: str = ""):
        super().__init__(reason)
        self.reason, self.host = reason, host


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({info[4][0] for info in infos})


def check_url(url: str, allow_private: bool, *, require_resolution: bool = False) -> None:
    """Raise UrlRefused unless ``url`` is an http(s) URL whose host is public (or private is allowed)."""
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
    if allow_private:
        return
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host)
    if not addresses:
        if require_resolution:
            raise UrlRefused(f"no se pudo resolver el dominio {host}", host)
        return  # checked again, resolved, before each delivery
    private = [a for a in addresses if not _is_public(a)]
    if private:
        raise UrlRefused("apunta a una red privada o local", f"{host} → {', '.join(private)}")
