"""The report's feedback parts: CSAT per day, answers by unhelpful votes, the HTML report.

CSAT is the shoppers' 1-5 rating of a conversation, per UTC day, split by bot-only and
with-an-agent conversations. Answers are bot responses (by response name and intent)
with their helpful and unhelpful votes, most unhelpful first, each with a few redacted
shopper questions of that intent from the live events: what a designer reads before
rewriting the response. Questions older than the pruning horizon are gone, so an answer
from a pruned period may come without examples.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from insights.redact import redact
from retention import markers
from retention.clock import day_bounds
from retention.schema import events

if TYPE_CHECKING:
    from insights.report import Report

#: Answers listed in the Markdown and HTML reports, and example questions per answer.
TOP_ANSWERS = 10
EXAMPLES_PER_ANSWER = 3


def _summary(distribution: dict[int, int]) -> dict[str, Any]:
    count = sum(distribution.values())
    total = sum(r * n for r, n in distribution.items())
    return {
        "ratings": count,
        "sum": total,
        "average": round(total / count, 2) if count else None,
        "distribution": {str(r): distribution.get(r, 0) for r in range(1, 6)},
    }


def csat(report: Report) -> list[dict[str, Any]]:
    """Per day: all ratings, their average, and the bot-only and with-agent parts."""
    out = []
    for row in report.days:
        parts: dict[bool, dict[int, int]] = {False: {}, True: {}}
        for (with_agent, rating), n in row.stats.ratings.items():
            parts[with_agent][rating] = parts[with_agent].get(rating, 0) + n
        both = {r: parts[False].get(r, 0) + parts[True].get(r, 0) for r in range(1, 6)}
        total = _summary(both)
        out.append(
            {
                "day": row.stats.day.isoformat(),
                "ratings": total["ratings"],
                "average": total["average"],
                "distribution": total["distribution"],
                "bot_only": _summary(parts[False]),
                "with_agent": _summary(parts[True]),
            }
        )
    return out


def answer_feedback(report: Report) -> list[dict[str, Any]]:
    """Votes per (response, intent) over the period, most unhelpful first."""
    totals: dict[tuple[str, str], list[int]] = {}
    for row in report.days:
        for key, (helpful, unhelpful) in row.stats.answers.items():
            pair = totals.setdefault(key, [0, 0])
            pair[0] += helpful
            pair[1] += unhelpful
    items: list[dict[str, Any]] = [
        {"response": r, "intent": i, "helpful": h, "unhelpful": u}
        for (r, i), (h, u) in totals.items()
    ]
    items.sort(key=lambda a: (-a["unhelpful"], a["helpful"], a["response"], a["intent"]))
    return items


def example_questions(
    conn: Connection, intent: str, since: dt.date, until: dt.date, limit: int
) -> list[str]:
    """A few recent redacted shopper messages of `intent` in the period (newest first)."""
    start, end = day_bounds(since)[0], day_bounds(until)[1]
    rows = conn.execute(
        sa.select(events.c.data)
        .where(events.c.type_name == markers.USER_EVENT, events.c.intent_name == intent)
        .where(events.c.timestamp >= start, events.c.timestamp < end)
        .order_by(events.c.timestamp.desc())
        .limit(limit * 4)
    )
    seen: list[str] = []
    for (data,) in rows:
        try:
            text = str((json.loads(data or "{}") or {}).get("text") or "")
        except ValueError:
            continue
        if not text.strip() or text.startswith("/"):
            continue
        redacted = redact(text)
        if redacted not in seen:
            seen.append(redacted)
        if len(seen) >= limit:
            break
    return seen


def render_csat_chart(report: Report, path: Path) -> None:
    """Average rating per day (bot-only and with an agent) over the number of ratings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [row.stats.day for row in report.days]
    per_day = csat(report)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    try:
        for key, label in (("bot_only", "bot only"), ("with_agent", "with an agent")):
            values = [d[key]["average"] for d in per_day]
            top.plot(
                days,
                [float("nan") if v is None else v for v in values],
                marker="o",
                label=label,
            )
        top.set_ylim(1, 5)
        top.set_ylabel("average rating (1-5)")
        top.legend(loc="lower left")
        top.set_title(f"CSAT {report.since.isoformat()} to {report.until.isoformat()}")
        bottom.bar(days, [d["bot_only"]["ratings"] for d in per_day], label="bot only")
        bottom.bar(
            days,
            [d["with_agent"]["ratings"] for d in per_day],
            bottom=[d["bot_only"]["ratings"] for d in per_day],
            label="with an agent",
        )
        bottom.set_ylabel("ratings")
        bottom.legend(loc="upper left")
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def markdown_section(
    report: Report, answers: list[dict[str, Any]], csat_chart: str | None
) -> list[str]:
    """CSAT and answer-feedback lines appended to the Markdown report."""
    per_day = csat(report)
    count = sum(d["ratings"] for d in per_day)
    total = sum(d["bot_only"]["sum"] + d["with_agent"]["sum"] for d in per_day)
    average = f"{total / count:.2f}" if count else "n/a"
    lines = [
        "",
        "## Shopper satisfaction (CSAT)",
        "",
        f"{count} ratings, average {average} of 5.",
    ]
    if csat_chart:
        lines += ["", f"![Average rating per day]({csat_chart})"]
    lines += [
        "",
        "| Day | Ratings | Average | Bot only | With an agent |",
        "|---|---:|---:|---:|---:|",
    ]
    for d in per_day:
        if not d["ratings"]:
            continue
        lines.append(
            f"| {d['day']} | {d['ratings']} | {_avg(d['average'])} | "
            f"{_avg(d['bot_only']['average'])} ({d['bot_only']['ratings']}) | "
            f"{_avg(d['with_agent']['average'])} ({d['with_agent']['ratings']}) |"
        )
    lines += ["", "## Answers shoppers found unhelpful", ""]
    if not answers:
        lines.append("No votes in this period.")
    for a in answers[:TOP_ANSWERS]:
        lines.append(
            f"- **{a['response']}** (intent `{a['intent']}`): "
            f"{a['unhelpful']} unhelpful, {a['helpful']} helpful"
        )
        for question in a.get("examples", []):
            lines.append(f"  - \u201c{question}\u201d")
    return lines


def _avg(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def to_html(markdown_lines: Iterable[str], charts: dict[str, Path]) -> str:
    """A self-contained HTML page of the Markdown report; charts inline as data URIs.

    Only the Markdown this package writes is converted (headings, tables, bullets,
    images, bold and code), so no Markdown library is needed; every text is escaped.
    """
    body: list[str] = []
    table: list[list[str]] = []

    def inline(text: str) -> str:
        out = html.escape(text)
        for marker, tag in (("**", "strong"), ("`", "code")):
            parts = out.split(marker)
            if len(parts) % 2 == 1 and len(parts) > 1:
                out = "".join(
                    p if i % 2 == 0 else f"<{tag}>{p}</{tag}>" for i, p in enumerate(parts)
                )
        return out

    def flush_table() -> None:
        if not table:
            return
        head, *rows = table
        body.append("<table><thead><tr>")
        body.extend(f"<th>{inline(c)}</th>" for c in head)
        body.append("</tr></thead><tbody>")
        for row in rows:
            body.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>")
        body.append("</tbody></table>")
        table.clear()

    for line in markdown_lines:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                table.append(cells)
            continue
        flush_table()
        if line.startswith("!["):
            alt, _, rest = line[2:].partition("](")
            name = rest.rstrip(")")
            if name in charts and charts[name].exists():
                src = _data_uri(charts[name])
                body.append(f'<p><img alt="{html.escape(alt)}" src="{src}"></p>')
        elif line.startswith("# "):
            body.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("  - "):
            body.append(f'<p class="example">{inline(line[4:])}</p>')
        elif line.startswith("- "):
            body.append(f'<p class="item">{inline(line[2:])}</p>')
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
    flush_table()
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "color:#222}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:right}td:first-child,th:first-child{text-align:left}"
        "img{max-width:100%}.example{margin:.1rem 0 .1rem 2rem;color:#555}"
        ".item{margin:.6rem 0 .1rem}"
    )
    title = next((b[4:-5] for b in body if b.startswith("<h1>")), "Assistant statistics")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
