"""Reading a request body into a JSON object, answering every kind of malformed input."""

from __future__ import annotations

import json

from starlette.requests import ClientDisconnect, Request

from encola.domain.errors import Error, err


class BodyError(Exception):
    def __init__(self, error: Error):
        super().__init__(error.text)
        self.error = error


async def read_json_object(request: Request, limit: int) -> dict:
    """The body as a dict; raises BodyError (too large, not UTF-8, not JSON, not an object)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyError(err("TFC-1004", limite=limit))
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyError(err("TFC-1004", limite=limit))
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyError(err("TFC-1015")) from None
    raw = b"".join(chunks)
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8-sig")  # a BOM is tolerated; Windows clients send one
    except UnicodeDecodeError:
        raise BodyError(err("TFC-1003")) from None
    if not text.strip():
        raise BodyError(err("TFC-1001", detalle="el cuerpo del request esta vacio"))
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise BodyError(err("TFC-1001", detalle=detail)) from None
    except RecursionError:
        raise BodyError(err("TFC-1001", detalle="anidamiento excesivo")) from None
    if not isinstance(value, dict):
        raise BodyError(err("TFC-1002"))
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} no es un valor JSON valido")
