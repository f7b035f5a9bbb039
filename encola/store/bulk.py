"""Many rows in one INSERT: what a group commit or a round of hooks writes.

On PostgreSQL the rows travel as one array per column, ``INSERT … SELECT * FROM unnest(…)``:
the statement's text is the same for any number of rows, so psycopg parses it once and the
server prepares it once. A multi-row ``VALUES`` list is a new, long text for every batch size,
and psycopg re-parsed it on every call (≈1.6 ms for 8 invoices, most of intake's database CPU
in this process). SQLite runs in-process and takes SQLAlchemy's multi-row insert as it is.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Column, Connection, Index, Row, Table, insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_rows(
    connection: Connection,
    table: Table,
    rows: list[dict],
    returning: tuple[str, ...] = (),
    skip_conflicts_on: Index | None = None,
) -> list[Row]:
    """Insert ``rows`` (all with the same keys) in one statement, in order; the ``returning``
    columns of each inserted row (their order is not promised: key them by a unique column).

    With ``skip_conflicts_on`` (a unique index, partial or not), a row that would violate it is
    left out (``ON CONFLICT … DO NOTHING``) instead of failing the statement; it returns nothing.
    """
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        statement = insert(table)
        if skip_conflicts_on is not None:
            statement = sqlite_insert(table).on_conflict_do_nothing(
                index_elements=list(skip_conflicts_on.columns),
                index_where=skip_conflicts_on.dialect_options["sqlite"]["where"],
            )
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
            return connection.execute(statement, rows).all()
        connection.execute(statement, rows)
        return []
    names = tuple(rows[0])
    sql = _unnest_insert(connection.dialect, table, names, returning, skip_conflicts_on)
    arrays = {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    result = connection.exec_driver_sql(sql, arrays)
    return result.all() if returning else []


@lru_cache(maxsize=32)
def _unnest_insert(dialect, table: Table, names: tuple[str, ...], returning: tuple[str, ...], skip: Index | None) -> str:
    quote = dialect.identifier_preparer.quote
    columns: list[Column] = [table.c[name] for name in names]
    arrays = ", ".join(f"%(c{i})b::{column.type.compile(dialect=dialect)}[]" for i, column in enumerate(columns))
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) SELECT * FROM unnest({arrays})"
    if skip is not None:
        target = ", ".join(quote(column.name) for column in skip.columns)
        where = skip.dialect_options["postgresql"]["where"]
        sql += f" ON CONFLICT ({target})" + (f" WHERE {where}" if where is not None else "") + " DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(name) for name in returning)
    return sql
