"""Credentials (usertoken + apikey + apitoken) → the one point of sale they name."""

from __future__ import annotations

import asyncio

from encola.domain import fields as f
from encola.domain.credentials import token_matches
from encola.domain.errors import Error, err
from encola.store.store import Pdv, Store


def authenticate(store: Store, body: dict) -> Pdv | Error:
    usertoken, apikey, apitoken = (f.text(body.get(k)) for k in ("usertoken", "apikey", "apitoken"))
    if not usertoken or not apikey or not apitoken:
        return err("TFC-1006")
    apikey = apikey.strip()
    pdv = store.pdv_by_apikey(apikey) if f.ascii_digits(apikey) and len(apikey) <= 20 else None
    # Compare both tokens even when the first fails, so timing tells nothing about which was wrong.
    user_ok = token_matches(usertoken, pdv.usertoken_hash if pdv else "0" * 64)
    api_ok = token_matches(apitoken, pdv.apitoken_hash if pdv else "0" * 64)
    if pdv is None or not (user_ok and api_ok):
        return err("TFC-1005")
    if not pdv.activo:
        return err("TFC-1007")
    if not pdv.workspace_activo:
        return err("TFC-1008")
    return pdv


async def authenticate_on_loop(store: Store, body: dict) -> Pdv | Error:
    """authenticate, on the event loop when the point of sale is in memory (nearly always),
    in a worker thread when it must be read from the database."""
    apikey = (f.text(body.get("apikey")) or "").strip()  # as authenticate reads it
    if apikey and store.pdv_is_cached(apikey):
        return authenticate(store, body)
    return await asyncio.to_thread(authenticate, store, body)
