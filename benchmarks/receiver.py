"""A fast webhook receiver for the benchmarks: a raw ASGI app under uvicorn, on 127.0.0.1.

It answers every ``POST /hook`` with 200 at once and records (receipt time, evento,
external_reference). The harness reads what arrived with:

- ``GET /stats?prefix=P``: count, first and last receipt time (epoch seconds) of the hooks whose
  external_reference starts with P, and the count per evento;
- ``GET /records?evento=E&prefix=P``: ``[[time, external_reference], ...]``.

Run: ``python benchmarks/receiver.py PORT``.
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import parse_qs

RECORDS: list[tuple[float, str, str]] = []


async def _body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(send, status: int, payload: bytes, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def _selected(query: dict, evento: str | None = None) -> list[tuple[float, str, str]]:
    prefix = query.get("prefix", [""])[0]
    return [r for r in RECORDS if r[2].startswith(prefix) and (evento is None or r[1] == evento)]


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    body = await _body(receive)
    path, method = scope["path"], scope["method"]
    if method == "POST" and path == "/hook":
        received = time.time()
        try:
            data = json.loads(body)
            RECORDS.append((received, str(data.get("evento")), str(data.get("external_reference") or "")))
        except ValueError:
            RECORDS.append((received, "?", ""))
        await _answer(send, 200, b"ok", b"text/plain")
        return
    query = parse_qs(scope.get("query_string", b"").decode())
    if path == "/stats":
        evento = query.get("evento", [None])[0]
        rows = _selected(query, evento)
        per_evento: dict[str, int] = {}
        for row in rows:
            per_evento[row[1]] = per_evento.get(row[1], 0) + 1
        times = [row[0] for row in rows]
        payload = {"count": len(rows), "first": min(times) if times else None,
                   "last": max(times) if times else None, "per_evento": per_evento, "total": len(RECORDS)}
        await _answer(send, 200, json.dumps(payload).encode())
    elif path == "/records":
        evento = query.get("evento", [None])[0]
        await _answer(send, 200, json.dumps([[r[0], r[2]] for r in _selected(query, evento)]).encode())
    elif path == "/reset" and method == "POST":
        RECORDS.clear()
        await _answer(send, 200, b"{}")
    else:
        await _answer(send, 404, b"{}")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
                lifespan="off")
