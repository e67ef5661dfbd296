"""File imports: CSV, JSONL, XLSX, Japanese encodings, mapping, idempotency, row errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxloop import cli
from cxloop.config import Settings
from cxloop.signals.feedback_import import ColumnMapping, ImportOptions, import_file
from cxloop.store.models.feedback import Feedback, FeedbackTheme
from tests.conftest import Org

HEADER = "id,body,date,store,kind,email,stars\n"
ROWS = [
    "1,配送が遅れて困りました。,2024-05-01 10:00,store_a,review,a@x.jp,2\n",
    "2,Friendly staff and quick checkout.,2024/05/02,store_b,email,b@x.jp,5\n",
    '3,"Line one\nline two about the delivery",2024年5月3日,store_c,complaint_letter,,\n',
]
MAP = [
    "text=body",
    "occurred_at=date",
    "org_unit=store",
    "source=kind",
    "external_id=id",
    "customer_email=email",
    "rating=stars",
]


def _run(settings: Settings, path: Path, **kw: object):
    options = ImportOptions(mapping=ColumnMapping.parse(MAP), **kw)  # type: ignore[arg-type]
    return import_file(path, database_url=settings.resolved_database_url, options=options)


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Feedback)) or 0


def test_csv_import_and_second_run_stores_nothing_twice(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    path = tmp_path / "f.csv"
    path.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    report = _run(settings, path)
    assert (report.imported, report.rejected, report.rows) == (3, 0, 3)
    again = _run(settings, path)
    assert (again.imported, again.duplicates, again.updated) == (0, 3, 0)
    assert _count(session) == 3
    ja = session.scalar(select(Feedback).where(Feedback.external_id == "1"))
    assert ja is not None and ja.language == "ja" and ja.rating == 2
    assert ja.org_unit_id == org.unit("store_a").id and ja.customer_id is not None
    assert ja.occurred_at.isoformat() == "2024-05-01T01:00:00+00:00"  # Asia/Tokyo 10:00
    multi = session.scalar(select(Feedback).where(Feedback.external_id == "3"))
    assert multi is not None and multi.text == "Line one\nline two about the delivery"
    assert multi.occurred_at.day == 2  # 2024-05-03 00:00 JST is the 2nd in UTC
    # A changed row updates its record.
    path.write_text(HEADER + ROWS[0].replace("困りました", "とても困りました") + ROWS[1], "utf-8")
    third = _run(settings, path)
    assert (third.updated, third.duplicates, third.imported) == (1, 1, 0)


def test_rows_without_an_id_are_still_idempotent(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    path = tmp_path / "f.csv"
    path.write_text("body,store\n配送が遅い。,store_a\n接客が良い。,store_a\n", "utf-8")
    opts = {"default_source": "review"}
    assert _run(settings, path, **opts).imported == 2
    assert _run(settings, path, **opts).duplicates == 2
    assert _count(session) == 2


def test_each_bad_row_is_reported_and_the_rest_imported(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    lines = [
        "1,,2024-05-01,store_a,review,,\n",  # line 2: empty text
        "2,ok,2024-05-01,store_a,fax,,\n",  # line 3: unknown source
        "3,ok,2999-01-01,store_a,review,,\n",  # line 4: future
        "4,ok,someday,store_a,review,,\n",  # line 5: unparseable date
        "5,ok,2024-05-01,atlantis,review,,\n",  # line 6: unknown unit
        "6,fine,2024-05-01,store_a,review,,\n",  # line 7: good
        "7,ok,2024-05-01,store_a,review,,abc\n",  # line 8: rating not a number
        "8," + "長" * 25_000 + ",2024-05-01,store_a,review,,\n",  # line 9: cut and kept
    ]
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(lines), "utf-8")
    report = _run(settings, path)
    assert report.imported == 2 and report.rejected == 6
    got = [(r.line, r.field) for r in report.rejections]
    assert got == [
        (2, "text"),
        (3, "source"),
        (4, "occurred_at"),
        (5, "occurred_at"),
        (6, "org_unit"),
        (8, "rating"),
    ]
    reasons = {r.line: r.reason for r in report.rejections}
    assert "fax" in reasons[3] and "future" in reasons[4] and "someday" in reasons[5]
    long = session.scalar(select(Feedback).where(Feedback.external_id == "8"))
    assert long is not None and len(long.text) == 20_000 and "truncated" in long.flags


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig"])
def test_japanese_excel_encodings(
    settings: Settings, session: Session, org: Org, tmp_path: Path, encoding: str
):
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + ROWS[0]).encode(encoding))
    report = _run(settings, path)
    assert report.imported == 1, report.rejections
    row = session.scalar(select(Feedback))
    assert row is not None and row.text == "配送が遅れて困りました。"
    themes = session.scalars(select(FeedbackTheme.theme_id)).all()
    assert "delivery" in themes


def test_a_badly_encoded_line_is_reported_by_number(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    path = tmp_path / "mixed.csv"
    good = (HEADER + ROWS[0] + ROWS[1]).encode("utf-8")
    bad = "9,壊れた行です,2024-05-01,store_a,review,,\n".encode("cp932")
    path.write_bytes(good + bad + ROWS[2].encode("utf-8"))
    report = _run(settings, path)
    assert report.imported == 3
    (rej,) = report.rejections
    assert rej.line == 4 and "UTF-8" in rej.reason and "byte 0x" in rej.reason


def test_jsonl_with_api_shaped_objects_and_turns(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    records = [
        {
            "source": "chat_transcript",
            "external_id": "c1",
            "org_unit": "store_a",
            "occurred_at": "2024-05-01T10:00:00+09:00",
            "text": "お客様: 商品が届かないし連絡もない。最悪です。\n"
            "オペレーター: ご迷惑をおかけし申し訳ございません。",
            "customer": {"phone": "090-1111-2222"},
            "channel": "chat",
        },
        {"source": "review", "external_id": "r1", "org_unit": "store_b", "text": "Great!"},
    ]
    path = tmp_path / "f.jsonl"
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    path.write_text(body + "\n{not json}\n[1]\n", "utf-8")
    report = import_file(path, database_url=settings.resolved_database_url, options=ImportOptions())
    assert report.imported == 2
    assert [(r.line, r.reason.split(" (")[0]) for r in report.rejections] == [
        (3, "not valid JSON"),
        (4, "each line must be a JSON object"),
    ]
    chat = session.scalar(select(Feedback).where(Feedback.external_id == "c1"))
    assert chat is not None and "transcript" in chat.flags
    assert chat.sentiment_label in ("negative", "very_negative")
    assert chat.agent_sentiment_label is not None
    assert chat.display_text.startswith("お客様: 商品が届かない")


def test_xlsx_import_with_dates_and_numbers(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    from datetime import datetime

    wb = Workbook()
    ws = wb.active
    ws.append(["id", "body", "date", "store", "kind", "email", "stars", "campaign"])
    ws.append(
        [
            101,
            "スタッフの対応が丁寧でした。",
            datetime(2024, 5, 1, 9, 30),
            "store_a",
            "survey_comment",
            None,
            5,
            "spring",
        ]
    )
    ws.append([102, None, datetime(2024, 5, 1), "store_a", "review", None, 1, None])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    report = _run(settings, path)
    assert report.imported == 1 and [(r.line, r.field) for r in report.rejections] == [(3, "text")]
    row = session.scalar(select(Feedback))
    assert row is not None and row.external_id == "101" and row.rating == 5
    assert row.attributes == {"campaign": "spring"}
    assert row.occurred_at.isoformat() == "2024-05-01T00:30:00+00:00"


def test_mapping_errors_name_the_problem():
    with pytest.raises(ValueError, match="textt"):
        ColumnMapping.parse(["textt=body"])
    with pytest.raises(ValueError, match="field=column"):
        ColumnMapping.parse(["text"])


def test_cli_import_prints_the_report(
    settings: Settings,
    session: Session,
    org: Org,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(settings.data_dir))
    cli._register_area_commands()
    path = tmp_path / "f.csv"
    path.write_text(HEADER + ROWS[0] + "2,,2024-05-01,store_a,review,,\n", "utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps(
            {
                "text": "body",
                "occurred_at": "date",
                "org_unit": "store",
                "source": "kind",
                "external_id": "id",
            }
        )
    )
    errors = tmp_path / "errors.csv"
    args = [
        "import",
        "feedback",
        str(path),
        "--mapping",
        str(mapping),
        "--map",
        "customer_email=email",
        "--errors",
        str(errors),
    ]
    r = CliRunner().invoke(cli.app, args)
    assert r.exit_code == 0, r.output
    assert "imported: 1" in r.output and "rejected: 1" in r.output
    assert errors.read_text().splitlines()[1] == "3,text,empty"
    again = CliRunner().invoke(cli.app, args)
    assert "imported: 0" in again.output and "skipped as duplicates: 1" in again.output
    bad = CliRunner().invoke(cli.app, ["import", "feedback", str(path), "--map", "nope=x"])
    assert bad.exit_code == 2 and "nope" in bad.output


def test_pipelined_import_with_workers_matches_the_plain_one(
    settings: Settings, session: Session, org: Org, tmp_path: Path
):
    from concurrent.futures import ThreadPoolExecutor

    from cxloop.signals.feedback_import import worker_setup

    url = settings.resolved_database_url
    rows = [f"{i},配送が{i}日遅れた。,2024-05-01,store_a,review,,3\n" for i in range(7)]
    # id 5 again in the next batch with new text: written after the first, so it updates it.
    rows.insert(6, "5,配送が早かった。,2024-05-01,store_a,review,,5\n")
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "".join(rows), "utf-8")
    init, args = worker_setup(url, "fast")
    with ThreadPoolExecutor(2, initializer=init, initargs=args) as pool:
        options = ImportOptions(mapping=ColumnMapping.parse(MAP), batch_size=2)
        report = import_file(path, database_url=url, options=options, pool=pool)
        assert (report.imported, report.updated, report.rejected) == (7, 1, 0)
        again = import_file(path, database_url=url, options=options, pool=pool)
    assert again.imported == 0 and again.duplicates + again.updated == 8
    five = session.scalar(select(Feedback).where(Feedback.external_id == "5"))
    assert five is not None and five.rating == 5
    assert {t.theme_id for t in five.themes} >= {"delivery"}
    assert _count(session) == 7


def test_cli_import_in_accurate_mode_with_a_worker_process(
    settings: Settings,
    session: Session,
    org: Org,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    # A real spawned worker builds the e5 encoder itself and scores the English rows.
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(settings.data_dir))
    cli._register_area_commands()
    path = tmp_path / "a.csv"
    path.write_text(
        HEADER
        + "1,I would not recommend this shop to anyone.,2024-05-01,store_a,review,,1\n"
        + "2,Friendly staff and quick checkout.,2024-05-02,store_b,email,,5\n",
        "utf-8",
    )
    args = ["import", "feedback", str(path), "--mode", "accurate", "--workers", "1"]
    args += [f"--map={m}" for m in MAP if not m.startswith("customer_email")]
    r = CliRunner().invoke(cli.app, args)
    assert r.exit_code == 0, r.output
    assert "imported: 2" in r.output
    session.expire_all()
    rows = {f.external_id: f for f in session.scalars(select(Feedback))}
    assert {f.analyzer_mode for f in rows.values()} == {"accurate"}
    assert rows["1"].sentiment_score < -0.1 < 0.1 < rows["2"].sentiment_score
