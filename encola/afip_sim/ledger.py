"""The simulator's durable memory: lanes, authorized comprobantes and issued tickets.

SQLite (stdlib) in WAL mode; every answer is committed before it is sent, so a
`kill -9` loses nothing AFIP would have remembered. In memory when no path.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Iterable

from encola.afip_sim.points_of_sale import PointOfSale

SCHEMA = """
CREATE TABLE IF NOT EXISTS lanes (
    cuit INTEGER NOT NULL, pto_vta INTEGER NOT NULL, cbte_tipo INTEGER NOT NULL,
    last_numero INTEGER NOT NULL, last_fch TEXT NOT NULL,
    PRIMARY KEY (cuit, pto_vta, cbte_tipo)
);
CREATE TABLE IF NOT EXISTS comprobantes (
    cuit INTEGER NOT NULL, pto_vta INTEGER NOT NULL, cbte_tipo INTEGER NOT NULL, numero INTEGER NOT NULL,
    cbte_hasta INTEGER NOT NULL, cbte_fch TEXT NOT NULL, cae TEXT NOT NULL, cae_fch_vto TEXT NOT NULL,
    fch_proceso TEXT NOT NULL, imp_total TEXT NOT NULL, detail TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (cuit, pto_vta, cbte_tipo, numero)
);
CREATE TABLE IF NOT EXISTS puntos_venta (
    cuit INTEGER NOT NULL, nro INTEGER NOT NULL, emision_tipo TEXT NOT NULL,
    bloqueado INTEGER NOT NULL DEFAULT 0, fch_baja TEXT,
    PRIMARY KEY (cuit, nro)
);
CREATE TABLE IF NOT EXISTS tickets (
    token TEXT PRIMARY KEY, sign TEXT NOT NULL, cuit INTEGER NOT NULL, service TEXT NOT NULL,
    cert_fingerprint TEXT NOT NULL, generated_at REAL NOT NULL, expires_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Lane:
    last_numero: int
    last_fch: str  # yyyymmdd, "" when nothing issued


@dataclass(frozen=True)
class Authorized:
    """One authorized comprobante as stored: `detail` is the parsed request as JSON-able dict."""

    cuit: int
    pto_vta: int
    cbte_tipo: int
    numero: int
    cbte_hasta: int
    cbte_fch: str
    cae: str
    cae_fch_vto: str
    fch_proceso: str
    imp_total: str
    detail: dict


@dataclass(frozen=True)
class IssuedTicket:
    token: str
    sign: str
    cuit: int
    service: str
    cert_fingerprint: str
    generated_at: float
    expires_at: float


class Ledger:
    """Lanes are mirrored in memory for speed; SQLite is the source of truth at start."""

    def __init__(self, path: str | None = None) -> None:
        self._db = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lanes = {
            (c, p, t): Lane(n, f) for c, p, t, n, f in self._db.execute("SELECT cuit, pto_vta, cbte_tipo, last_numero, last_fch FROM lanes")
        }
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM comprobantes").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def lane(self, cuit: int, pto_vta: int, cbte_tipo: int) -> Lane:
        return self._lanes.get((cuit, pto_vta, cbte_tipo), Lane(0, ""))

    def record(self, items: Iterable[Authorized]) -> None:
        """Store authorized comprobantes and advance their lanes, in one transaction."""
        items = list(items)
        if not items:
            return
        rows, lanes = [], {}
        for a in items:
            self._seq += 1
            rows.append(
                (a.cuit, a.pto_vta, a.cbte_tipo, a.numero, a.cbte_hasta, a.cbte_fch, a.cae, a.cae_fch_vto,
                 a.fch_proceso, a.imp_total, json.dumps(a.detail, separators=(",", ":")), self._seq)
            )
            lanes[(a.cuit, a.pto_vta, a.cbte_tipo)] = Lane(a.cbte_hasta, a.cbte_fch)
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO comprobantes VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._db.executemany(
                "INSERT INTO lanes VALUES (?,?,?,?,?) ON CONFLICT (cuit, pto_vta, cbte_tipo) "
                "DO UPDATE SET last_numero = excluded.last_numero, last_fch = excluded.last_fch",
                [(*key, lane.last_numero, lane.last_fch) for key, lane in lanes.items()],
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._lanes.update(lanes)

    def find(self, cuit: int, pto_vta: int, cbte_tipo: int, numero: int) -> Authorized | None:
        row = self._db.execute(
            "SELECT * FROM comprobantes WHERE cuit=? AND pto_vta=? AND cbte_tipo=? AND numero<=? AND cbte_hasta>=? "
            "ORDER BY numero DESC LIMIT 1",
            (cuit, pto_vta, cbte_tipo, numero, numero),
        ).fetchone()
        return None if row is None else _authorized(row)

    def all(self) -> list[Authorized]:
        return [_authorized(r) for r in self._db.execute("SELECT * FROM comprobantes ORDER BY seq")]

    # Points of sale are read from SQLite on every call, never mirrored: `encola pdv create`
    # registers them from another process into the same file while the simulator runs.

    def register_point_of_sale(self, cuit: int, nro: int, emision_tipo: str = "CAE", *,
                               bloqueado: bool = False, fch_baja: str | None = None) -> PointOfSale:
        """Register (or change) a point of sale of `cuit`, as ARCA's ABM de puntos de venta does."""
        pos = PointOfSale(cuit, nro, emision_tipo, bloqueado, fch_baja)
        self._db.execute(
            "INSERT INTO puntos_venta VALUES (?,?,?,?,?) ON CONFLICT (cuit, nro) DO UPDATE SET "
            "emision_tipo = excluded.emision_tipo, bloqueado = excluded.bloqueado, fch_baja = excluded.fch_baja",
            (cuit, nro, emision_tipo, int(bloqueado), fch_baja),
        )
        return pos

    def point_of_sale(self, cuit: int, nro: int) -> PointOfSale | None:
        row = self._db.execute("SELECT * FROM puntos_venta WHERE cuit=? AND nro=?", (cuit, nro)).fetchone()
        return None if row is None else _point_of_sale(row)

    def points_of_sale(self, cuit: int | None = None) -> list[PointOfSale]:
        """The CUIT's points of sale (every CUIT's when None), by CUIT and number."""
        if cuit is None:
            rows = self._db.execute("SELECT * FROM puntos_venta ORDER BY cuit, nro")
        else:
            rows = self._db.execute("SELECT * FROM puntos_venta WHERE cuit=? ORDER BY nro", (cuit,))
        return [_point_of_sale(r) for r in rows]

    def save_ticket(self, ticket: IssuedTicket) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tickets VALUES (?,?,?,?,?,?,?)",
            (ticket.token, ticket.sign, ticket.cuit, ticket.service, ticket.cert_fingerprint,
             ticket.generated_at, ticket.expires_at),
        )

    def ticket(self, token: str) -> IssuedTicket | None:
        row = self._db.execute("SELECT * FROM tickets WHERE token=?", (token,)).fetchone()
        return None if row is None else IssuedTicket(*row)

    def valid_ticket_for(self, cert_fingerprint: str, service: str, now: float) -> IssuedTicket | None:
        row = self._db.execute(
            "SELECT * FROM tickets WHERE cert_fingerprint=? AND service=? AND expires_at>? LIMIT 1",
            (cert_fingerprint, service, now),
        ).fetchone()
        return None if row is None else IssuedTicket(*row)


def _point_of_sale(row: tuple) -> PointOfSale:
    cuit, nro, emision_tipo, bloqueado, fch_baja = row
    return PointOfSale(cuit, nro, emision_tipo, bool(bloqueado), fch_baja)


def _authorized(row: tuple) -> Authorized:
    return Authorized(*row[:10], detail=json.loads(row[10]))
