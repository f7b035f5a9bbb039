"""AFIP client: WSAA (tickets) and WSFEv1 (CAE), over an injected HTTP client (see `transport`).

AFIP answers are values (`Accepted`, `Rejected`); whole-call failures are the
exceptions in `encola.afip.errors`.
"""

from encola.afip.certs import (
    CertificateInfo,
    CertificateProblem,
    check_certificate,
    cuit_of,
    generate_test_certificate,
    load_certificate,
    load_private_key,
)
from encola.afip.client import AfipClient, AfipTimeouts
from encola.afip.endpoints import AfipEndpoints
from encola.afip.errors import (
    AfipAuthError,
    AfipBadResponseError,
    AfipCallError,
    AfipConnectionError,
    AfipError,
    AfipHttpError,
    AfipLaneBusyError,
    AfipMessage,
    AfipNotSentError,
    AfipServiceDownError,
    AfipTransientError,
    AlreadyAuthenticatedError,
    CertificateExpiredError,
    TokenRejectedError,
    UntrustedCertificateError,
    WsaaError,
)
from encola.afip.models import (
    Accepted,
    Actividad,
    AlicIva,
    CaeDetail,
    CaeResult,
    CbteAsoc,
    Comprador,
    CondicionIvaReceptor,
    DetailResult,
    Opcional,
    ParamItem,
    PeriodoAsoc,
    PuntoVenta,
    Rejected,
    ServerStatus,
    StoredComprobante,
    Ticket,
    Tributo,
)
from encola.afip.transport import AiohttpTransport
from encola.afip.wsaa import Credentials, InMemoryTicketCache, TicketCache, WsaaClient
from encola.afip.wsfe import WsfeClient

__all__ = [
    "Accepted", "Actividad", "Comprador", "AfipAuthError", "AfipBadResponseError", "AfipCallError", "AfipClient", "AfipConnectionError",
    "AfipEndpoints", "AfipError", "AfipHttpError", "AfipLaneBusyError", "AfipMessage", "AfipNotSentError", "AfipServiceDownError", "AfipTimeouts",
    "AfipTransientError", "AiohttpTransport", "AlicIva", "AlreadyAuthenticatedError", "CaeDetail", "CaeResult",
    "CbteAsoc", "CertificateExpiredError", "CondicionIvaReceptor", "Credentials", "DetailResult", "InMemoryTicketCache",
    "Opcional", "ParamItem", "PeriodoAsoc", "PuntoVenta", "Rejected", "ServerStatus", "StoredComprobante",
    "Ticket", "TicketCache", "TokenRejectedError", "Tributo", "UntrustedCertificateError", "WsaaClient",
    "WsaaError", "WsfeClient", "CertificateInfo", "CertificateProblem", "check_certificate", "cuit_of",
    "generate_test_certificate", "load_certificate", "load_private_key",
]
