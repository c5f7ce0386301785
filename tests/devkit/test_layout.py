"""What tests and benchmarks share lives in devkit/: neither imports the other, and devkit
imports neither (nor pytest, so a benchmark never skips instead of failing)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Top-level module names each Python file under `folder` imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [("bench", {"tests"}), ("tests", {"bench"}), ("devkit", {"tests", "bench", "pytest"})],
)
def test_folder_does_not_import(folder: str, forbidden: set[str]) -> None:
    offenders = {f: n & forbidden for f, n in imported_modules(folder).items() if n & forbidden}
    assert not offenders
