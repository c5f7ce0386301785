"""One reader for every package's settings: blanks mean defaults, nothing is rounded."""

from __future__ import annotations

import pytest

from actions.settings import settings_from_env
from channels.settings import load_settings as webchat_settings
from envsettings import Env, SettingsError
from handover.settings import handover_settings_from_env


def test_blank_values_take_the_default() -> None:
    env = Env({"A": "  ", "B": ""})
    assert env.number("A", 1.5) == 1.5
    assert env.whole("B", 7) == 7
    assert env.items("A", ("x",)) == ("x",)
    assert env.url("B", None) is None


@pytest.mark.parametrize("raw", ["0.5", "2e3", "ten", "-1"])
def test_whole_numbers_are_never_truncated(raw: str) -> None:
    with pytest.raises(SettingsError, match="N"):
        Env({"N": raw}).whole("N", 1, minimum=0)


@pytest.mark.parametrize("raw", ["0", "-2", "nan", "inf", "soon"])
def test_numbers_must_be_positive_and_finite(raw: str) -> None:
    with pytest.raises(SettingsError, match="T"):
        Env({"T": raw}).number("T", 1.0)


def test_the_handover_median_window_refuses_a_fraction() -> None:
    # It used to become int(0.5) == 0, a median over no requests.
    with pytest.raises(SettingsError, match="HANDOVER_MEDIAN_WINDOW"):
        handover_settings_from_env({"HANDOVER_MEDIAN_WINDOW": "0.5"})
    assert handover_settings_from_env({"HANDOVER_MEDIAN_WINDOW": "5"}).median_window == 5


def test_every_package_raises_the_same_error_type() -> None:
    for build in (
        lambda: settings_from_env({"SERVICE_RETRIES": "x"}),
        lambda: webchat_settings({"APP_ENV": "production"}),
        lambda: handover_settings_from_env({"HANDOVER_DEFAULT_HANDLING_MINUTES": "0"}),
    ):
        with pytest.raises(SettingsError):
            build()


def test_a_secret_falls_back_to_the_demo_value_only_in_development() -> None:
    dev = Env({"APP_ENV": "development"})
    assert dev.secret("S", "d" * 32, min_length=32, purpose="x") == "d" * 32
    with pytest.raises(SettingsError, match="not set"):
        Env({}).secret("S", "d" * 32, min_length=32, purpose="x")
    with pytest.raises(SettingsError, match="demo"):
        Env({"S": "d" * 32}).secret("S", "d" * 32, min_length=32, purpose="x")
    with pytest.raises(SettingsError, match="at least 32"):
        Env({"S": "short"}).secret("S", "d" * 32, min_length=32, purpose="x")
