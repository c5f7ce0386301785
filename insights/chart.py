"""The report's PNG: conversations per day above, the three rates below.

matplotlib is imported here, on first use, with the Agg backend: the report runs on
servers without a display, and other commands should not pay for the import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insights.report import Report


def _share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def render_chart(report: Report, path: Path) -> None:
    """Draw and save the chart (overwrites `path`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [row.stats.day for row in report.days]
    stats = [row.stats for row in report.days]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    try:
        top.bar(days, [s.engaged_conversations for s in stats], label="with shopper message")
        top.bar(days, [s.handover_conversations for s in stats], label="handed over")
        top.set_ylabel("conversations")
        top.legend(loc="upper left")
        top.set_title(f"Assistant {report.since.isoformat()} to {report.until.isoformat()}")
        series = {
            "fallback": [_share(s.fallback_conversations, s.engaged_conversations) for s in stats],
            "handover": [_share(s.handover_conversations, s.engaged_conversations) for s in stats],
            "automated resolution": [
                _share(s.resolved_without_agent, s.engaged_conversations) for s in stats
            ],
        }
        for label, values in series.items():
            bottom.plot(days, values, marker=".", label=label)
        bottom.set_ylabel("% of conversations")
        bottom.set_ylim(0, 100)
        bottom.legend(loc="upper left")
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
