"""Self-service changes are counted per day and kind, survive pruning, and carry no
personal data into the statistics or the report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rasa.shared.core.events import SlotSet

from insights.report import build_report, to_markdown, write_report
from retention.clock import cutoff_for, day_of
from retention.job import RunOptions, run
from tests.retention.retention_support import DAY, Store, conversation, user

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=dt.timezone.utc)
CUTOFF = cutoff_for(NOW, 90)
C = CUTOFF.timestamp()


def with_change(kind: str, start: float) -> list:
    """A conversation in which the assistant cancelled (or otherwise changed) an order."""
    events = conversation("plain", start)
    events += [
        user("cancel order 40012349 emma.novak@example.org", "cancel_order", start + 10),
        SlotSet("order_number", "40012349", timestamp=start + 10),
        SlotSet("verified_email", "emma.novak@example.org", timestamp=start + 11),
        SlotSet("self_service_change", kind, timestamp=start + 12),
    ]
    return events


def fill(store: Store) -> None:
    store.add_all(
        [
            ("old-a", with_change("cancel", C - 2 * DAY)),
            ("old-b", with_change("cancel", C - 2 * DAY + 60)),
            ("old-c", with_change("invoice_copy", C - 2 * DAY + 120)),
            ("old-d", conversation("plain", C - 2 * DAY + 180)),
            ("new-a", with_change("cancel", C + 100)),
            ("new-b", with_change("unsubscribe", C + 200)),
            ("new-c", with_change("size", C + 300)),
            ("new-d", with_change("address", C + 400)),
        ]
    )


def test_changes_are_counted_per_kind_and_survive_pruning(store: Store) -> None:
    fill(store)
    since, until = day_of(C - 3 * DAY), day_of(C)
    before = build_report(store.engine, since, until)
    assert before.self_service() == {
        "cancel": 3,
        "address": 1,
        "size": 1,
        "invoice_copy": 1,
        "unsubscribe": 1,
    }
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    after = build_report(store.engine, since, until)
    assert {r.source for r in after.days if r.stats.day == day_of(C - 2 * DAY)} == {"rolled-up"}
    assert after.self_service() == before.self_service()  # the old events are gone by now
    per_day = {d["day"]: d["self_service"] for d in after.to_json()["days"]}
    assert per_day[day_of(C - 2 * DAY).isoformat()] == {"cancel": 2, "invoice_copy": 1}


def test_report_shows_the_changes_without_personal_data(
    sqlite_store: Store, tmp_path: Path
) -> None:
    fill(sqlite_store)
    report = build_report(sqlite_store.engine, day_of(C - 3 * DAY), day_of(C))
    markdown = to_markdown(report)
    assert "## Self-service changes" in markdown
    assert "| Cancellations | 3 |" in markdown and "| Invoice copies | 1 |" in markdown
    assert "| Size changes | 1 |" in markdown and "| Newsletter unsubscribes | 1 |" in markdown
    assert "| Address changes | 1 |" in markdown
    files = write_report(report, tmp_path)
    text = "".join(
        Path(p).read_text(encoding="utf-8", errors="replace")
        for p in files.values()
        if str(p).endswith((".md", ".json"))
    )
    assert json.loads(Path(files["json"]).read_text())["self_service"]["cancel"] == 3
    for secret in ("40012349", "emma.novak", "example.org"):
        assert secret not in text
