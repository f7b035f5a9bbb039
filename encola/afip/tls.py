"""TLS for AFIP's hosts only.

AFIP's servers negotiate Diffie-Hellman parameters that OpenSSL's default security level (2)
refuses (``DH_KEY_TOO_SMALL``, reference README §1). Level 1 accepts them; the certificate and
host name are still verified. This context is used by the AFIP transport and nothing else:
webhooks, mail and everything else keep the library defaults (tests/unit/afip/test_afip_tls.py).
"""

from __future__ import annotations

import ssl

AFIP_CIPHERS = "DEFAULT@SECLEVEL=1"


def afip_ssl_context(cafile: str | None = None) -> ssl.SSLContext:
    """A verifying client context that also accepts AFIP's weak DH parameters."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(AFIP_CIPHERS)
    return context
