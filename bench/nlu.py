"""NLU accuracy of a trained model on the evaluation set, measured like a shopper meets it.

Messages go through ``POST /model/parse`` of a real ``rasa run`` server, so the figure
includes every pipeline component, FallbackClassifier and retrieval-intent handling
exactly as served. Label rules follow ../shared/eval/README.md.

stdout shows counts only, never evaluation sentences: the people writing training data
read this output and must not see the held-out text. Misclassified sentences go to
bench/out/nlu_errors.csv (gitignored) for engineering only.

    python bench/nlu.py                       # newest models/*.tar.gz, every eval set
    NLU_EVAL_CSV=../shared/eval/dev-fi.csv python bench/nlu.py    # one set only
    python bench/nlu.py --train               # train with config.yml first
    python bench/nlu.py --config bench/configs/stock.yml --train   # compare a config
    python bench/nlu.py --url http://localhost:5005 --token T       # running server
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402 - needs ROOT on sys.path
from devkit.servers import free_port  # noqa: E402 - needs ROOT on sys.path
from devkit.waiting import NotYet, eventually  # noqa: E402 - needs ROOT on sys.path

EVAL_DIR = ROOT.parent / "shared" / "eval"
DEFAULT_DATA = Path(os.environ.get("NLU_EVAL_CSV", EVAL_DIR / "dev.csv"))
# The English set first (its figures stay the top-level ones in the JSON), then the
# Swedish, Finnish and Norwegian sets that are present.
LANGUAGE_SETS = ("dev-sv.csv", "dev-fi.csv", "dev-nb.csv")


def default_sets() -> list[Path]:
    """NLU_EVAL_CSV alone when it is set; otherwise every evaluation set present."""
    if "NLU_EVAL_CSV" in os.environ:
        return [DEFAULT_DATA]
    return [DEFAULT_DATA, *(p for name in LANGUAGE_SETS if (p := EVAL_DIR / name).exists())]


OUT_DIR = ROOT / "bench" / "out"
LOG_DIR = ROOT / "logs"
FALLBACK = "nlu_fallback"

# Predictions accepted for a gold label besides the label itself (eval README).
ACCEPTED: dict[str, frozenset[str]] = {
    "order_status": frozenset({"order_status", "track_parcel"}),
    "contact": frozenset({"contact", "human_handoff"}),
    "cancellation_fee": frozenset({"cancellation_fee", "cancel_order"}),
    "out_of_scope": frozenset({"out_of_scope", FALLBACK}),
}


def accepted(gold: str) -> frozenset[str]:
    """Predictions that count as correct for a gold label."""
    return ACCEPTED.get(gold, frozenset({gold}))


@dataclass
class Prediction:
    """What the server said about one message; the text stays out of stdout."""

    gold: str
    origin: str
    label: str
    confidence: float
    # best two real intents before FallbackClassifier, for threshold sweeps offline
    top: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def correct(self) -> bool:
        return self.label in accepted(self.gold)


def label_of(parse: dict[str, Any]) -> tuple[str, float]:
    """Predicted label: the intent, or for a retrieval intent the part after '/'."""
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    selector = parse.get("response_selector") or {}
    if name and name in (selector.get("all_retrieval_intents") or []):
        chosen = selector.get(name) or selector.get("default") or {}
        key = str((chosen.get("response") or {}).get("intent_response_key") or "")
        if "/" in key:
            return key.split("/", 1)[1], confidence
    return name, confidence


def read_eval(path: Path) -> list[dict[str, str]]:
    """Rows with text, label and origin."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("text") is not None]
    if not rows:
        raise SystemExit(f"no rows in {path}")
    return rows


def rasa_env() -> dict[str, str]:
    """Environment for rasa subprocesses: quiet, offline, deterministic, repo importable."""
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONHASHSEED", "0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def rasa_executable() -> str:
    """The rasa next to this interpreter, so the bench uses the project's venv."""
    candidate = Path(sys.executable).parent / "rasa"
    return str(candidate) if candidate.exists() else "rasa"


def newest_model(directory: Path) -> Path:
    """Most recently written model archive in a directory."""
    models = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"no model in {directory}; train one or pass --train")
    return models[-1]


def train(
    config: Path, out: Path, nlu_only: bool, use_cache: bool
) -> tuple[Path, dict[str, float]]:
    """Trains a model, logging to logs/; returns the archive and timings.

    CPU seconds are reported next to wall-clock time because the machine is shared:
    wall time grows with everyone else's load, CPU time much less.
    """
    out.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(exist_ok=True)
    log = LOG_DIR / f"bench-train-{config.stem}.log"
    # `make train`'s trainer (scripts/rasa_train.py: Rasa's cache off, nothing hashed);
    # with --use-cache Rasa's own `rasa train`, whose cache may restore components
    trainer = [sys.executable, str(ROOT / "scripts" / "rasa_train.py")]
    command = [rasa_executable(), "train"] if use_cache else trainer
    if nlu_only:
        command += ["nlu", "--nlu", "data/nlu"]
    else:
        command += ["--data", "data", "--domain", "domain"]
    command += ["--config", str(config), "--out", str(out)]
    env = rasa_env()
    print(f"training {config} -> {out} (log: {log.relative_to(ROOT)}) ...", flush=True)
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w") as handle:
        result = subprocess.run(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    timings = {
        "wall_seconds": seconds,
        "cpu_seconds": (cpu_after.ru_utime - cpu_before.ru_utime)
        + (cpu_after.ru_stime - cpu_before.ru_stime),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }
    if result.returncode != 0:
        raise SystemExit(f"rasa train failed (exit {result.returncode}); see {log}")
    model = newest_model(out)
    print(
        f"trained {model.name} in {seconds:.1f} s wall, {timings['cpu_seconds']:.1f} s CPU "
        f"(load average {load_before:.1f} -> {timings['load_average_after']:.1f})",
        flush=True,
    )
    return model, timings


@contextmanager
def rasa_server(model: Path, timeout: float) -> Iterator[tuple[str, str, int]]:
    """Runs ``rasa run --enable-api`` on a free port with a random token; stops it after.

    Empty endpoints/credentials files keep the bench independent of the action server,
    tracker database and chat channels: /model/parse needs none of them.
    """
    token = secrets.token_urlsafe(24)
    port = free_port()
    LOG_DIR.mkdir(exist_ok=True)
    log = LOG_DIR / f"bench-server-{port}.log"
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        endpoints = Path(tmp, "endpoints.yml")
        credentials = Path(tmp, "credentials.yml")
        endpoints.write_text("{}\n")
        credentials.write_text("{}\n")
        command = [
            rasa_executable(), "run", "--enable-api", f"--auth-token={token}",
            "--model", str(model), "--port", str(port), "--interface", "127.0.0.1",
            "--endpoints", str(endpoints), "--credentials", str(credentials),
        ]  # fmt: skip
        print(f"starting rasa server on port {port} (log: {log.relative_to(ROOT)}) ...")
        with log.open("w") as handle:
            process = subprocess.Popen(
                command, cwd=ROOT, env=rasa_env(), stdout=handle, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, token, process, timeout)
            yield url, token, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_ready(url: str, token: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Polls /status until the model is loaded; fails fast if the server died."""

    def loaded_model() -> str:
        if process.poll() is not None:
            raise SystemExit(f"rasa server exited with {process.returncode}; see logs/")
        reply = requests.get(f"{url}/status", params={"token": token}, timeout=2)
        return str(reply.json().get("model_file") or "") if reply.ok else ""

    try:
        eventually(
            loaded_model,
            timeout=timeout,
            interval=0.5,
            what="a loaded model on the rasa server",
            ignore=(requests.RequestException, ValueError),
        )
    except NotYet as error:
        raise SystemExit(f"{error}; see logs/") from None


_local = threading.local()


def parse(url: str, token: str, text: str) -> tuple[dict[str, Any], float]:
    """One /model/parse call on this thread's keep-alive session."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    started = time.perf_counter()
    reply = session.post(
        f"{url}/model/parse", params={"token": token}, json={"text": text}, timeout=60
    )
    seconds = time.perf_counter() - started
    # The message text is deliberately not part of the error.
    reply.raise_for_status()
    return reply.json(), seconds


def predict_all(url: str, token: str, rows: list[dict[str, str]], workers: int) -> list[Prediction]:
    """Sends every row concurrently; order of results follows the rows."""

    def one(row: dict[str, str]) -> Prediction:
        result, seconds = parse(url, token, row["text"])
        label, confidence = label_of(result)
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in result.get("intent_ranking") or []
            if r.get("name") != FALLBACK
        ][:2]
        return Prediction(row["label"], row.get("origin", ""), label, confidence, ranking, seconds)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, rows))


def sequential_latency(url: str, token: str, rows: list[dict[str, str]], n: int) -> list[float]:
    """Single-client round trips: what one chat turn's NLU costs without queueing."""
    step = max(1, len(rows) // max(1, n))
    return [parse(url, token, row["text"])[1] for row in rows[::step][:n]]


def featurizer_latency(rows: list[dict[str, str]], n: int) -> list[float]:
    """Seconds the e5 featurizer alone spends per message, one message at a time.

    In-process and without HTTP, so it isolates the cost our component adds to a turn.
    """
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message

    from components.e5 import E5Featurizer

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = E5Featurizer(E5Featurizer.get_default_config(), "e5")
    step = max(1, len(rows) // max(1, n))
    sample = [row["text"] for row in rows[::step][:n]]
    for text in sample[:10]:  # warm-up: graph tracing and allocator
        featurizer.process(tokenizer.process([Message(data={"text": text})]))
    seconds = []
    for text in sample:
        message = tokenizer.process([Message(data={"text": text})])
        started = time.perf_counter()
        featurizer.process(message)
        seconds.append(time.perf_counter() - started)
    return seconds


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of the server process (Linux /proc), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def latency_ms(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds of timings in seconds, and how many there were."""
    return {
        "p50_ms": 1000 * percentile(seconds, 50),
        "p95_ms": 1000 * percentile(seconds, 95),
        "n": len(seconds),
    }


def summarise(predictions: list[Prediction]) -> dict[str, Any]:
    """Overall and per-label accuracy plus the most frequent confusions."""
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_origin: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter[tuple[str, str]] = Counter()
    for p in predictions:
        for table, key in ((per_label, p.gold), (per_origin, p.origin)):
            table[key][0] += int(p.correct)
            table[key][1] += 1
        if not p.correct:
            confusions[(p.gold, p.label)] += 1
    correct = sum(int(p.correct) for p in predictions)
    return {
        "n": len(predictions),
        "accuracy": correct / len(predictions),
        "per_label": {
            k: {"n": n, "correct": c, "accuracy": c / n} for k, (c, n) in sorted(per_label.items())
        },
        "per_origin": {
            k: {"n": n, "correct": c, "accuracy": c / n} for k, (c, n) in sorted(per_origin.items())
        },
        "confusions": [
            {"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common()
        ],
    }


def sweep_fallback(predictions: list[Prediction]) -> list[dict[str, float]]:
    """Accuracy for other FallbackClassifier thresholds, without retraining.

    Rebuilds the decision from the two best real intents; exact for plain intents
    (retrieval intents keep their served sub-label).
    """
    results = []
    for threshold in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        for ambiguity in (0.0, 0.05, 0.1):
            correct = oos = oos_ok = 0
            for p in predictions:
                if not p.top:
                    label = p.label
                else:
                    (name, conf), second = p.top[0], (p.top[1][1] if len(p.top) > 1 else 0.0)
                    fallback = conf < threshold or conf - second < ambiguity
                    label = FALLBACK if fallback else (p.label if p.label != FALLBACK else name)
                ok = label in accepted(p.gold)
                correct += ok
                if p.gold == "out_of_scope":
                    oos += 1
                    oos_ok += ok
            results.append(
                {
                    "threshold": threshold,
                    "ambiguity_threshold": ambiguity,
                    "accuracy": correct / len(predictions),
                    "out_of_scope": oos_ok / oos if oos else float("nan"),
                }
            )
    return results


def print_report(summary: dict[str, Any], top_confusions: int, name: str = "") -> None:
    """Counts only: no evaluation sentence ever reaches stdout."""
    title = f" on {name}" if name else ""
    print(f"\naccuracy{title} {summary['accuracy']:.2%} ({summary['n']} messages)\n")
    print(f"{'label':<18}{'n':>6}{'correct':>9}{'acc':>9}")
    for label, row in summary["per_label"].items():
        print(f"{label:<18}{row['n']:>6}{row['correct']:>9}{row['accuracy']:>9.1%}")
    errors = sum(c["count"] for c in summary["confusions"])
    print(f"\ntop confusions (gold -> predicted), of {errors} errors")
    for row in summary["confusions"][:top_confusions]:
        print(f"{row['count']:>5}  {row['gold']} -> {row['predicted'] or '(none)'}")


def write_errors(path: Path, rows: list[dict[str, str]], predictions: list[Prediction]) -> None:
    """Misclassified sentences for engineering eyes only (gitignored, never training data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["gold", "predicted", "confidence", "origin", "text"])
        for row, p in zip(rows, predictions, strict=True):
            if not p.correct:
                writer.writerow([p.gold, p.label, f"{p.confidence:.3f}", p.origin, row["text"]])


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="model archive (default: newest in --out)")
    parser.add_argument("--train", action="store_true", help="train with --config first")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument(
        "--out", type=Path, help="models dir (default: models/, or models/bench/<config>)"
    )
    parser.add_argument("--nlu-only", action="store_true", help="train only the NLU model")
    parser.add_argument("--use-cache", action="store_true", help="let rasa reuse its cache")
    parser.add_argument(
        "--data",
        type=Path,
        nargs="+",
        default=None,
        help="evaluation csv files (default: NLU_EVAL_CSV, or dev.csv and each dev-<lang>.csv)",
    )
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--token", default="", help="auth token of the --url server")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-sample", type=int, default=100)
    parser.add_argument(
        "--featurizer-latency",
        type=int,
        default=0,
        metavar="N",
        help="also time the e5 featurizer in-process on N messages",
    )
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    parser.add_argument("--top-confusions", type=int, default=15)
    parser.add_argument("--sweep-fallback", action="store_true")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "nlu.json")
    parser.add_argument("--errors", type=Path, default=OUT_DIR / "nlu_errors.csv")
    parser.add_argument("--min-accuracy", type=float, default=0.0, help="fail below this")
    args = parser.parse_args(argv)

    config = args.config.resolve()
    default_out = ROOT / "models"
    if config != ROOT / "config.yml":
        default_out = default_out / "bench" / config.stem
    out = args.out or default_out
    sets = list(args.data or default_sets())
    rows_of = {path: read_eval(path) for path in sets}
    rows = rows_of[sets[0]]
    train_timings: dict[str, float] | None = None
    model = args.model
    if args.train:
        model, train_timings = train(config, out.resolve(), args.nlu_only, args.use_cache)
    elif model is None and not args.url:
        model = newest_model(out)

    def run_all(url: str, token: str) -> tuple[dict[Path, list[Prediction]], list[float]]:
        predicted = {path: predict_all(url, token, rows_of[path], args.workers) for path in sets}
        # Latency over a sample of every set: the languages tokenize differently.
        sample = max(1, args.latency_sample // len(sets))
        timed = [t for path in sets for t in sequential_latency(url, token, rows_of[path], sample)]
        return predicted, timed

    started = time.monotonic()
    server_rss_mb: float | None = None
    if args.url:
        predicted, latencies = run_all(args.url.rstrip("/"), args.token)
    else:
        assert model is not None
        with rasa_server(model, args.startup_timeout) as (url, token, pid):
            started = time.monotonic()
            predicted, latencies = run_all(url, token)
            server_rss_mb = peak_rss_mb(pid)
    eval_seconds = time.monotonic() - started

    summaries = {path.name: summarise(predicted[path]) for path in sets}
    for path in sets:
        print_report(summaries[path.name], args.top_confusions, path.name)
    predictions = predicted[sets[0]]
    summary = summaries[sets[0].name]
    latency = latency_ms(latencies)
    if len(sets) > 1:
        print("\nsummary")
        for name, each in summaries.items():
            print(f"  {name:<14}{each['n']:>6}{each['accuracy']:>9.2%}")
    requests_sent = sum(len(r) for r in rows_of.values())
    print(
        f"\n/model/parse single-client latency p50 {latency['p50_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms; {requests_sent} requests in {eval_seconds:.1f} s"
    )
    if server_rss_mb is not None:
        print(f"rasa server peak RSS {server_rss_mb:.0f} MB")
    if train_timings is not None:
        print(
            f"training time {train_timings['wall_seconds']:.1f} s wall, "
            f"{train_timings['cpu_seconds']:.1f} s CPU"
        )
    result: dict[str, Any] = {
        "model": str(model) if model else None,
        "url": args.url,
        "config": str(config) if args.train else None,
        "data": str(sets[0]),
        "sets": summaries,
        "nlu_only": bool(args.train and args.nlu_only),
        "train": train_timings,
        "load_average": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "eval_seconds": eval_seconds,
        "parse_latency": latency,
        "server_peak_rss_mb": server_rss_mb,
        **summary,
    }
    if args.featurizer_latency:
        timed = featurizer_latency(rows, args.featurizer_latency)
        result["featurizer_latency"] = latency_ms(timed)
        print(
            f"e5 featurizer in-process p50 {result['featurizer_latency']['p50_ms']:.1f} ms, "
            f"p95 {result['featurizer_latency']['p95_ms']:.1f} ms ({len(timed)} messages)"
        )
    if args.sweep_fallback:
        sweep = sweep_fallback(predictions)
        result["fallback_sweep"] = sweep
        print("\nfallback sweep (threshold, ambiguity: accuracy, out_of_scope)")
        for row in sweep:
            print(
                f"  {row['threshold']:.2f} {row['ambiguity_threshold']:.2f}: "
                f"{row['accuracy']:.2%} {row['out_of_scope']:.0%}"
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    # Raw predictions (labels and scores only) let configs be compared offline.
    args.json.with_suffix(".predictions.json").write_text(
        json.dumps([asdict(p) for p in predictions]) + "\n"
    )
    write_errors(
        args.errors,
        [row for path in sets for row in rows_of[path]],
        [p for path in sets for p in predicted[path]],
    )
    print(f"results: {args.json}")
    worst = min(each["accuracy"] for each in summaries.values())
    return 0 if worst >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
