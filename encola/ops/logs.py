"""Logging set-up: human-readable lines by default, one JSON object per line with
``ENCOLA_LOG_FORMAT=json``.

A JSON line holds ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``event`` (the message) and
whatever the call site passed in ``extra=`` — ``action``, ``invoice_id``, ``lane``, ``hook_id`` and
the like. Fields whose names say they hold a secret (token, key, password, secret, sign, apikey,
cert) are written as ``[redacted]``, whatever the call site passed: a log line must never be the
place a credential leaks from.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SECRET_NAME = re.compile(r"token|secret|passw|apikey|api_key|private|(^|_)key$|^sign$|cert_pem|key_pem", re.IGNORECASE)
# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = "[redacted]" if SECRET_NAME.search(name) else _plain(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _plain(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def configure(level: str, log_format: str = "text") -> None:
    """Install one stderr handler on the root logger with the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for previous in list(root.handlers):
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per AFIP call and hook is noise
    logging.getLogger("alembic").setLevel(logging.WARNING)
