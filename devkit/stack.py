"""Start the whole assistant for a measurement: reference service, action server, Rasa.

Shared by bench/compare.py, bench/scale.py, bench/order_latency.py and tests/scale, so
that every figure comes from the same start-up path as `make run` (the repository's
endpoints.yml and the web chat channel), only with ports, databases and Redis chosen by
the caller. Servers are started with devkit/servers.py (own process groups, logs in
logs/test-servers/).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from devkit import servers
from devkit.waiting import NotYet, eventually

ROOT = servers.ROOT

# Benchmarks send faster than a person types; the web chat's budgets would answer
# "you're typing too fast" instead of measuring the assistant.
BENCH_RATE_LIMIT = "10000/1"


@dataclass(frozen=True)
class Stack:
    """A running assistant: where to connect and the environment it was started with."""

    url: str
    env: dict[str, str]


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Makefile's development defaults, overridden by the caller's settings."""
    env = dict(os.environ)
    defaults = {
        "APP_ENV": "development",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONHASHSEED": "0",
        "LOCK_STORE_TYPE": "in_memory",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_LOCK_DB": "1",
        "REDIS_PASSWORD": "",
        "REDIS_LOCK_PREFIX": "",
        "WEBCHAT_RATE_LIMIT": BENCH_RATE_LIMIT,
        # Every simulated shopper connects from 127.0.0.1: the per-address budgets (and
        # the per-socket ones, for symmetry) would stop a benchmark after 20 sessions.
        "WEBCHAT_SOCKET_RATE_LIMIT": BENCH_RATE_LIMIT,
        "WEBCHAT_ADDRESS_RATE_LIMIT": BENCH_RATE_LIMIT,
        "WEBCHAT_SOCKET_SESSION_LIMIT": BENCH_RATE_LIMIT,
        "WEBCHAT_ADDRESS_SESSION_LIMIT": BENCH_RATE_LIMIT,
    }
    for name, value in defaults.items():
        env.setdefault(name, value)
    env.update(extra or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def start_reference_service(
    env: Mapping[str, str], db: str = ":memory:", extra_args: tuple[str, ...] = ()
) -> tuple[str, subprocess.Popen[bytes]]:
    """`python -m services` on a free port, by default with an in-memory database."""
    port = servers.free_port()
    proc = servers._spawn(
        "service",
        [sys.executable, "-m", "services", "--port", str(port), "--db", db, *extra_args],
        env,
    )
    url = f"http://127.0.0.1:{port}"
    servers.wait_for_http(url + "/health", proc, 60)
    return url, proc


# Rasa logs this once per worker, when that worker's model is loaded; a worker starts
# accepting connections only after it.
WORKER_READY_LINE = "Rasa server is up and running."


def wait_all_workers(proc: subprocess.Popen[bytes], workers: int) -> None:
    """Every worker loads its own model: the first ready answer may come from one only.

    Polling the health route cannot tell: a worker still loading does not accept, so
    every poll reaches the ready one. Each worker logs WORKER_READY_LINE once loaded.
    """
    log: Path = proc.log_path  # type: ignore[attr-defined]  # set by servers._spawn

    def ready_workers() -> int:
        if proc.poll() is not None:
            raise servers.ServerError(f"Rasa exited with {proc.returncode} while starting")
        return log.read_text(errors="replace").count(WORKER_READY_LINE)

    try:
        eventually(
            ready_workers,
            until=lambda ready: ready >= workers,
            timeout=servers.RASA_START_TIMEOUT,
            interval=0.5,
            what=f"{workers} ready Rasa workers",
        )
    except NotYet as error:
        raise servers.ServerError(str(error)) from None


@contextmanager
def running_stack(
    model: Path,
    settings: Mapping[str, str] | None = None,
    extensions: tuple[str, ...] = ("handover.desk:AgentDesk",),
    rest_channel: bool = False,
) -> Iterator[Stack]:
    """Everything `make run` starts (without the demo page), stopped on exit.

    `settings` are environment variables such as DATABASE_URL, LOCK_STORE_TYPE,
    SANIC_WORKERS or WEBCHAT_REDIS_URL; unset ones get the development defaults and a
    throw-away SQLite tracker store. `rest_channel` also opens Rasa's REST channel, which
    credentials.yml keeps closed (anyone could post as any sender): only for local
    measurements.
    """
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        env = base_env({"DATABASE_URL": f"sqlite:///{tmp}/rasa.db", **(settings or {})})
        credentials = Path(tmp, "credentials.yml")
        listed = ", ".join(f'"{e}"' for e in extensions)
        credentials.write_text(
            "channels.webchat.WebchatInput:\n"
            "  socketio_path: /socket.io\n"
            f"  extensions: [{listed}]\n" + ("rest:\n" if rest_channel else "")
        )
        try:
            service_url, service = start_reference_service(env)
            procs.append(service)
            env.update({name: service_url for name in (
                "ORDER_SERVICE_URL", "TRACKING_SERVICE_URL", "PRODUCT_SERVICE_URL")})  # fmt: skip
            actions_url, actions = servers.start_action_server(env)
            procs.append(actions)
            env["ACTION_SERVER_URL"] = actions_url
            url, rasa = servers.start_rasa(model, env, credentials)
            procs.append(rasa)
            wait_all_workers(rasa, int(env.get("SANIC_WORKERS", "1") or "1"))
            yield Stack(url, env)
        finally:
            for proc in reversed(procs):
                servers.stop(proc)


def redis_settings(url: str, prefix: str) -> dict[str, str]:
    """Lock store and socket.io manager settings for the Redis at `url`."""
    kwargs = redis.Redis.from_url(url).connection_pool.connection_kwargs
    return {
        "LOCK_STORE_TYPE": "redis",
        "REDIS_HOST": str(kwargs.get("host", "127.0.0.1")),
        "REDIS_PORT": str(kwargs.get("port", 6379)),
        "REDIS_LOCK_DB": str(kwargs.get("db", 0)),
        "REDIS_PASSWORD": str(kwargs.get("password") or ""),
        "REDIS_LOCK_PREFIX": prefix,
        "WEBCHAT_REDIS_URL": url,
    }
