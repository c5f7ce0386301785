"""Opening hours in the shop's time zone, and the settings that configure them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from handover.hours import OpeningHours, OpeningHoursError
from handover.settings import (
    DEMO_AGENT_TOKEN,
    SettingsError,
    handover_settings_from_env,
)

BERLIN = ZoneInfo("Europe/Berlin")


def at(
    year: int, month: int, day: int, hour: int, minute: int = 0, tz: str = "Europe/Berlin"
) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp()


HOURS = OpeningHours.parse()


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (at(2026, 11, 23, 8, 0), True),  # Monday opening minute
        (at(2026, 11, 23, 7, 59), False),
        (at(2026, 11, 27, 19, 59), True),  # Friday
        (at(2026, 11, 27, 20, 0), False),  # closing time is closed
        (at(2026, 11, 28, 9, 30), True),  # Saturday
        (at(2026, 11, 28, 16, 0), False),
        (at(2026, 11, 29, 12, 0), False),  # Sunday
        # the shop's clock, not UTC: 18:30 UTC is 19:30 in winter, 20:30 in summer
        (at(2026, 1, 14, 18, 30, "UTC"), True),
        (at(2026, 7, 15, 18, 30, "UTC"), False),
    ],
)
def test_is_open_in_the_shop_time_zone(when: float, is_open: bool) -> None:
    assert HOURS.is_open(when) is is_open


def test_next_opening_and_descriptions() -> None:
    saturday_evening = at(2026, 11, 28, 18, 0)
    assert HOURS.next_opening(saturday_evening) == dt.datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    assert HOURS.describe_next_opening(saturday_evening) == "on Monday at 08:00"
    assert HOURS.describe_next_opening(at(2026, 11, 29, 12, 0)) == "tomorrow at 08:00"
    assert HOURS.describe_next_opening(at(2026, 11, 24, 6, 0)) == "today at 08:00"
    assert HOURS.describe() == (
        "Monday to Friday 08:00-20:00, Saturday 09:00-16:00 (Europe/Berlin time)"
    )


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "mon-fri",
        "fri-mon 08:00-20:00",
        "mon 20:00-08:00",
        "mon 08:00-20:00; mon 09:00-10:00",
        "xyz 08:00-09:00",
    ],
)
def test_bad_opening_hours_are_refused(spec: str) -> None:
    with pytest.raises(OpeningHoursError):
        OpeningHours.parse(spec)


def test_bad_time_zone_is_refused() -> None:
    with pytest.raises(OpeningHoursError):
        OpeningHours.parse("mon 08:00-09:00", "Mars/Olympus")


def test_settings_defaults_and_demo_token_only_in_development() -> None:
    dev = handover_settings_from_env({"APP_ENV": "development"})
    assert dev.agent_tokens == {DEMO_AGENT_TOKEN: "Demo Agent"}
    assert dev.default_handling_minutes == 4.0
    prod = handover_settings_from_env({"AGENT_TOKENS": "Sam:s3cret-token-for-sam-1234"})
    assert prod.agent_tokens == {"s3cret-token-for-sam-1234": "Sam"}
    with pytest.raises(SettingsError):
        handover_settings_from_env({"AGENT_TOKENS": f"x:{DEMO_AGENT_TOKEN}"})
    with pytest.raises(SettingsError):
        handover_settings_from_env({"AGENT_TOKENS": "Sam:short"})
    with pytest.raises(SettingsError):
        handover_settings_from_env({"AGENT_TOKENS": "no-colon"})
    custom = handover_settings_from_env(
        {
            "HANDOVER_OPENING_HOURS": "mon-sun 00:00-24:00",
            "HANDOVER_TIMEZONE": "UTC",
            "HANDOVER_DEFAULT_HANDLING_MINUTES": "2.5",
            "DATABASE_URL": "sqlite:////tmp/x.db",
        }
    )
    assert custom.opening_hours.is_open(at(2026, 11, 29, 3, 0))
    assert custom.default_handling_minutes == 2.5
    assert custom.database_url == "sqlite:////tmp/x.db"
    with pytest.raises(SettingsError):
        handover_settings_from_env({"HANDOVER_TIMEZONE": "Nowhere/Else"})
