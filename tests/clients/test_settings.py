"""Settings come from the environment, validated, with the documented defaults."""

from __future__ import annotations

import pytest

from actions.settings import Settings, SettingsError, load_settings, settings_from_env


def test_defaults() -> None:
    s = settings_from_env({})
    assert s == Settings()
    assert s.order_service_url == "http://127.0.0.1:8000"
    assert (s.service_connect_timeout, s.service_read_timeout, s.service_retries) == (2.0, 5.0, 2)
    assert s.service_total_timeout == 8.0


def test_values_from_env() -> None:
    s = settings_from_env(
        {
            "ORDER_SERVICE_URL": "https://orders.example.com/api/",
            "TRACKING_SERVICE_URL": "http://tracking:9000",
            "PRODUCT_SERVICE_URL": "http://products:9001",
            "SERVICE_CONNECT_TIMEOUT": "0.5",
            "SERVICE_READ_TIMEOUT": "3",
            "SERVICE_RETRIES": "0",
            "SERVICE_TOTAL_TIMEOUT": "4.5",
        }
    )
    assert s.order_service_url == "https://orders.example.com/api"
    assert s.tracking_service_url == "http://tracking:9000"
    assert s.product_service_url == "http://products:9001"
    assert (s.service_connect_timeout, s.service_read_timeout, s.service_retries) == (0.5, 3.0, 0)
    assert s.service_total_timeout == 4.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORDER_SERVICE_URL", "orders.example.com"),
        ("PRODUCT_SERVICE_URL", "ftp://products"),
        ("SERVICE_CONNECT_TIMEOUT", "soon"),
        ("SERVICE_READ_TIMEOUT", "0"),
        ("SERVICE_RETRIES", "-1"),
        ("SERVICE_RETRIES", "2.5"),
        ("SERVICE_TOTAL_TIMEOUT", "0"),
        ("SERVICE_TOTAL_TIMEOUT", "eight"),
    ],
)
def test_invalid_values_fail_loudly(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})


def test_load_settings_reads_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    load_settings.cache_clear()
    monkeypatch.setenv("SERVICE_RETRIES", "5")
    try:
        assert load_settings().service_retries == 5
        monkeypatch.setenv("SERVICE_RETRIES", "1")
        assert load_settings().service_retries == 5  # cached
    finally:
        load_settings.cache_clear()


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().service_retries = 3  # type: ignore[misc]
