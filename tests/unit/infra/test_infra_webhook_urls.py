"""Which webhook URLs encola calls: http(s) only, no credentials, no private or local targets.

Only IP literals and ``localhost`` are used, so nothing here needs a DNS server.
"""

from __future__ import annotations

import pytest

from encola.webhooks.urls import UrlRefused, check_url

PRIVATE_TARGETS = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost/hook",
    "http://127.1/hook",  # short form of 127.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f000001/hook",  # 127.0.0.1 in hex
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://172.31.255.254/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
    "http://224.0.0.1/hook",  # multicast
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/hook",  # IPv6 link-local
    "http://[fc00::1]/hook",  # IPv6 unique local
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
    "http://[::ffff:169.254.169.254]/hook",
    # IPv6 forms that carry an IPv4 address are judged by it
    "http://[::127.0.0.1]/hook",  # IPv4-compatible
    "http://[::7f00:1]/hook",  # the same, in hex
    "http://[::10.0.0.1]/hook",
    "http://[::ffff:0:127.0.0.1]/hook",  # IPv4-translated (SIIT)
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
    "http://[64:ff9b::127.0.0.1]/hook",
    "http://[64:ff9b::10.0.0.1]/hook",
    "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/hook",  # 6to4 of 169.254.169.254
    "http://[2002:c0a8:101::1]/hook",  # 6to4 of 192.168.1.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    "http://[2001:0:7f00:1::1]/hook",  # Teredo, server 127.0.0.1
    # IPv6 ranges that are not public
    "http://[fec0::1]/hook",  # site-local (deprecated, still routed inside sites)
    "http://[feff::1]/hook",
    "http://[64:ff9b:1::808:808]/hook",  # local-use NAT64: the operator's own network
    "http://[ff02::1]/hook",  # multicast
    "http://[ff0e::1]/hook",  # global-scope multicast is still multicast
    "http://[100::1]/hook",  # discard-only
    "http://[2001:db8::1]/hook",  # documentation
    "http://[fe80::1%25eth0]/hook",  # link-local with a zone
    "http://[0:0:0:0:0:0:0:1]/hook",
    # IPv4 forms and ranges
    "http://0177.0.0.1/hook",  # octal
    "http://0x7f.0.0.1/hook",
    "http://127.0.1/hook",
    "http://0/hook",
    "http://192.0.0.1/hook",  # IETF protocol assignments
    "http://192.0.2.1/hook",  # documentation
    "http://198.18.0.1/hook",  # benchmarking
    "http://240.0.0.1/hook",  # reserved
    "http://255.255.255.255/hook",
    "http://localhost./hook",
    "http://LOCALHOST/hook",
    "http://hooks.localhost/hook",
    # Unicode look-alikes the HTTP client folds into an address or localhost
    "http://①②⑦.0.0.1/hook",
    "http://１２７.0.0.1/hook",
    "http://127。0。0。1/hook",
    "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/hook",
]


PUBLIC_EMBEDDED = [
    "https://[::ffff:8.8.8.8]/hook",
    "https://[::8.8.8.8]/hook",
    "https://[64:ff9b::808:808]/hook",  # NAT64 of 8.8.8.8
    "https://[2002:808:808::1]/hook",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "http://1.1.1.1:8080/hook?x=1", "https://[2001:4860:4860::8888]/hook", *PUBLIC_EMBEDDED])
def test_a_public_ip_literal_is_accepted(url):
    check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/hook", "file:///etc/passwd", "gopher://8.8.8.8/", "javascript:alert(1)", "8.8.8.8/hook", "", "https://", "https:///hook"])
def test_only_http_and_https_urls_with_a_host_are_accepted(url):
    with pytest.raises(UrlRefused, match="debe ser una URL http:// o https://") as refused:
        check_url(url, allow_private=True)
    assert refused.value.host == ""


@pytest.mark.parametrize("url", ["https://usuario:clave@8.8.8.8/hook", "https://usuario@8.8.8.8/hook", "https://:clave@8.8.8.8/hook"])
def test_credentials_in_the_url_are_refused_even_when_private_targets_are_allowed(url):
    with pytest.raises(UrlRefused, match="no debe incluir usuario ni contraseña"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_loopback_private_and_link_local_targets_are_refused(url):
    with pytest.raises(UrlRefused, match="apunta a una red privada o local") as refused:
        check_url(url, allow_private=False)
    assert "→" in refused.value.host  # names the host and what it resolves to


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_private_targets_are_accepted_when_allowed(url):
    check_url(url, allow_private=True)


def test_the_refusal_names_the_address_a_name_resolves_to():
    with pytest.raises(UrlRefused) as refused:
        check_url("http://localhost:9000/hook", allow_private=False)
    assert refused.value.host.startswith("localhost → ")
    assert "127.0.0.1" in refused.value.host or "::1" in refused.value.host


def test_a_url_longer_than_2048_characters_is_refused():
    url = "https://8.8.8.8/" + "a" * 2033
    assert len(url) == 2049
    with pytest.raises(UrlRefused, match="2048"):
        check_url(url, allow_private=True)
    check_url(url[:-1], allow_private=True)


def test_an_unresolvable_name_passes_now_and_is_checked_again_before_delivery():
    check_url("https://no-existe.invalid/hook", allow_private=False)


def test_an_unresolvable_name_is_refused_when_resolution_is_required():
    with pytest.raises(UrlRefused, match="no se pudo resolver el dominio no-existe.invalid"):
        check_url("https://no-existe.invalid/hook", allow_private=False, require_resolution=True)


def test_the_scheme_is_not_case_sensitive():
    check_url("HTTPS://8.8.8.8/hook", allow_private=False)


@pytest.mark.parametrize("url", ["http://[::1/hook", "http://[zz::1]/hook"])
def test_a_malformed_ipv6_host_is_refused_as_a_bad_url(url):
    with pytest.raises(UrlRefused):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["https://8.8.8.8:99999/hook", "https://8.8.8.8:puerto/hook"])
def test_a_url_with_an_impossible_port_is_refused(url):
    with pytest.raises(UrlRefused):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("http://[64:ff9b::a9fe:a9fe]/hook", "169.254.169.254"),
        ("http://[2002:7f00:1::1]/hook", "127.0.0.1"),
        ("http://[::127.0.0.1]/hook", "127.0.0.1"),
    ],
)
def test_the_refusal_names_the_ipv4_address_an_ipv6_one_carries(url, named):
    with pytest.raises(UrlRefused) as refused:
        check_url(url, allow_private=False)
    assert named in refused.value.host


def test_without_resolving_names_only_literal_addresses_are_judged():
    # The dispatcher's check: names are judged by the resolver it connects through.
    check_url("http://rebind.invalid/hook", allow_private=False, resolve_names=False)
    with pytest.raises(UrlRefused):
        check_url("http://[::127.0.0.1]/hook", allow_private=False, resolve_names=False)
    with pytest.raises(UrlRefused):
        check_url("http://0x7f000001/hook", allow_private=False, resolve_names=False)
