"""`python -m retention` as cron runs it: configuration, exit codes, the summary line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from retention.cli import main
from retention.clock import cutoff_for, utc_now
from retention.guard import run_lock
from tests.retention.retention_support import (
    DAY,
    ROOT,
    Store,
    conversation,
    reference_stats,
    run_cli,
    summary_of,
)

SUMMARY_KEYS = {
    "status",
    "dry_run",
    "database",
    "days",
    "cutoff",
    "events_deleted",
    "conversations_deleted",
    "conversations_trimmed",
    "agent_conversations_kept",
    "days_rolled_up",
    "first_day_rolled_up",
    "last_day_rolled_up",
    "days_already_rolled_up",
    "batches",
    "batch_size",
    "index_created",
    "guard",
    "agent",
    "seconds",
}


def cutoff() -> float:
    return cutoff_for(utc_now(), 90).timestamp()


def seed(store: Store) -> int:
    """Two old conversations, one straddling, one new; returns the number of old events."""
    c = cutoff()
    store.add_all(
        [
            ("old-1", conversation("plain", c - 10 * DAY)),
            ("old-2", conversation("handover", c - 2 * DAY)),
            ("straddle", conversation("fallback", c - 5)),
            ("new", conversation("plain", c + DAY)),
        ]
    )
    return sum(r["timestamp"] < c for r in store.rows)


def test_summary_line_and_exit_code(sqlite_store: Store) -> None:
    old = seed(sqlite_store)
    proc = run_cli("--db-url", sqlite_store.url, "--batch-size", "4")
    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc)
    assert set(summary) == SUMMARY_KEYS
    assert summary["status"] == "ok"
    assert summary["events_deleted"] == old
    assert (summary["conversations_deleted"], summary["conversations_trimmed"]) == (2, 1)
    assert summary["days_rolled_up"] == 3
    assert summary["batches"] == -(-old // 4)
    assert summary["cutoff"].endswith("T00:00:00+00:00")
    assert summary["guard"] == "file_lock"


def test_dry_run_from_the_command_line(sqlite_store: Store) -> None:
    old = seed(sqlite_store)
    before = sqlite_store.dump()
    proc = run_cli("--db-url", sqlite_store.url, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert summary_of(proc)["events_deleted"] == old
    assert sqlite_store.dump() == before


def write_endpoints(directory: Path, body: str) -> Path:
    path = directory / "endpoints.yml"
    path.write_text(body, encoding="utf-8")
    return path


def test_reads_endpoints_with_environment_variables(sqlite_store: Store, tmp_path: Path) -> None:
    seed(sqlite_store)
    write_endpoints(tmp_path, "tracker_store:\n  type: SQL\n  url: ${DATABASE_URL}\n")
    proc = run_cli(env={"DATABASE_URL": sqlite_store.url}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert summary_of(proc)["events_deleted"] > 0
    assert proc.stderr == ""  # a clean run leaves cron nothing to mail


def test_reads_the_general_sql_form(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_store)
    db = sqlite_store.engine.url.database
    endpoints = write_endpoints(
        tmp_path, f"tracker_store:\n  type: sql\n  dialect: sqlite\n  db: {db}\n"
    )
    assert main(["--endpoints", str(endpoints)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["database"], summary["conversations_deleted"]) == ("sqlite", 2)


BAD_CONFIGURATIONS = [
    ("tracker_store:\n  type: SQL\n  url: ${RETENTION_TEST_UNSET}\n", "RETENTION_TEST_UNSET"),
    ("tracker_store:\n  type: redis\n  url: localhost\n", "only the SQL tracker store"),
    ("action_endpoint:\n  url: http://localhost:5055/webhook\n", "no tracker_store"),
    ("tracker_store:\n  type: SQL\n  url: sqlite:///does/not/exist.db\n", "not found"),
    ("tracker_store:\n  type: SQL\n  url: nosuchdialect://x/y\n", "cannot use database URL"),
    (None, "endpoints file not found"),
]


def test_bad_configuration_exits_2_as_a_process(tmp_path: Path) -> None:
    write_endpoints(tmp_path, BAD_CONFIGURATIONS[0][0] or "")
    proc = run_cli(cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "RETENTION_TEST_UNSET" in proc.stderr
    summary = summary_of(proc)
    assert summary == {
        "status": "error",
        "error": "configuration",
        "message": summary["message"],
        "exit_code": 2,
    }
    assert "Warning" not in proc.stderr  # cron mails stay readable


@pytest.mark.parametrize(("endpoints", "message"), BAD_CONFIGURATIONS)
def test_bad_configuration_exits_2(
    tmp_path: Path,
    endpoints: str | None,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETENTION_TEST_UNSET", raising=False)
    if endpoints is not None:
        write_endpoints(tmp_path, endpoints)
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert json.loads(out)["error"] == "configuration"
    assert not (tmp_path / "does").exists()


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    target = tmp_path / "typo.db"
    assert main(["--db-url", f"sqlite:///{target}"]) == 2
    assert not target.exists()


def test_database_without_events_table_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "other.db"
    sqlite3.connect(target).close()
    assert main(["--db-url", f"sqlite:///{target}"]) == 2
    assert "'events' table" in capsys.readouterr().err


def test_unreachable_postgres_exits_3() -> None:
    proc = run_cli("--db-url", "postgresql://postgres@127.0.0.1:1/none", timeout=30)
    assert proc.returncode == 3, proc.stderr
    assert summary_of(proc)["error"] == "database"


def test_bad_arguments_exit_2_as_a_process() -> None:
    proc = run_cli("--days", "0")
    assert proc.returncode == 2
    assert "--days" in proc.stderr


@pytest.mark.parametrize("args", [["--days", "0"], ["--batch-size", "-5"], ["--nope"]])
def test_bad_arguments_exit_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2


def test_held_lock_exits_4_and_deletes_nothing(store: Store) -> None:
    seed(store)
    before = store.dump()
    with run_lock(store.engine):
        proc = run_cli("--db-url", store.url)
    assert proc.returncode == 4, proc.stderr
    assert summary_of(proc)["error"] == "locked"
    assert store.dump() == before


def test_two_concurrent_runs(store: Store) -> None:
    """Two processes started together: each day once, nothing new deleted, one or both ran."""
    c = cutoff()
    store.add_all(
        [
            (
                f"c{i}",
                conversation(["plain", "fallback", "handover"][i % 3], c + (i - 60) * DAY / 4),
            )
            for i in range(90)
        ]
    )
    expected = reference_stats(store.rows, before=c)
    kept = sorted((r["sender_id"], r["timestamp"]) for r in store.rows if r["timestamp"] >= c)
    env = {"PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "retention", "--db-url", store.url, "--batch-size", "25"]
    procs = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 4]), results
    assert store.stats() == expected
    assert sorted((s, t) for s, _ty, t, _d in store.events()) == kept
