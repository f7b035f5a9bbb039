"""Redelivery: what a disabled or failing endpoint missed, queued again on its owner's request.

``POST /app/api/v2/webhooks/reenviar`` (the caller's own point of sale) and ``encola hooks
redeliver`` (operator) queue again the failed events created since a moment: same ``hook_id``,
the retry schedule from its start. Events skipped while the endpoint was disabled are failed
events too, so they go again as well.
"""

from __future__ import annotations

from datetime import datetime, time, timezone

from encola.api.envelope import error_envelope
from encola.clock import ARGENTINA, to_argentina
from encola.domain import fields as f
from encola.domain.errors import err
from encola.store.store import Pdv, Store


def parse_since(value: object) -> datetime | None:
    """Naive UTC from ``dd/mm/aaaa`` (midnight in Argentina) or an ISO 8601 date-time (Argentina
    time unless it carries an offset); None when it is neither."""
    text = f.text(value)
    if f.absent(text):
        return None
    text = text.strip()
    day = f.wire_date(text)
    if day is not None:
        moment = datetime.combine(day, time(), ARGENTINA)
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ARGENTINA)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def reenviar(store: Store, pdv: Pdv, body: dict) -> dict:
    """``webhooks/reenviar``: queue again the caller's failed hooks created since ``desde``."""
    since = parse_since(body.get("desde"))
    if since is None:
        return error_envelope([err("TFC-2011", campo="desde")], None)
    count = store.redeliver_events(since, pdv.id)
    return {"error": "N", "errores": [], "reenviados": count}


def endpoint_state(pdv: Pdv) -> dict:
    """The point of sale's webhook state as ``consulta_avanzada`` shows it (encola's addition)."""
    def shown(moment: datetime | None) -> str | None:
        return f.format_datetime(to_argentina(moment)) if moment is not None else None

    return {
        "estado": "deshabilitado" if pdv.webhook_disabled_at is not None else "activo",
        "deshabilitado_desde": shown(pdv.webhook_disabled_at),
        "motivo": pdv.webhook_disabled_reason,
        "fallando_desde": shown(pdv.webhook_failing_since),
    }
