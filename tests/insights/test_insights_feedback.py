"""CSAT and answer feedback in the report (json, Markdown, HTML) and comments in the export."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import sqlalchemy as sa

from insights.questions import COMMENT_ROW, recent_questions, write_csv
from insights.report import build_report, write_report
from retention.clock import day_of, utc_now
from retention.job import RunOptions, run
from tests.retention.retention_support import DAY, Store, user
from tests.retention.test_retention_feedback import (
    CUTOFF,
    C,
    answered,
    fill,
    rating,
    vote,
)

PNG = b"\x89PNG\r\n\x1a\n"


def add_questions(store: Store) -> None:
    """Shopper messages of the voted intent, one with personal data in it."""
    t = C - 3 * DAY + 5000
    store.add(
        "asker",
        [
            user("how long will delivery take to jane+shop@example.com", "delivery_time", t),
            user("delivery time to Berlin?", "delivery_time", t + 1),
        ],
    )


def test_report_json_has_csat_and_answer_feedback_that_survive_pruning(store: Store) -> None:
    day = fill(store)
    add_questions(store)
    since, until = day_of(C - 5 * DAY), day_of(C + 1 * DAY)
    before = build_report(store.engine, since, until).to_json()
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    after = build_report(store.engine, since, until).to_json()
    assert after["csat"] == before["csat"]
    assert after["answer_feedback"] == before["answer_feedback"]
    rated = [d for d in after["csat"] if d["ratings"]]
    assert [d["day"] for d in rated] == [day.isoformat()]
    assert rated[0]["ratings"] == 3
    assert rated[0]["average"] == 4.0  # 2, 5 (bot-only, the 4 was changed) and 5 (agent)
    assert rated[0]["bot_only"]["ratings"] == 2 and rated[0]["bot_only"]["average"] == 3.5
    assert rated[0]["with_agent"] == {
        "ratings": 1,
        "sum": 5,
        "average": 5.0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1},
    }
    assert after["answer_feedback"] == [
        {"response": "utter_delivery_time", "intent": "delivery_time", "helpful": 0, "unhelpful": 2}
    ]


def test_markdown_and_html_show_the_trend_and_the_worst_answers_redacted(
    store: Store, tmp_path: Path
) -> None:
    fill(store)
    add_questions(store)
    # a second answer with one unhelpful vote: listed after the one with two
    other, other_ts = answered("bot-c", C - 2 * DAY)
    store.add(
        "bot-c",
        [
            *other,
            vote(
                "bot-c", other_ts, False, other_ts + 3, response="utter_returns", intent="returns"
            ),
        ],
    )
    report = build_report(store.engine, day_of(C - 5 * DAY), day_of(C))
    paths = write_report(report, tmp_path)
    md = paths["markdown"].read_text()
    assert "![Average rating per day](report-csat.png)" in md
    first, second = md.index("**utter_delivery_time**"), md.index("**utter_returns**")
    assert first < second
    assert "delivery time to Berlin?" in md
    assert "jane+shop@example.com" not in md and "delivery take to" in md
    assert paths["csat_chart"].read_bytes().startswith(PNG)
    page = paths["html"].read_text()
    assert page.startswith("<!doctype html>")
    images = [part.split('"')[0] for part in page.split('src="data:image/png;base64,')[1:]]
    assert len(images) == 2
    assert all(base64.b64decode(i).startswith(PNG) for i in images)
    assert "<h2>Shopper satisfaction (CSAT)</h2>" in page
    assert "jane+shop@example.com" not in page and "Sam was great" not in page
    assert "<strong>utter_delivery_time</strong>" in page


def test_rating_comments_are_exported_redacted_and_only_on_request(sqlite_store: Store) -> None:
    now = utc_now().timestamp()
    sqlite_store.add(
        "shopper-7",
        [
            user("where is my parcel", "order_status", now - 60),
            rating(2, now - 30, "call me on +49 170 5551234 or mail jane+shop@example.com"),
        ],
    )
    plain = list(recent_questions(sqlite_store.engine, since=now - DAY))
    assert [q.intent for q in plain] == ["order_status"]
    rows = list(recent_questions(sqlite_store.engine, since=now - DAY, include_comments=True))
    assert [q.intent for q in rows] == ["order_status", COMMENT_ROW]
    out = io.StringIO()
    write_csv(iter(rows), out)
    assert "5551234" not in out.getvalue() and "jane+shop" not in out.getvalue()
    assert "call me on" in out.getvalue()


def test_no_feedback_gives_empty_parts(sqlite_store: Store, tmp_path: Path) -> None:
    report = build_report(sqlite_store.engine, day_of(C), day_of(C + DAY))
    data = report.to_json()
    assert [d["ratings"] for d in data["csat"]] == [0, 0]
    assert data["answer_feedback"] == []
    paths = write_report(report, tmp_path)
    assert "No votes in this period." in paths["markdown"].read_text()
    assert json.loads(paths["json"].read_text())["csat"][0]["average"] is None
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM events")).scalar() == 0
