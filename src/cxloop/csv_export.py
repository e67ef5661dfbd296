"""CSV downloads every area shares: Excel-safe cells and a UTF-8 BOM.

Excel opens UTF-8 Japanese correctly only when the file starts with a byte-order mark, and a
text cell starting with ``= + - @`` (or a tab or carriage return) would run as a formula there:
such cells get a leading quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

BOM = "\ufeff"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A cell value Excel shows as text: lists joined with ``;``, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(map(str, value))
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_writer(out: io.StringIO) -> Any:
    """A writer onto ``out`` after the BOM."""
    out.write(BOM)
    return csv.writer(out)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue()


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _plain(c: str) -> str:
    return c if c.isascii() and c.isprintable() and c not in '"\\' else "_"


def download_headers(filename: str) -> dict[str, str]:
    """An attachment named ``filename``; non-ASCII names (a Japanese unit code) per RFC 6266."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return {"Content-Disposition": value}


def csv_download(body: str, filename: str) -> Response:
    return Response(body, media_type=CSV_MEDIA_TYPE, headers=download_headers(filename))
