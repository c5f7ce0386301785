"""UTC day arithmetic shared by the job and the report.

The cutoff is always a UTC midnight, so every day is either entirely before it (rolled up
and pruned) or entirely after it (still live): no day is ever counted half.
"""

from __future__ import annotations

import datetime as dt

SECONDS_PER_DAY = 86_400


def utc_now() -> dt.datetime:
    """Aware "now", the default clock the job is given."""
    return dt.datetime.now(dt.timezone.utc)


def cutoff_for(now: dt.datetime, days: int) -> dt.datetime:
    """UTC midnight `days` days before today: events before it are older than `days` days.

    With days=90 on 2026-11-25 at any hour the cutoff is 2026-08-27T00:00Z, so the 90 whole
    days 2026-08-27 .. 2026-11-24 plus today stay, and 2026-08-26 is the newest day pruned.
    """
    today = now.astimezone(dt.timezone.utc).date()
    start = today - dt.timedelta(days=days)
    return dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)


def day_of(timestamp: float) -> dt.date:
    """UTC calendar day of an epoch timestamp."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date()


def day_start(day: dt.date) -> float:
    """Epoch seconds of the UTC midnight that starts `day`."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()


def day_bounds(day: dt.date) -> tuple[float, float]:
    """Half-open epoch range [start, end) of a UTC day."""
    start = day_start(day)
    return start, start + SECONDS_PER_DAY
