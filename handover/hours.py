"""Opening hours of the agent desk, evaluated in the shop's own time zone.

The shopper's clock and the server's clock are both irrelevant: agents work by the shop's
local time, and the change to and from daylight saving time must not shift the hours.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from channels import languages

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_OPENING_HOURS = "mon-fri 08:00-20:00; sat 09:00-16:00"
DEFAULT_TIMEZONE = "Europe/Berlin"

_PART = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)


class OpeningHoursError(ValueError):
    """The opening-hours setting cannot be understood."""


def _time(raw: str) -> dt.time:
    hours, minutes = (int(x) for x in raw.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise OpeningHoursError(f"not a time of day: {raw!r}")
    return dt.time(hours, minutes)


@dataclass(frozen=True)
class OpeningHours:
    """One opening window per weekday (0 = Monday); a day without a window is closed."""

    windows: Mapping[int, tuple[dt.time, dt.time]]
    timezone: str = DEFAULT_TIMEZONE
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise OpeningHoursError(f"unknown time zone {self.timezone!r}") from exc
        for day, (start, end) in self.windows.items():
            if not 0 <= day <= 6 or start >= end:
                name = languages.day_name(day % 7, "en")
                raise OpeningHoursError(f"bad window for {name}: {start}-{end}")

    @classmethod
    def parse(
        cls, spec: str = DEFAULT_OPENING_HOURS, timezone: str = DEFAULT_TIMEZONE
    ) -> OpeningHours:
        """Read "mon-fri 08:00-20:00; sat 09:00-16:00" (days not named are closed)."""
        windows: dict[int, tuple[dt.time, dt.time]] = {}
        for part in (p.strip().lower() for p in spec.split(";")):
            if not part:
                continue
            match = _PART.match(part)
            if (
                not match
                or match["first"] not in DAY_NAMES
                or (match["last"] and match["last"] not in DAY_NAMES)
            ):
                raise OpeningHoursError(
                    f"cannot read {part!r}; expected e.g. 'mon-fri 08:00-20:00'"
                )
            first = DAY_NAMES.index(match["first"])
            last = DAY_NAMES.index(match["last"] or match["first"])
            if last < first:
                raise OpeningHoursError(f"days out of order in {part!r}")
            window = (_time(match["start"]), _time(match["end"]))
            for day in range(first, last + 1):
                if day in windows:
                    raise OpeningHoursError(f"{languages.day_name(day, 'en')} is given twice")
                windows[day] = window
        if not windows:
            raise OpeningHoursError("no opening hours given")
        return cls(windows=windows, timezone=timezone)

    def local(self, epoch: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, tz=self._zone)

    def is_open(self, epoch: float) -> bool:
        now = self.local(epoch)
        window = self.windows.get(now.weekday())
        return window is not None and window[0] <= now.time() < window[1]

    def next_opening(self, epoch: float) -> dt.datetime:
        """The next moment agents are available (the start of the next window)."""
        now = self.local(epoch)
        for offset in range(8):
            day = now.date() + dt.timedelta(days=offset)
            window = self.windows.get(day.weekday())
            if window is None:
                continue
            start = dt.datetime.combine(day, window[0], tzinfo=self._zone)
            if start > now:
                return start
        raise OpeningHoursError("no opening window in the coming week")  # pragma: no cover

    def describe(self, language: str = "en") -> str:
        """Human-readable hours, grouping consecutive days with the same window, in the
        conversation's language (Babel's day names, channels/languages.py)."""
        parts: list[str] = []
        day = 0
        while day < 7:
            window = self.windows.get(day)
            if window is None:
                day += 1
                continue
            last = day
            while last + 1 < 7 and self.windows.get(last + 1) == window:
                last += 1
            first = languages.day_name(day, language)
            days = (
                first
                if last == day
                else languages.say(
                    "days_range", language, first=first, last=languages.day_name(last, language)
                )
            )
            parts.append(f"{days} {_hhmm(window[0])}-{_hhmm(window[1])}")
            day = last + 1
        return languages.say("hours_zone", language, hours=", ".join(parts), zone=self.timezone)

    def describe_next_opening(self, epoch: float, language: str = "en") -> str:
        start = self.next_opening(epoch)
        today = self.local(epoch).date()
        if start.date() in (today, today + dt.timedelta(days=1)):
            when = languages.day_text(start.date(), language, today=today)
        else:
            day_name = languages.day_name(start.weekday(), language)
            when = languages.say("day_on", language, date=day_name)
        return languages.say("at_time", language, when=when, time=_hhmm(start.time()))


def _hhmm(value: dt.time) -> str:
    return "24:00" if value == dt.time.max else value.strftime("%H:%M")
