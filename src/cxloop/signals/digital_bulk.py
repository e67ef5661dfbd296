"""Bulk writes of scored sessions: COPY and one array UPDATE on PostgreSQL, executemany else.

psycopg runs an executemany as one pipelined statement per row, which costs more CPU than
scoring a session; COPY and ``unnest`` send a chunk's rows in one statement each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert

_dumps: Callable[[Any], str] = json.dumps
try:  # several times faster than the stdlib for the small detail dicts; optional
    import orjson

    def _orjson_dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    _dumps = _orjson_dumps
except ImportError:  # pragma: no cover - depends on the installed extras
    pass


def _pg(conn: Connection) -> Any:
    """The psycopg connection under ``conn`` (same transaction), or None on SQLite."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.connection.driver_connection


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``."""
    if not rows:
        return
    pg = _pg(conn)
    if pg is None:
        conn.execute(insert(table), list(rows))
        return
    cols = list(rows[0])
    json_cols = {c for c in cols if isinstance(table.c[c].type, JSON)}
    with pg.cursor() as cur:
        names = ", ".join(f'"{c}"' for c in cols)
        with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_dumps(row[c]) if c in json_cols else row[c] for c in cols])


def update_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    fallback: Any,
    constants: dict[str, Any],
) -> None:
    """Set columns of ``table`` rows matched on ``id``: each row is a dict of ``id`` and the
    columns (all rows alike), ``constants`` are set on every row. Elsewhere than on
    PostgreSQL, ``fallback`` runs as an executemany with each row's keys prefixed ``c_``."""
    if not rows:
        return
    pg = _pg(conn)
    if pg is None:
        conn.execute(fallback, [{f"c_{k}": v for k, v in r.items()} for r in rows])
        return
    cols = list(rows[0])
    json_cols = {c for c in cols if isinstance(table.c[c].type, JSON)}
    arrays = {c: [_dumps(r[c]) if c in json_cols else r[c] for r in rows] for c in cols}
    types = {c: table.c[c].type.compile(conn.dialect).split("(")[0] for c in cols}
    quoted = ", ".join(f'"{c}"' for c in cols)
    unnest = ", ".join(f"%({c})s::{types[c]}[]" for c in cols)
    sets = [f'"{c}" = v."{c}"' for c in cols if c != "id"]
    sets += [f'"{c}" = %(const_{c})s' for c in constants]
    sql = (
        f'UPDATE "{table.name}" AS t SET {", ".join(sets)} '
        f"FROM unnest({unnest}) AS v({quoted}) WHERE t.id = v.id"
    )
    params = {**arrays, **{f"const_{c}": v for c, v in constants.items()}}
    with pg.cursor() as cur:
        cur.execute(sql, params)
