"""Our configuration against the stock `rasa init` one, side by side, in one run: `make bench`.

Both models are trained here, one after the other, on the same data with the same
command (`scripts/rasa_train.py --config <cfg> --out <dir>`: `rasa train` as `make train`
runs it, without Rasa's cache), so the training
times are comparable on this machine at this moment. Then, for each model: NLU accuracy
on ../shared/eval/dev.csv with bench/nlu.py, and the load harness (bench/load.py) at 20
concurrent shoppers against the whole assistant in one Rasa process. Finally the
multi-worker figures from bench/scale.py (1 vs 2 workers on PostgreSQL + Redis) when
--scale is given. Everything is written to bench/out/report.md and report.json.

The machine is shared: the load average is recorded next to every phase, and CPU
seconds next to wall-clock training time, so a figure taken while someone else trained
can be recognised as such.

    .venv/bin/python bench/compare.py                     # train both, measure, report
    .venv/bin/python bench/compare.py --reuse             # reuse models of an earlier run
    .venv/bin/python bench/compare.py --scale             # also 1 vs 2 workers
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402 - needs ROOT on sys.path
from devkit.stack import base_env, running_stack  # noqa: E402 - needs ROOT on sys.path

OUT = ROOT / "bench" / "out"
MODELS = ROOT / "models" / "compare"
LOGS = ROOT / "logs"
CONFIGS = {"ours": ROOT / "config.yml", "stock": ROOT / "bench" / "configs" / "stock.yml"}


def train(name: str, config: Path) -> tuple[Path, dict[str, float]]:
    """Train one full model (NLU + dialogue); returns the archive and its timings."""
    out = MODELS / name
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.tar.gz"):
        old.unlink()
    log = LOGS / f"compare-train-{name}.log"
    env = base_env()  # scripts/rasa_train.py keeps no Rasa cache that could hide training cost
    command = [sys.executable, str(ROOT / "scripts" / "rasa_train.py"), "--config", str(config),
               "--data", "data", "--domain", "domain", "--out", str(out),
               "--fixed-model-name", name]  # fmt: skip
    print(f"[compare] training {name} ({config.relative_to(ROOT)}), log {log}", flush=True)
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w") as handle:
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=handle,
                              stderr=subprocess.STDOUT, check=False)  # fmt: skip
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"training {name} failed (exit {done.returncode}); see {log}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    timings = {"wall_seconds": wall, "cpu_seconds": cpu, "load_before": load_before,
               "load_after": os.getloadavg()[0]}  # fmt: skip
    print(f"[compare] {name}: {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    return out / f"{name}.tar.gz", timings


def nlu_accuracy(name: str, model: Path) -> dict[str, Any]:
    """bench/nlu.py against the model; only its JSON is read (no dev sentences here)."""
    result = OUT / f"compare-nlu-{name}.json"
    log = LOGS / f"compare-nlu-{name}.log"
    command = [
        sys.executable,
        str(ROOT / "bench" / "nlu.py"),
        "--model",
        str(model),
        "--json",
        str(result),
        "--errors",
        str(OUT / f"compare-nlu-{name}-errors.csv"),
    ]
    print(f"[compare] NLU accuracy of {name}, log {log}", flush=True)
    with log.open("w") as handle:
        done = subprocess.run(command, cwd=ROOT, env=base_env(), stdout=handle,
                              stderr=subprocess.STDOUT, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench/nlu.py failed for {name}; see {log}")
    data = json.loads(result.read_text())
    return {"accuracy": data["accuracy"], "n": data["n"],
            "parse_p50_ms": data["parse_latency"]["p50_ms"]}  # fmt: skip


def load_test(
    name: str, model: Path, shoppers: int, duration: float, options: load.Options
) -> dict[str, Any]:
    """The whole assistant in one Rasa process (SQLite, in-memory locks), N shoppers."""
    print(f"[compare] load test of {name}: {shoppers} shoppers, {duration:.0f} s", flush=True)
    with running_stack(model) as stack:
        load_before = os.getloadavg()[0]
        summary = load.measure(stack.url, shoppers, duration, None, options, name)
    summary["load_before"] = load_before
    summary["load_after"] = os.getloadavg()[0]
    return summary


def _cell(value: float, fmt: str) -> str:
    return "n/a" if value != value else format(value, fmt)  # NaN check


def report(
    results: dict[str, dict[str, Any]], scale: dict[str, Any] | None, args: argparse.Namespace
) -> str:
    """The Markdown report: one column per configuration."""
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def row(title: str, cells: list[str]) -> None:
        rows.append((title, cells))

    row(
        "training time, wall (s)",
        [_cell(results[n]["train"]["wall_seconds"], ".0f") for n in names],
    )
    row("training time, CPU (s)", [_cell(results[n]["train"]["cpu_seconds"], ".0f") for n in names])
    row(
        "load average before training",
        [_cell(results[n]["train"]["load_before"], ".1f") for n in names],
    )
    row(
        "NLU accuracy, dev set",
        [f"{results[n]['nlu']['accuracy']:.1%} (n={results[n]['nlu']['n']})" for n in names],
    )
    for key, title in (
        ("p50_ms", "turn latency p50 (ms)"),
        ("p95_ms", "turn latency p95 (ms)"),
        ("p99_ms", "turn latency p99 (ms)"),
        ("turns_per_second", "throughput (turns/s)"),
    ):
        row(
            title,
            [
                _cell(results[n]["load"][key], ".0f" if key != "turns_per_second" else ".1f")
                for n in names
            ],
        )
    row(
        "turns ok / errors / timeouts / unexpected",
        [
            f"{results[n]['load']['turns_ok']} / {results[n]['load']['errors']} / "
            f"{results[n]['load']['timeouts']} / {results[n]['load']['unexpected']}"
            for n in names
        ],
    )
    row("load average during load test", [
        f"{results[n]['load']['load_before']:.1f} -> {results[n]['load']['load_after']:.1f}"
        for n in names])  # fmt: skip
    lines = [
        "# Benchmark report",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{os.cpu_count()} CPUs by `{' '.join(['python', 'bench/compare.py', *sys.argv[1:]])}`.",
        f"Load test: {args.shoppers} concurrent shoppers over socket.io (websocket), "
        f"{args.duration:.0f} s, think time {args.think} s (uniform 0.5x-1.5x), quiet window "
        f"{args.quiet} s; one Rasa process, SQLite tracker store, in-memory lock store.",
        "",
        "| | " + " | ".join(f"{n} (`{CONFIGS[n].relative_to(ROOT)}`)" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    lines += [f"| {title} | " + " | ".join(cells) + " |" for title, cells in rows]
    lines += ["", "Per topic, p95 ms (n):", ""]
    topics = sorted({t for n in names for t in results[n]["load"]["by_topic"]})
    lines += ["| topic | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for topic in topics:
        cells = []
        for n in names:
            t = results[n]["load"]["by_topic"].get(topic, {"p95_ms": float("nan"), "n": 0})
            cells.append(f"{_cell(t['p95_ms'], '.0f')} ({t['n']})")
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets", ""] + [f"- {line}" for line in targets(results)]
    if scale is not None:
        lines += ["", "## Scale-out (PostgreSQL + Redis)", "", scale["markdown"]]
    return "\n".join(lines) + "\n"


def targets(results: dict[str, dict[str, Any]]) -> list[str]:
    """The issue's targets, each with its verdict, so nobody has to compare by eye."""
    ours, stock = results.get("ours"), results.get("stock")
    if ours is None or stock is None:
        return ["needs both configurations"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    train_s, stock_train_s = ours["train"]["wall_seconds"], stock["train"]["wall_seconds"]
    p95, stock_p95 = ours["load"]["p95_ms"], stock["load"]["p95_ms"]
    acc, stock_acc = ours["nlu"]["accuracy"], stock["nlu"]["accuracy"]
    return [
        f"training under 3 minutes: {train_s:.0f} s - {verdict(train_s < 180)}",
        f"p95 turn latency under 150 ms at {ours['load']['shoppers']} shoppers: {p95:.0f} ms"
        f" - {verdict(p95 < 150)}",
        f"NLU accuracy at least stock's: {acc:.1%} vs {stock_acc:.1%} - "
        f"{verdict(acc >= stock_acc)}",
        f"faster training than stock: {train_s:.0f} s vs {stock_train_s:.0f} s (CPU "
        f"{ours['train']['cpu_seconds']:.0f} s vs {stock['train']['cpu_seconds']:.0f} s) - "
        f"{verdict(train_s < stock_train_s)}",
        f"lower p95 than stock: {p95:.0f} ms vs {stock_p95:.0f} ms - {verdict(p95 < stock_p95)}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Train, measure, report; exit 0 even if a target is missed (the report says so)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="reuse models/compare/* if present")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=load.Options.think)
    parser.add_argument("--quiet", type=float, default=load.Options.quiet)
    parser.add_argument("--scale", action="store_true", help="also run bench/scale.py")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite report.md from report.json (and scale.json) only",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        saved = json.loads((OUT / "report.json").read_text())
        scale_file = OUT / "scale.json"
        scale_saved = saved.get("scale") or (
            json.loads(scale_file.read_text()) if scale_file.is_file() else None
        )
        text = report(saved["results"], scale_saved, args)
        (OUT / "report.md").write_text(text)
        print(text)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(exist_ok=True)
    options = load.Options(think=args.think, quiet=args.quiet)

    results: dict[str, dict[str, Any]] = {}
    models: dict[str, Path] = {}
    for name, config in CONFIGS.items():  # train both first: same conditions for both
        existing = MODELS / name / f"{name}.tar.gz"
        if args.reuse and existing.is_file():
            previous = OUT / "report.json"
            old = json.loads(previous.read_text()) if previous.is_file() else {}
            timings = old.get("results", {}).get(name, {}).get("train") or {
                "wall_seconds": float("nan"), "cpu_seconds": float("nan"),
                "load_before": float("nan"), "load_after": float("nan")}  # fmt: skip
            models[name], results[name] = existing, {"train": timings}
        else:
            models[name], timings = train(name, config)
            results[name] = {"train": timings}
    for name in CONFIGS:
        results[name]["nlu"] = nlu_accuracy(name, models[name])
    for name in CONFIGS:
        results[name]["load"] = load_test(name, models[name], args.shoppers, args.duration,
                                          options)  # fmt: skip

    scale: dict[str, Any] | None = None
    if args.scale:
        from bench import scale as scale_bench

        scale = scale_bench.run(models["ours"])
    (OUT / "report.json").write_text(
        json.dumps({"results": results, "scale": scale}, indent=2, default=str) + "\n"
    )
    text = report(results, scale, args)
    (OUT / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
