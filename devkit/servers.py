"""Start the project's real servers: Rasa, the action server, the demo page server.

Tests and benchmarks that talk to a running assistant share this module so that none
grows its own way of finding a model, picking ports and cleaning up. Every server runs in
its own process group (so its children die with it), on a free port, with its output in
a log file (shown when start-up fails), and is ready when the function returns.

    model = find_model()                                 # env MODEL, newest models/*, or train
    actions_url, actions = start_action_server(env)      # env: os.environ plus your settings
    base_url, rasa = start_rasa(model, {**env, "ACTION_SERVER_URL": actions_url}, creds)
    ...
    stop(rasa); stop(actions)

`start_rasa` uses the repository's endpoints.yml unless given `endpoints_path` (see
`write_endpoints`), so DATABASE_URL in `env` chooses the tracker store. Rasa loads the
model before it starts listening, so the first HTTP answer means "model loaded"; we poll
`ready_path` (default: the web chat channel's health route, which answers 503 until the
agent is ready; any other answer but a 5xx counts, so a server without the web chat
channel is ready at its first 404).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from devkit.waiting import NotYet, eventually

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
RASA = VENV_BIN / "rasa"
LOG_DIR = ROOT / "logs" / "test-servers"

RASA_START_TIMEOUT = 240.0
ACTIONS_START_TIMEOUT = 90.0
# The shared secret between the test servers: `start_action_server` requires it,
# `start_rasa` (with the repository's endpoints.yml) and `write_endpoints` send it. Not the
# development demo value, so it also works with APP_ENV=production.
ACTION_SERVER_TOKEN = "test-action-server-token-0123456789abcdef"  # noqa: S105 - a test-only value


class ServerError(RuntimeError):
    """A server did not become ready; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_model() -> Path:
    """The model the Makefile trained: env MODEL, else the newest models/*.tar.gz, else train."""
    if os.environ.get("MODEL"):
        model = Path(os.environ["MODEL"])
        model = model if model.is_absolute() else ROOT / model
        if not model.is_file() and model.parent == ROOT / "models":
            # The Makefile names the model after the content hash; train.sh makes that one.
            subprocess.run([str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True)
        if not model.is_file():
            raise FileNotFoundError(f"MODEL={model} does not exist; run `make train`")
        return model
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        subprocess.run([str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True)
        models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1]


def _log_file(name: str) -> Path:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=LOG_DIR)
    os.close(handle)
    return Path(path)


def _spawn(name: str, command: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    log = _log_file(name)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.log_path = log  # type: ignore[attr-defined]
    return proc


def _tail(proc: subprocess.Popen[bytes], lines: int = 40) -> str:
    log: Path | None = getattr(proc, "log_path", None)
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_for_http(
    url: str, proc: subprocess.Popen[bytes], timeout: float, ok: tuple[int, ...] = (200,)
) -> None:
    """Poll `url` until it answers with a status in `ok`; fail early if `proc` exits."""

    def status() -> int:
        if proc.poll() is not None:
            raise ServerError(f"{proc.args!r} exited with {proc.returncode}:\n{_tail(proc)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http only
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    try:
        eventually(status, until=lambda code: code in ok, timeout=timeout, interval=0.5,
                   what=f"an answer {ok} from {url}", ignore=(OSError,))  # fmt: skip
    except NotYet as error:
        stop(proc)
        raise ServerError(f"{error}:\n{_tail(proc)}") from None


def start_action_server(
    env: Mapping[str, str], port: int | None = None, token: str = ACTION_SERVER_TOKEN
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `python -m actions.server` (as the Procfile does), requiring `token`; returns
    (webhook URL for ACTION_SERVER_URL, process).

    The long keep-alive is the Procfile's: rasa-sdk 3.6 closes idle connections after
    5 s, racing Rasa's reuse of them.
    """
    port = port or free_port()
    env = {"SANIC_KEEP_ALIVE_TIMEOUT": "120", **env, "ACTION_SERVER_TOKEN": token}
    proc = _spawn(
        "actions",
        [sys.executable, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(port)],
        env,
    )
    wait_for_http(f"http://127.0.0.1:{port}/health", proc, ACTIONS_START_TIMEOUT)
    return f"http://127.0.0.1:{port}/webhook", proc


def start_rasa(
    model: Path | str,
    env: Mapping[str, str],
    credentials_path: Path | str,
    port: int | None = None,
    ready_path: str = "/webhooks/webchat/health",
    extra_args: tuple[str, ...] = (),
    endpoints_path: Path | str = ROOT / "endpoints.yml",
    token: str = ACTION_SERVER_TOKEN,
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `rasa run` without the HTTP API on 127.0.0.1; returns (base URL, process).

    `env` must hold what the endpoints file reads (DATABASE_URL, ACTION_SERVER_URL;
    ACTION_SERVER_TOKEN is set to `token`) and what the channels in `credentials_path`
    need (e.g. APP_ENV, WEBCHAT_SECRET). Use `write_endpoints` for an endpoints file with
    the URLs written in.
    """
    port = port or free_port()
    command = [
        str(RASA), "run", "--model", str(model), "--endpoints", str(endpoints_path),
        "--credentials", str(credentials_path), "--interface", "127.0.0.1",
        "--port", str(port), *extra_args,
    ]  # fmt: skip
    proc = _spawn("rasa", command, {**env, "ACTION_SERVER_TOKEN": token})
    base_url = f"http://127.0.0.1:{port}"
    wait_for_http(base_url + ready_path, proc, RASA_START_TIMEOUT, ok=(200, 204, 404, 405))
    return base_url, proc


def write_endpoints(
    path: Path, action_server_url: str, database_url: str, token: str = ACTION_SERVER_TOKEN
) -> Path:
    """An endpoints file like the repository's, with the URLs and the action server's
    token written in, not from env.

    Rasa expands `${VAR}` only in unquoted YAML values; a file of literal values keeps a
    test independent of that and of the developer's environment.
    """
    path.write_text(
        f"action_endpoint:\n  url: {json.dumps(action_server_url)}\n"
        f"  headers:\n    Authorization: {json.dumps('Bearer ' + token)}\n"
        f"tracker_store:\n  type: channels.tracker_store.ConversationStore\n"
        f"  url: {json.dumps(database_url)}\n"
    )
    return path


def start_webchat_page(
    server_url: str, port: int | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the demo shop page server (`python -m webchat`); returns (page URL, process)."""
    port = port or free_port()
    proc = _spawn(
        "webchat",
        [sys.executable, "-m", "webchat", "--port", str(port), "--server-url", server_url],
        {**os.environ},
    )
    wait_for_http(f"http://127.0.0.1:{port}/", proc, 30)
    return f"http://localhost:{port}/", proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Terminate the process group, then kill it if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
