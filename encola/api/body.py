"""Reading a request body into a JSON object, answering every kind of malformed input.

Everything a client can put in a body is refused here, before authentication, if the rest of
encola could not carry it: a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON but no UTF-8
encoder, ours nor the database's, accepts it), NUL (PostgreSQL refuses it in text), the Unicode
noncharacters, and nesting deeper than any TF request needs.
"""

from __future__ import annotations

import asyncio
import json
import re

from starlette.requests import ClientDisconnect, Request

from encola.domain.errors import Error, err

# TF's deepest request (a lote of comprobantes with detalle and producto) nests 6 levels.
MAX_DEPTH = 32
# NUL, lone surrogates, and the noncharacters: U+FDD0..U+FDEF and the last two of every plane.
# The regex finds those of the first plane and any character beyond it (a class of the 32 astral
# noncharacters makes the search ten times slower); _refused tells the astral ones apart.
_SUSPECT_CHAR = re.compile("[\x00\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U00010000-\U0010ffff]")


def _refused(text: str) -> bool:
    """Whether ``text`` holds a character encola refuses (see _SUSPECT_CHAR)."""
    for match in _SUSPECT_CHAR.finditer(text):
        code = ord(match.group())
        if code < 0x10000 or code & 0xFFFE == 0xFFFE:
            return True
    return False


class BodyError(Exception):
    def __init__(self, error: Error):
        super().__init__(error.text)
        self.error = error


async def read_json_object(request: Request, limit: int, timeout: float | None = None) -> dict:
    """The body as a dict; raises BodyError (too large, not UTF-8, not JSON, not an object, or
    not all there within ``timeout`` seconds: a slow client must not hold a request open)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyError(err("TFC-1004", limite=limit))
    chunks: list[bytes] = []
    try:
        async with asyncio.timeout(timeout):
            await _read_chunks(request, limit, chunks)
    except ClientDisconnect:
        raise BodyError(err("TFC-1015")) from None
    except TimeoutError:
        raise BodyError(err("TFC-1017", segundos=f"{timeout:g}")) from None
    raw = b"".join(chunks)
    return parse_json_object(raw)


async def _read_chunks(request: Request, limit: int, chunks: list[bytes]) -> None:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(err("TFC-1004", limite=limit))
        chunks.append(chunk)


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
    # Raw characters are already UTF-8 scalars: only an escape (\u...) can bring a surrogate or NUL,
    # and only a non-ASCII text can hold a raw noncharacter; the walk runs when either may be.
    if text.count("{") + text.count("[") > MAX_DEPTH:  # else it cannot nest that deep; a count is cheap
        _check_depth(value)
    if "\\u" in text or (not text.isascii() and _refused(text)):
        _check_strings(value)
    return value


def _check_strings(value: dict) -> None:
    """Refuse a body with a character encola cannot store or answer, naming where it is."""
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if _refused(key):
                    _refuse_character(f"un nombre de campo de {path}" if path else "un nombre de campo del request")
                pending.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            pending.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
        elif isinstance(item, str) and _refused(item):
            _refuse_character(path)


def _refuse_character(where: str) -> None:
    # ``where`` is built from keys already checked, so it can be echoed; long keys are cut.
    raise BodyError(err("TFC-1016", campo=where if len(where) <= 120 else where[:117] + "..."))


def _check_depth(value: object) -> None:
    """Refuse nesting deeper than MAX_DEPTH: our encoders (orjson stops at 255) must never meet it."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return
    raise BodyError(err("TFC-1001", detalle=f"anidamiento de mas de {MAX_DEPTH} niveles"))


def _reject_constant(name: str):
    raise ValueError(f"{name} no es un valor JSON valido")
