"""Who gets the buyer's e-mail: decided at intake from ``cliente.envia_por_mail`` and ``cliente.email``."""

from __future__ import annotations

from encola.domain.validation import email_addresses


def mail_to(envia_por_mail: str, email: str) -> str | None:
    """The addresses to mail (normalized, comma-separated), or None: "N", no address, or not valid.

    Intake has already refused an invalid ``email`` (TFC-3010), so None here means "no mail"."""
    if envia_por_mail != "S" or not email:
        return None
    addresses = email_addresses(email)
    return ",".join(addresses) if addresses else None
