"""Reading feedback files row by row: CSV, JSON Lines and XLSX, in any size.

Rows are streamed: the file is never held in memory. CSV and JSONL are read as bytes and
decoded line by line, so that one badly encoded line is reported (by number) and the rest
of the file still imports. Japanese Excel writes Shift_JIS (CP932) or UTF-8 with a BOM;
both are recognised.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SAMPLE_BYTES = 1 << 20
FORMATS = ("csv", "jsonl", "xlsx")


class FileFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, no header, UTF-16...)."""


@dataclass(frozen=True, slots=True)
class RawRow:
    line: int  # 1-based line (CSV/JSONL: where the record starts; XLSX: sheet row)
    values: dict[str, Any] | None
    error: str | None = None
    done: int = 0  # progress: bytes read (CSV/JSONL) or rows read (XLSX)


def file_format(path: Path, given: str | None = None) -> str:
    fmt = (given or path.suffix.lstrip(".")).lower()
    fmt = {"json": "jsonl", "ndjson": "jsonl", "tsv": "csv"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise FileFormatError(f"{path.name}: unknown format {fmt!r}; use .csv, .jsonl or .xlsx")
    return fmt


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``cp932`` (Shift_JIS as Windows writes it)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileFormatError("the file is UTF-16; save it as UTF-8 (or Shift_JIS) and retry")
    for encoding in ("utf-8", "cp932"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    return "utf-8"


def size_of(path: Path, fmt: str) -> int:
    """The progress total: bytes for CSV/JSONL, rows for XLSX."""
    if fmt != "xlsx":
        return path.stat().st_size
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return int(wb.active.max_row or 0)
    finally:
        wb.close()


class _Lines:
    """Decoded lines of a binary file, remembering which lines did not decode."""

    def __init__(self, fh: IO[bytes], encoding: str) -> None:
        self.fh = fh
        self.encoding = encoding
        self.number = 0
        self.done = 0
        self.bad: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for raw in self.fh:
            self.number += 1
            self.done += len(raw)
            try:
                text = raw.decode(self.encoding if self.number == 1 else _plain(self.encoding))
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                self.bad[self.number] = (
                    f"not valid {_name(self.encoding)} text (byte 0x{bad} at column "
                    f"{exc.start + 1}); save the file as UTF-8 or Shift_JIS"
                )
                text = raw.decode(_plain(self.encoding), errors="replace")
            yield text

    def error_between(self, first: int, last: int) -> str | None:
        for number in range(first, last + 1):
            if number in self.bad:
                return self.bad.pop(number)
        return None


def _plain(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _name(encoding: str) -> str:
    return {"cp932": "Shift_JIS", "utf-8-sig": "UTF-8"}.get(encoding, encoding.upper())


def read_rows(path: Path, fmt: str, encoding: str | None = None) -> Iterator[RawRow]:
    """Every data row of the file, in order; unreadable rows carry ``error``."""
    if fmt == "xlsx":
        yield from _xlsx_rows(path)
        return
    with path.open("rb") as fh:
        chosen = encoding or detect_encoding(fh.read(SAMPLE_BYTES))
        fh.seek(0)
        lines = _Lines(fh, chosen)
        yield from (_jsonl_rows(lines) if fmt == "jsonl" else _csv_rows(lines, path))


def _csv_rows(lines: _Lines, path: Path) -> Iterator[RawRow]:
    dialect: type[csv.Dialect] = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    reader = csv.reader(iter(lines), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileFormatError(f"{path.name}: empty file (no header row)") from None
    if lines.bad.get(1):
        raise FileFormatError(f"line 1 (header): {lines.bad[1]}")
    seen = set()
    for i, name in enumerate(header):
        if not name:
            raise FileFormatError(f"line 1 (header): column {i + 1} has no name")
        if name in seen:
            raise FileFormatError(f"line 1 (header): column {name!r} appears twice")
        seen.add(name)
    last = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            first, last = last + 1, reader.line_num
            yield RawRow(first, None, f"cannot parse CSV: {exc}", lines.done)
            continue
        first, last = last + 1, reader.line_num
        error = lines.error_between(first, last)
        if error:
            yield RawRow(first, None, error, lines.done)
        elif not any(c.strip() for c in cells):
            continue  # blank line
        elif len(cells) > len(header):
            yield RawRow(
                first, None, f"{len(cells)} cells but the header has {len(header)}", lines.done
            )
        else:
            yield RawRow(first, dict(zip(header, cells, strict=False)), None, lines.done)


def _jsonl_rows(lines: _Lines) -> Iterator[RawRow]:
    for text in lines:
        number = lines.number
        error = lines.error_between(number, number)
        if error:
            yield RawRow(number, None, error, lines.done)
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield RawRow(
                number, None, f"not valid JSON ({exc.msg} at column {exc.colno})", lines.done
            )
            continue
        if not isinstance(value, dict):
            yield RawRow(number, None, "each line must be a JSON object", lines.done)
            continue
        yield RawRow(number, value, None, lines.done)


def _xlsx_rows(path: Path) -> Iterator[RawRow]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = wb.active.iter_rows(values_only=True)
        try:
            header = ["" if h is None else str(h).strip() for h in next(rows)]
        except StopIteration:
            raise FileFormatError(f"{path.name}: empty sheet (no header row)") from None
        for number, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            values = {h: c for h, c in zip(header, cells, strict=False) if h}
            yield RawRow(number, values, None, number)
    finally:
        wb.close()
