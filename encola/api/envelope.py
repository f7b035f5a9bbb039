"""TF response envelopes and the JSON response every endpoint answers with."""

from __future__ import annotations


from starlette.responses import Response

from encola import jsontext
from encola.domain.errors import Error

CONTENT_TYPE = "application/json; charset=utf-8"


def error_envelope(errors: list[Error], external_reference: str | None = "", **extra: object) -> dict:
    """``{"error": "S", "errores": [...], "error_cod": [], "error_details": [...]}``, as TF answers."""
    body: dict = {
        "error": "S",
        "errores": [e.text for e in errors],
        "error_cod": [],
        "error_details": [{"code": e.code, "text": e.text} for e in errors],
    }
    if external_reference is not None:
        body["external_reference"] = external_reference
    body.update(extra)
    return body


def json_response(body: dict, status_code: int = 200) -> Response:
    # TF escapes nothing but what JSON needs; keep Spanish text readable.
    return Response(jsontext.dumps(body), status_code=status_code, media_type=CONTENT_TYPE)
