"""Exceptions raised by the AFIP client.

Data answers (a comprobante accepted or rejected by AFIP) are values, never
exceptions. Exceptions describe whole calls that did not produce an answer::

    AfipError
    ├── AfipTransientError            retry later; a FECAESolicitar outcome is unknown
    │   ├── AfipConnectionError       network error, timeout, connection dropped
    │   │   └── AfipNotSentError      refused or timed out while connecting: AFIP never saw it
    │   ├── AfipHttpError             HTTP 5xx or a non-SOAP answer
    │   ├── AfipServiceDownError      AFIP Errors 500/501/502, WSAA *.unavailable
    │   │   └── AfipLaneBusyError     502 "Transaccion Activa": another call of the lane is being served
    │   └── AfipBadResponseError      an answer we could not parse
    ├── AfipAuthError                 renew the ticket or fix the certificate
    │   ├── TokenRejectedError        WSFEv1 Errors 600/601 (token, sign, CUIT relations)
    │   └── WsaaError                 a WSAA SOAP fault
    │       ├── AlreadyAuthenticatedError   coe.alreadyAuthenticated: back off, do not hammer
    │       ├── CertificateExpiredError     cms.cert.expired
    │       └── UntrustedCertificateError   cms.cert.untrusted / cms.cert.invalid
    └── AfipCallError                 AFIP refused the call itself (Errors or a soap:Client fault)

No httpx, aiohttp or lxml exception ever leaves `encola.afip`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AfipMessage:
    """One AFIP `Err`, `Obs` or `Evt`: a numeric code and its message, verbatim."""

    code: int
    msg: str


class AfipError(Exception):
    """A call to AFIP did not produce an answer."""

    def __init__(self, message: str = "", *, errors: tuple[AfipMessage, ...] = ()) -> None:
        super().__init__(message or (self.__doc__ or "").strip())
        self.errors = errors


class AfipTransientError(AfipError):
    """AFIP or the network is failing; try again later (reconcile before resending)."""


class AfipConnectionError(AfipTransientError):
    """The connection failed, timed out or was closed before an answer arrived."""


class AfipNotSentError(AfipConnectionError):
    """The connection could not be opened, so the request certainly never reached AFIP."""


class AfipHttpError(AfipTransientError):
    """AFIP answered with an HTTP error status or a body that is not SOAP."""

    def __init__(self, message: str = "", *, status_code: int = 0) -> None:
        super().__init__(message)
        self.status_code = status_code


class AfipServiceDownError(AfipTransientError):
    """AFIP reports an internal failure of its own service."""


class AfipLaneBusyError(AfipServiceDownError):
    """AFIP refused a FECAESolicitar because another of its lane (CUIT, PtoVta, CbteTipo) was being
    processed (502 "Transaccion Activa"). Nothing of this call was processed: send it again once
    the other call is answered. It says nothing about the comprobantes themselves."""


class AfipBadResponseError(AfipTransientError):
    """AFIP's answer could not be understood."""


class AfipAuthError(AfipError):
    """Authentication failed: the ticket or the certificate is not accepted."""


class TokenRejectedError(AfipAuthError):
    """WSFEv1 refused the token/sign or the represented CUIT."""


class WsaaError(AfipAuthError):
    """WSAA answered loginCms with a SOAP fault."""

    def __init__(self, message: str = "", *, faultcode: str = "") -> None:
        super().__init__(message)
        self.faultcode = faultcode


class AlreadyAuthenticatedError(WsaaError):
    """WSAA already issued a valid ticket for this certificate and service.

    Asking again locks the certificate out for longer: keep the cached ticket,
    or wait `retry_after` seconds before the next loginCms.
    """

    retry_after: float = 600.0


class CertificateExpiredError(WsaaError):
    """The certificate has expired."""


class UntrustedCertificateError(WsaaError):
    """The certificate was not issued by a CA AFIP trusts for this environment."""


class AfipCallError(AfipError):
    """AFIP refused the call itself (not a single comprobante): see `errors`."""
