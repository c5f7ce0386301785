"""The statistics report: rolled-up days and live days stitched into one period.

A day that the retention job has rolled up is read from the statistics table (its raw
events may be gone); every other day is aggregated from the live events with the very
same function the job uses, so a day's numbers do not change when it is pruned.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from insights import feedback
from retention import markers
from retention.feedback_stats import read_feedback
from retention.schema import (
    conversation_stats_daily,
    intent_stats_daily,
    language_intent_stats_daily,
    language_stats_daily,
    self_service_stats_daily,
)
from retention.stats import COUNTER_FIELDS, DayStats, compute_day

TOP_INTENTS = 10


@dataclass
class DayRow:
    """One day of the report and where its numbers came from."""

    stats: DayStats
    source: str  # "rolled-up" or "live"


@dataclass
class Report:
    """Aggregates over [since, until]; contains counts and intent names only."""

    since: dt.date
    until: dt.date
    days: list[DayRow] = field(default_factory=list)
    #: Redacted example questions per intent, for the answers shoppers voted on.
    examples: dict[str, list[str]] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        """Sum of every counter over the period."""
        total = Counter({name: 0 for name in COUNTER_FIELDS})
        for row in self.days:
            total.update(row.stats.counters())
        return dict(total)

    def intents(self) -> Counter[str]:
        """Shopper messages per predicted intent over the period."""
        counts: Counter[str] = Counter()
        for row in self.days:
            counts.update(row.stats.intents)
        return counts

    def self_service(self) -> dict[str, int]:
        """Self-service changes per kind over the period (every kind, zeros included)."""
        counts: Counter[str] = Counter({kind: 0 for kind in markers.SELF_SERVICE_KINDS})
        for row in self.days:
            counts.update(row.stats.self_service)
        return dict(counts)

    def languages(self) -> dict[str, dict[str, Any]]:
        """Per conversation language: conversation-days, shopper messages and the top
        intents over the period (README "Languages")."""
        totals: dict[str, list[int]] = {}
        intents: dict[str, Counter[str]] = {}
        for row in self.days:
            for code, (conversations, messages) in row.stats.languages.items():
                counts = totals.setdefault(code, [0, 0])
                counts[0] += conversations
                counts[1] += messages
            for (code, intent), n in row.stats.language_intents.items():
                intents.setdefault(code, Counter())[intent] += n
        return {
            code: {
                "conversations": totals.get(code, [0, 0])[0],
                "shopper_messages": totals.get(code, [0, 0])[1],
                "top_intents": [
                    {"intent": name, "messages": n}
                    for name, n in intents.get(code, Counter()).most_common(TOP_INTENTS)
                ],
            }
            for code in sorted(set(totals) | set(intents))
        }

    def rates(self) -> dict[str, float | None]:
        """Shares of conversations with a shopper message (None when there were none)."""
        t = self.totals()
        engaged, messages = t["engaged_conversations"], t["shopper_messages"]

        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "fallback_rate": share(t["fallback_conversations"], engaged),
            "fallback_message_rate": share(t["fallback_messages"], messages),
            "handover_rate": share(t["handover_conversations"], engaged),
            "automated_resolution_rate": share(t["resolved_without_agent"], engaged),
        }

    def to_json(self) -> dict[str, Any]:
        """The machine-readable report (what report.json holds)."""
        intents = self.intents()
        messages = sum(intents.values())
        return {
            "period": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "totals": self.totals(),
            "self_service": self.self_service(),
            "languages": self.languages(),
            "rates": self.rates(),
            "top_intents": [
                {"intent": name, "messages": n, "share": round(n / messages, 4)}
                for name, n in intents.most_common(TOP_INTENTS)
            ],
            "days": [
                {
                    "day": r.stats.day.isoformat(),
                    "source": r.source,
                    **r.stats.counters(),
                    "self_service": dict(r.stats.self_service),
                }
                for r in self.days
            ],
            "csat": feedback.csat(self),
            "answer_feedback": feedback.answer_feedback(self),
        }


def _rolled_up(conn: Connection, since: dt.date, until: dt.date) -> dict[dt.date, DayStats]:
    """Stored days in the period; an empty dict before the job ever ran."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(conversation_stats_daily.name):
        return {}
    table = conversation_stats_daily
    out: dict[dt.date, DayStats] = {}
    # A table from before a counter existed lacks its column until the job adds it.
    present = {c["name"] for c in inspector.get_columns(table.name)}
    columns = [table.c.day, *(table.c[n] for n in COUNTER_FIELDS if n in present)]
    for row in conn.execute(sa.select(*columns).where(table.c.day >= since, table.c.day <= until)):
        values = row._mapping
        stats = DayStats(values["day"])
        for name in COUNTER_FIELDS:
            setattr(stats, name, int(values.get(name) or 0))
        out[stats.day] = stats
    for day, (ratings, answers) in read_feedback(conn, since, until).items():
        if day in out:
            out[day].ratings, out[day].answers = ratings, answers
    if out and inspector.has_table(intent_stats_daily.name):
        it = intent_stats_daily
        query = sa.select(it.c.day, it.c.intent, it.c.messages).where(
            it.c.day >= since, it.c.day <= until
        )
        for day, intent, messages in conn.execute(query):
            if day in out:
                out[day].intents[str(intent)] = int(messages)
    if out and inspector.has_table(language_stats_daily.name):
        ls = language_stats_daily
        query = sa.select(ls.c.day, ls.c.language, ls.c.conversations, ls.c.shopper_messages)
        for day, code, conversations, messages in conn.execute(
            query.where(ls.c.day >= since, ls.c.day <= until)
        ):
            if day in out:
                out[day].languages[str(code)] = (int(conversations), int(messages))
    if out and inspector.has_table(language_intent_stats_daily.name):
        li = language_intent_stats_daily
        query = sa.select(li.c.day, li.c.language, li.c.intent, li.c.messages)
        for day, code, intent, messages in conn.execute(
            query.where(li.c.day >= since, li.c.day <= until)
        ):
            if day in out:
                out[day].language_intents[(str(code), str(intent))] = int(messages)
    if out and inspector.has_table(self_service_stats_daily.name):
        ss = self_service_stats_daily
        query = sa.select(ss.c.day, ss.c.kind, ss.c.changes).where(
            ss.c.day >= since, ss.c.day <= until
        )
        for day, kind, changes in conn.execute(query):
            if day in out:
                out[day].self_service[str(kind)] = int(changes)
    return out


def build_report(engine: Engine, since: dt.date, until: dt.date) -> Report:
    """Collect every day of [since, until] from the statistics table or the live events."""
    if until < since:
        raise ValueError("until is before since")
    report = Report(since=since, until=until)
    with engine.connect() as conn:
        stored = _rolled_up(conn, since, until)
        day = since
        while day <= until:
            if day in stored:
                report.days.append(DayRow(stored[day], "rolled-up"))
            else:
                report.days.append(DayRow(compute_day(conn, day), "live"))
            day += dt.timedelta(days=1)
        for item in feedback.answer_feedback(report)[: feedback.TOP_ANSWERS]:
            intent = item["intent"]
            if intent not in report.examples:
                report.examples[intent] = feedback.example_questions(
                    conn, intent, since, until, feedback.EXAMPLES_PER_ANSWER
                )
    return report


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def to_markdown(
    report: Report,
    chart_name: str | None = "report.png",
    csat_chart_name: str | None = "report-csat.png",
) -> str:
    """The human-readable report (what report.md holds)."""
    t, r = report.totals(), report.rates()
    lines = [
        f"# Assistant statistics {report.since.isoformat()} to {report.until.isoformat()}",
        "",
        "Counts are per conversation-day (one conversation on one UTC day). "
        "Contains no personal data.",
        "",
        "| Measure | Value |",
        "|---|---|",
        f"| Conversations | {t['conversations']} |",
        f"| Conversations with a shopper message | {t['engaged_conversations']} |",
        f"| Shopper messages | {t['shopper_messages']} |",
        f"| Fallback rate (conversations with a fallback) | {_pct(r['fallback_rate'])} |",
        f"| Fallback rate (messages) | {_pct(r['fallback_message_rate'])} |",
        f"| Handover rate | {_pct(r['handover_rate'])} |",
        f"| Automated-resolution rate | {_pct(r['automated_resolution_rate'])} |",
        "",
        "## Top intents",
        "",
        "| Intent | Messages | Share |",
        "|---|---:|---:|",
    ]
    for item in report.to_json()["top_intents"]:
        lines.append(f"| {item['intent']} | {item['messages']} | {_pct(item['share'])} |")
    lines += [
        "",
        "## Languages",
        "",
        "| Language | Conversations | Messages | Top intents |",
        "|---|---:|---:|---|",
    ]
    for code, item in report.languages().items():
        top = ", ".join(f"{i['intent']} ({i['messages']})" for i in item["top_intents"][:3])
        lines.append(f"| {code} | {item['conversations']} | {item['shopper_messages']} | {top} |")
    lines += ["", "## Self-service changes", "", "| Change | Count |", "|---|---:|"]
    for kind, count in report.self_service().items():
        lines.append(f"| {markers.SELF_SERVICE_KINDS[kind]} | {count} |")
    if chart_name:
        lines += ["", f"![Conversations and rates per day]({chart_name})"]
    lines += [
        "",
        "## Per day",
        "",
        "| Day | Conv. | With message | Messages | Fallback | Handover | Resolved | Source |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report.days:
        s = row.stats
        lines.append(
            f"| {s.day.isoformat()} | {s.conversations} | {s.engaged_conversations} | "
            f"{s.shopper_messages} | {s.fallback_conversations} | {s.handover_conversations} | "
            f"{s.resolved_without_agent} | {row.source} |"
        )
    answers = [
        {**a, "examples": report.examples.get(a["intent"], [])}
        for a in feedback.answer_feedback(report)
    ]
    lines += feedback.markdown_section(report, answers, csat_chart_name)
    return "\n".join(lines) + "\n"


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write report.md/.json/.html and the two charts into `out_dir`; returns the paths."""
    from insights.chart import render_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": out_dir / "report.md",
        "json": out_dir / "report.json",
        "chart": out_dir / "report.png",
        "csat_chart": out_dir / "report-csat.png",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    markdown = to_markdown(report, paths["chart"].name, paths["csat_chart"].name)
    paths["markdown"].write_text(markdown, encoding="utf-8")
    render_chart(report, paths["chart"])
    feedback.render_csat_chart(report, paths["csat_chart"])
    charts = {paths["chart"].name: paths["chart"], paths["csat_chart"].name: paths["csat_chart"]}
    paths["html"].write_text(feedback.to_html(markdown.splitlines(), charts), encoding="utf-8")
    return paths
