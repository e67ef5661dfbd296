"""The shared CSV download: a BOM for Excel and defused formulas."""

from __future__ import annotations

import csv
import io

from cxloop.csv_export import csv_download, csv_safe, to_csv


def test_cells_that_would_run_as_formulas_are_quoted():
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("+81 3 1234") == "'+81 3 1234"
    assert csv_safe("-5") == "'-5" and csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert csv_safe("\tx") == "'\tx" and csv_safe("\rx") == "'\rx"
    assert csv_safe(-5) == -5 and csv_safe(None) == "" and csv_safe("東京 = 良い") == "東京 = 良い"
    assert csv_safe(["a", "=b"]) == "a;=b"  # joined, and the joined cell does not start with =


def test_to_csv_starts_with_a_bom_and_round_trips_japanese():
    body = to_csv(["店舗", "comment"], [["新宿", "=cmd|' /C calc'!A0"], ["渋谷", None]])
    assert body.startswith("\ufeff店舗,comment")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows == [["店舗", "comment"], ["新宿", "'=cmd|' /C calc'!A0"], ["渋谷", ""]]
    response = csv_download(body, "店舗.csv")
    assert response.media_type == "text/csv; charset=utf-8"
    assert response.body.decode("utf-8") == body
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"__.csv\"; filename*=UTF-8''%E5%BA%97%E8%88%97.csv"
    )
    assert csv_download("", 'a"b.csv').headers["content-disposition"] == (
        "attachment; filename=\"a_b.csv\"; filename*=UTF-8''a%22b.csv"
    )
