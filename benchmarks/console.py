"""The console phase of benchmarks/run.py: the queue and search pages over a million invoices.

It bulk-loads invoices straight into the database (SQLite: ``executemany`` in 20,000-row
transactions; PostgreSQL: ``COPY``), spread like a year of a busy issuer: 94 % emitted over the
last 365 days, 4 % queued for the next 30 days, 0.5 % due today, 1 % with errors, 0.5 % deleted,
over 20 points of sale and two comprobante types. Then an ``encola serve --no-engine`` (nothing
emits the loaded rows) answers a logged-in operator who sees every point of sale, one request
after another: the queue fragment (what the page fetches every 5 s), the search without filters,
by state, by reference, by buyer document within a month, by a date range, and a page deep in the
keyset. p50 and p99 per request; target p99 < 200 ms. Quick mode loads 100,000 invoices (and says so).

    .venv/bin/python benchmarks/console.py sqlite:////tmp/c.db [count]   # standalone, one database
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402

from encola.console.passwords import hash_password  # noqa: E402
from encola.store.schema import invoices, pdvs  # noqa: E402

COUNT = {"quick": 100_000, "full": 1_000_000}
REQUESTS = {"quick": 60, "full": 200}
PDV_COUNT = 20
EMAIL = "bench-console@example.com"
PASSWORD = "bench-console-password"
CHUNK = 20_000
_VIEW = '{{"cliente":{{"documento_tipo":"DNI","documento_nro":"{doc} ","razon_social":"Cliente {doc}"}},"comprobante":{{"tipo":"{tipo}"}}}}'
_COLUMNS = ("pdv_id", "cuit", "punto_venta", "cbte_tipo", "tipo", "external_reference", "request_hash", "fecha",
            "vencimiento", "state", "attempts", "next_attempt_at", "numero", "cae", "cae_vencimiento", "errors", "total",
            "afip", "view", "doc_nro", "response", "created_at", "updated_at", "emitted_at", "recurrencia")


def _rows(points: list[tuple[int, str, int]], count: int, today: date, seed: int = 12):
    """The invoices to load, oldest first (ids grow with arrival, as in a real database)."""
    rng = random.Random(seed)
    numbers: dict[tuple[int, int], int] = {}
    now = datetime.utcnow()
    for i in range(count):
        pdv_id, cuit, punto_venta = points[i % len(points)]
        cbte_tipo, tipo = (6, "FACTURA B") if i % 5 else (1, "FACTURA A")
        roll = rng.random()
        if roll < 0.94:
            state, fecha = "emitted", today - timedelta(days=365 - (365 * i) // count)
        elif roll < 0.98:
            state, fecha = "queued", today + timedelta(days=rng.randint(1, 30))
        elif roll < 0.985:
            state, fecha = "queued", today
        elif roll < 0.995:
            state, fecha = "error", today - timedelta(days=rng.randint(0, 20))
        else:
            state, fecha = "deleted", today - timedelta(days=rng.randint(0, 60))
        numero = cae = None
        if state == "emitted":
            numero = numbers[(pdv_id, cbte_tipo)] = numbers.get((pdv_id, cbte_tipo), 0) + 1
            cae = f"7{i:013d}"
        doc = f"{20_000_000 + i}"
        created = datetime.combine(min(fecha, today), datetime.min.time()) + timedelta(hours=12)
        yield (
            pdv_id, cuit, punto_venta, cbte_tipo, tipo, f"con-{i}", f"{i:064x}"[-64:], fecha, fecha, state,
            1 if state != "queued" else 0, now if state == "queued" else created, numero, cae,
            fecha + timedelta(days=10) if cae else None, '["rechazado por AFIP"]' if state == "error" else "[]", "121.00",
            "{}", _VIEW.format(doc=doc, tipo=tipo), doc, '{"error":"N"}', created, created,
            created if state == "emitted" else None, 0,
        )


def load(store, cuit: str, count: int, today: date) -> dict:
    """Bulk-load ``count`` invoices over the first 20 points of sale; returns timings and probes."""
    with store.reading() as connection:
        points = [tuple(row) for row in connection.execute(
            select(pdvs.c.id, pdvs.c.cuit, pdvs.c.punto_venta).where(pdvs.c.cuit == cuit).order_by(pdvs.c.id).limit(PDV_COUNT))]
    started = time.monotonic()
    rows = _rows(points, count, today)
    if store.engine.dialect.name == "postgresql":
        _copy(store, rows)
    else:
        batch: list[dict] = []
        for values in rows:
            batch.append(dict(zip(_COLUMNS, values)))
            if len(batch) == CHUNK:
                _insert(store, batch)
                batch = []
        if batch:
            _insert(store, batch)
    loaded = time.monotonic() - started
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE invoices"))  # what autovacuum does after a load this size
    with store.reading() as connection:
        total = connection.execute(text("SELECT count(*) FROM invoices")).scalar()
    middle = count // 2
    return {"invoices": total, "load_s": round(loaded, 1), "pdvs": [p[0] for p in points],
            "probe_reference": f"con-{count - 7}", "probe_document": f"{20_000_000 + middle}",
            "probe_document_month": (today - timedelta(days=365 - (365 * middle) // count)).isoformat()}


def _insert(store, batch: list[dict]) -> None:
    with store.writing() as connection:
        # A loader's page cache (256 MiB): the invoices' dozen indexes stay in memory while they grow.
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
        connection.execute(insert(invoices), batch)


def _copy(store, rows) -> None:
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY invoices ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        raw.commit()
    finally:
        raw.close()


def make_operator(store) -> None:
    with store.reading() as connection:
        exists = connection.execute(text("SELECT 1 FROM operators WHERE email = :e"), {"e": EMAIL}).first()
    if not exists:
        store.create_operator(EMAIL, hash_password(PASSWORD), workspace_ids=[], all_workspaces=True)


def _login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, trust_env=False)
    form = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post("/console/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    if answer.status_code != 303:
        raise RuntimeError(f"console login failed: {answer.status_code}")
    return client


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(base: str, probes: dict, requests: int, today: date) -> dict:
    """p50/p99 of each page, one request after another (after two warm-up requests each)."""
    month_start = date.fromisoformat(probes["probe_document_month"]).replace(day=1)
    deep = _deep_keyset(base, probes)
    pages = {
        "queue": "/console/cola/tabla",
        "search, no filter": "/console/comprobantes",
        "search, state error": "/console/comprobantes?estado=error",
        "search, reference": f"/console/comprobantes?referencia={probes['probe_reference']}",
        "search, buyer document in a month": f"/console/comprobantes?documento={probes['probe_document']}"
                                             f"&desde={month_start.isoformat()}&hasta={(month_start + timedelta(days=31)).isoformat()}",
        "search, last 7 days": f"/console/comprobantes?desde={(today - timedelta(days=7)).isoformat()}&hasta={today.isoformat()}",
        "search, page deep in the keyset": f"/console/comprobantes?antes={deep}",
    }
    out = {}
    client = _login(base)
    try:
        for name, path in pages.items():
            timings = []
            for i in range(requests + 2):
                started = time.perf_counter()
                answer = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {answer.status_code}")
                if i >= 2:
                    timings.append(elapsed)
            rows = answer.text.count('href="/console/comprobantes/')
            out[name] = {"p50_ms": round(_percentile(timings, 50), 1), "p99_ms": round(_percentile(timings, 99), 1),
                         "requests": len(timings), "rows": rows}
    finally:
        client.close()
    return out


def _deep_keyset(base: str, probes: dict) -> int:
    return max(1, probes["invoices"] // 3)


def run(backend_run, quick: bool) -> dict:
    """The phase inside benchmarks/run.py: load, start a serve without engine, measure."""
    h = backend_run.h
    mode = "quick" if quick else "full"
    backend_run.clear()
    probes = load(backend_run.store, "30712345671", COUNT[mode], backend_run.today)
    make_operator(backend_run.store)
    server = h.start_serve(backend_run.b, None, engine=False, label="console")
    try:
        server.wait_http("/health")
        pages = measure(server.base, probes, REQUESTS[mode], backend_run.today)
    finally:
        h.stop(server)
        backend_run.clear()
    return {"invoices": probes["invoices"], "load_s": probes["load_s"], "pages": pages}


def table_rows(results: dict, backends: list[str], cell) -> list[list[str]]:
    names = ["queue", "search, no filter", "search, state error", "search, reference",
             "search, buyer document in a month", "search, last 7 days", "search, page deep in the keyset"]

    def get(name):
        def value(d):
            x = d["console"]["pages"][name]
            ok = " ✓" if x["p99_ms"] < 200 else " ✗"
            return f"p50 {x['p50_ms']:,.0f} ms p99 {x['p99_ms']:,.0f} ms{ok}"
        return value

    def size(d):
        return f"{d['console']['invoices']:,} invoices (loaded in {d['console']['load_s']} s)"

    rows = [["console: database", *(cell(b, size) for b in backends), "1,000,000 (quick: 100,000)"]]
    rows += [[f"console {name}", *(cell(b, get(name)) for b in backends), "p99 < 200 ms"] for name in names]
    return rows


def _standalone(url: str, count: int) -> None:
    """Load one database and measure it with a serve of its own (for working on the queries)."""
    import os
    import subprocess
    import socket

    from cryptography.fernet import Fernet

    from encola.api.provisioning import PdvSpec, provision
    from encola.clock import Clock
    from encola.secretbox import SecretBox
    from encola.store.db import make_engine, migrate
    from encola.store.store import Store

    key_file = Path(url.rsplit("/", 1)[-1] + ".key")
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
    key = os.environ["ENCOLA_SECRET_KEY"] = key_file.read_text()
    engine = make_engine(url)
    migrate(engine)
    store = Store(engine, Clock(), SecretBox([key.encode()]))
    today = Clock().today()
    with store.reading() as connection:
        have = connection.execute(text("SELECT count(*) FROM invoices")).scalar()
    if not have:
        for punto_venta in range(1, PDV_COUNT + 1):
            provision(store, PdvSpec("30712345671", punto_venta, "RI", f"Bench {punto_venta}", "P", None, "t" * 20))
        probes = load(store, "30712345671", count, today)
        json.dump(probes, open(url.rsplit("/", 1)[-1] + ".probes.json", "w"))
        make_operator(store)
    probes = json.load(open(url.rsplit("/", 1)[-1] + ".probes.json"))
    print("loaded", probes)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ENCOLA_DATABASE_URL": url, "ENCOLA_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "encola.cli", "serve", "--no-engine", "--port", str(port)], env=env)
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(json.dumps(measure(f"http://127.0.0.1:{port}", probes, 50, today), indent=1))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":  # pragma: no cover - a helper of run.py, or standalone
    _standalone(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else COUNT["full"])
