"""Compact UTF-8 JSON, as encola writes it: answers, stored documents and hook bodies.

orjson rather than the standard library's encoder: on the intake path JSON encoding was about
8 % of an API process's CPU (py-spy). The output is the same JSON the standard library writes
with ``separators=(",", ":"), ensure_ascii=False``; Spanish text stays readable, as TF's does.
Clients' bodies are parsed by the standard library (``api/body.py``), whose error messages are
quoted back to them; what encola wrote itself is read back with ``loads``.
"""

from __future__ import annotations

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: object) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def dumps_text(value: object) -> str:
    return orjson.dumps(value, option=_OPTIONS).decode("utf-8")


def loads(text: str | bytes) -> object:
    return orjson.loads(text)
