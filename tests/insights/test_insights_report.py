"""The report stitches rolled-up and live days, and the exports carry no personal data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from insights.cli import main
from insights.questions import recent_questions, write_csv
from insights.report import build_report, to_markdown, write_report
from retention.clock import cutoff_for, day_of, utc_now
from retention.job import RunOptions, run
from tests.retention.retention_support import (
    DAY,
    ROOT,
    Store,
    conversation,
    rasa_row,
    reference_stats,
    user,
)

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=dt.timezone.utc)
CUTOFF = cutoff_for(NOW, 90)
C = CUTOFF.timestamp()
SECRETS = ("jane+shop@example.com", "example.com", "1234", "conv-", "where is my order", "blorp")


def fill(store: Store) -> None:
    kinds = ["plain", "fallback", "handover", "idle", "message"]
    store.add_all(
        [(f"conv-{i}", conversation(kinds[i % 5], C + (i - 20) * DAY / 3, i)) for i in range(40)]
    )


def test_history_survives_pruning(store: Store, tmp_path: Path) -> None:
    fill(store)
    since, until = day_of(C - 7 * DAY), day_of(C + 6 * DAY)
    before = build_report(store.engine, since, until).to_json()
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    after = build_report(store.engine, since, until).to_json()
    assert {d["source"] for d in before["days"]} == {"live"}
    assert {d["day"] for d in after["days"] if d["source"] == "rolled-up"} == {
        day.isoformat() for day in reference_stats(store.rows, before=C)
    }
    strip = [{k: v for k, v in d.items() if k != "source"} for d in after["days"]]
    assert strip == [{k: v for k, v in d.items() if k != "source"} for d in before["days"]]
    for key in ("totals", "rates", "top_intents"):
        assert after[key] == before[key]
    expected_old = reference_stats(store.rows, before=C)
    assert sum(s["conversations"] for s in expected_old.values()) < after["totals"]["conversations"]


def test_rates_on_a_known_mix(sqlite_store: Store) -> None:
    sqlite_store.add_all(
        [
            ("a", conversation("plain", C + 100)),
            ("b", conversation("fallback", C + 200)),
            ("c", conversation("handover", C + 300)),
            ("d", conversation("idle", C + 400)),
        ]
    )
    report = build_report(sqlite_store.engine, CUTOFF.date(), CUTOFF.date())
    assert report.totals()["conversations"] == 4
    assert report.totals()["engaged_conversations"] == 3
    assert report.rates() == {
        "fallback_rate": round(1 / 3, 4),
        "fallback_message_rate": round(1 / 9, 4),  # a: 2 messages, b: 3, c: 4 (incl. paused)
        "handover_rate": round(1 / 3, 4),
        "automated_resolution_rate": round(2 / 3, 4),
    }
    assert report.intents()["order_status"] == 3


def test_report_files_contain_no_personal_data(store: Store, tmp_path: Path) -> None:
    fill(store)
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    paths = write_report(
        build_report(store.engine, day_of(C - 8 * DAY), day_of(C + 8 * DAY)), tmp_path
    )
    text = paths["markdown"].read_text() + paths["json"].read_text()
    assert [s for s in SECRETS if s in text] == []
    assert "order_status" in text and "rolled-up" in text and "live" in text
    png = paths["chart"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_empty_period_has_no_rates(sqlite_store: Store) -> None:
    report = build_report(sqlite_store.engine, dt.date(2020, 1, 1), dt.date(2020, 1, 3))
    assert len(report.days) == 3
    assert set(report.rates().values()) == {None}
    assert "n/a" in to_markdown(report)


def test_report_command(sqlite_store: Store, tmp_path: Path) -> None:
    import subprocess
    import sys

    fill(sqlite_store)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "insights",
            "report",
            "--db-url",
            sqlite_store.url,
            "--since",
            day_of(C - 7 * DAY).isoformat(),
            "--until",
            day_of(C + 7 * DAY).isoformat(),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["days"] == 15
    assert sorted(p.name for p in out.iterdir()) == [
        "report-csat.png",
        "report.html",
        "report.json",
        "report.md",
        "report.png",
    ]


def seed_questions(store: Store) -> None:
    now = utc_now().timestamp()
    evs = [
        user(
            "where is order 12345678? mail jane+shop@example.com",
            "order_status",
            now - 3600,
            confidence=0.91,
        ),
        user("blorp 4111 1111 1111 1111", "nlu_fallback", now - 3000, confidence=0.21),
        user("/affirm", "affirm", now - 2000, confidence=1.0),
        user('=HYPERLINK("http://x")', "out_of_scope", now - 1000, confidence=0.5),
        user("too old to export", "greet", now - 30 * DAY),
    ]
    store.add_all([("shopper-42", evs)])


def test_questions_are_redacted_and_filtered(store: Store) -> None:
    seed_questions(store)
    since = utc_now().timestamp() - 7 * DAY
    rows = list(recent_questions(store.engine, since))
    assert [(q.intent, q.text) for q in rows] == [
        ("order_status", "where is order [ORDER]? mail [EMAIL]"),
        ("nlu_fallback", "blorp [CARD]"),
        ("out_of_scope", '=HYPERLINK("[URL]")'),
    ]
    assert [q.intent for q in recent_questions(store.engine, since, only_fallback=True)] == [
        "nlu_fallback"
    ]
    assert [q.confidence for q in recent_questions(store.engine, since, max_confidence=0.5)] == [
        0.21,
        0.5,
    ]
    assert len(list(recent_questions(store.engine, since, include_payloads=True))) == 4
    assert len(list(recent_questions(store.engine, since, limit=1))) == 1


def test_csv_is_spreadsheet_safe(sqlite_store: Store) -> None:
    seed_questions(sqlite_store)
    buffer = io.StringIO()
    count = write_csv(recent_questions(sqlite_store.engine, utc_now().timestamp() - DAY), buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert count == 3 and rows[0] == ["day", "intent", "confidence", "text"]
    assert rows[3][3].startswith("'=")
    assert "shopper-42" not in buffer.getvalue()


def test_questions_command(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_questions(sqlite_store)
    target = tmp_path / "q.csv"
    assert (
        main(
            [
                "questions",
                "--db-url",
                sqlite_store.url,
                "--days",
                "2",
                "--only-fallback",
                "--out",
                str(target),
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["rows"] == 1
    body = target.read_text()
    assert "blorp [CARD]" in body and "4111" not in body


def test_missing_events_table_is_a_configuration_error(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "empty.db"
    sqlite3.connect(db).close()
    assert main(["report", "--db-url", f"sqlite:///{db}", "--out", str(tmp_path)]) == 2


def test_rows_helper_is_rasa_shaped() -> None:
    row = rasa_row("x", user("hi", "greet", 1.0))
    assert json.loads(row["data"])["parse_data"]["intent"]["name"] == "greet"
