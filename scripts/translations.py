"""Translations of the assistant's responses: export a staging file, import it, check.

Every response in domain/*.yml keeps English as its unconditioned variations; each other
language is a conditional variation of the same response, placed after the English ones:

    utter_greet:
      - text: "Hello! What can I do for you?"
      - condition: [{type: slot, name: language, value: sv}]
        text: "Hej! Vad kan jag hjälpa dig med?"

Rasa picks the variation whose condition matches the `language` slot and falls back to
English. This script is how a language gets there (and how a designer adds one):

    python scripts/translations.py export da > da.yml   # English texts of what lacks da
    (a translator replaces the texts and button titles in da.yml)
    python scripts/translations.py import da da.yml     # into domain/*.yml
    python scripts/translations.py check                # every language complete?

The staging format (one entry per English variation, in order) is a YAML mapping of
response name to a list of `{text, buttons?: [{title, payload}], condition?}`. The import
writes text into the domain files rather than re-dumping them, so comments, key order and
the files' style stay as they are: a long text becomes a `>-` folded block like the
English ones, a short one a double-quoted line. It refuses an entry whose `{placeholders}`
or button payloads differ from the English variation's (a wrong placeholder would show
"{order_ref}" to a shopper; a wrong payload would break the conversation) and skips
responses that already have the language. Exit code 1 whenever something is wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "domain"
#: The languages every response must have besides English (`check`'s default).
LANGUAGES: tuple[str, ...] = ("sv", "fi", "nb")
LANGUAGE_SLOT = "language"
#: Lines of the domain files are kept within this width when a text is folded.
WIDTH = 100
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLAIN_SCALAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}

Variation = dict[str, Any]


@dataclass
class Response:
    """One response of the domain and the file it lives in."""

    name: str
    file: Path
    variations: list[Variation]

    def english(self) -> list[Variation]:
        return [v for v in self.variations if language_of(v) is None]

    def in_language(self, language: str) -> list[Variation]:
        return [v for v in self.variations if language_of(v) == language]


@dataclass
class ImportReport:
    """What an import did: responses written, skipped (already there) and refused."""

    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- reading the domain ----------------------------------------------------------------------


def language_of(variation: Variation) -> str | None:
    """The language a variation is for (its `language` slot condition), None for English."""
    for condition in variation.get("condition") or []:
        if isinstance(condition, dict) and condition.get("name") == LANGUAGE_SLOT:
            return str(condition.get("value"))
    return None


def domain_files(domain: Path) -> list[Path]:
    return sorted(domain.glob("*.yml")) if domain.is_dir() else [domain]


def load_responses(domain: Path) -> dict[str, Response]:
    """Every response of the domain folder, in file and key order."""
    responses: dict[str, Response] = {}
    for file in domain_files(domain):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            responses[name] = Response(name, file, list(variations or []))
    return responses


def languages_in(responses: Iterable[Response]) -> set[str]:
    """Every language some variation of the domain is written in (English excluded)."""
    return {lang for r in responses for v in r.variations if (lang := language_of(v)) is not None}


def placeholders(variation: Variation) -> set[str]:
    return set(PLACEHOLDER.findall(str(variation.get("text") or "")))


def payloads(variation: Variation) -> list[Any]:
    return [b.get("payload") for b in variation.get("buttons") or [] if isinstance(b, dict)]


# --- check -----------------------------------------------------------------------------------


def check(domain: Path, languages: Sequence[str]) -> list[str]:
    """Problems of the domain's translations, one line each; empty when all is well.

    A translation is compared with the English variation in the same position; when the
    counts differ (a language may say something in fewer ways), with any English one.
    """
    problems: list[str] = []
    for response in load_responses(domain).values():
        english = response.english()
        where = f"{response.name} ({response.file.name})"
        if not english:
            problems.append(f"{where}: no English (unconditioned) variation")
            continue
        for language in languages:
            translated = response.in_language(language)
            if not translated:
                problems.append(f"{where}: no {language} variation")
                continue
            for index, variation in enumerate(translated):
                candidates = [english[index]] if len(translated) == len(english) else list(english)
                if not any(placeholders(variation) == placeholders(e) for e in candidates):
                    problems.append(
                        f"{where}: {language} placeholders {sorted(placeholders(variation))}"
                        f" differ from English {sorted(placeholders(candidates[0]))}"
                    )
                if not any(payloads(variation) == payloads(e) for e in candidates):
                    problems.append(
                        f"{where}: {language} button payloads {payloads(variation)}"
                        f" differ from English {payloads(candidates[0])}"
                    )
    return problems


# --- export ----------------------------------------------------------------------------------


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


def flow(value: Any) -> str:
    """A value in YAML flow style, for conditions: `[{type: slot, name: language, ...}]`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    plain = PLAIN_SCALAR.match(text) and text.lower() not in YAML_WORDS
    return text if plain else quoted(text)


def block(value: Any, indent: int) -> list[str]:
    """Any other key of a variation (metadata and the like), in YAML's block style."""
    dumped = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=WIDTH)
    return [" " * indent + line for line in dumped.splitlines()]


def staging_entry(english: Variation) -> Variation:
    """What a translator gets for one English variation: the text and button titles to
    translate, and everything else to copy."""
    entry: Variation = {}
    if english.get("condition"):
        entry["condition"] = english["condition"]
    entry["text"] = english.get("text", "")
    if english.get("buttons"):
        entry["buttons"] = [dict(b) for b in english["buttons"]]
    for key, value in english.items():
        entry.setdefault(key, value)
    return entry


def export(domain: Path, language: str) -> str:
    """A staging file with the English text of every response that lacks `language`."""
    lines = [
        f"# {language}: translations of every response in domain/*.yml that has none yet,",
        "# keyed by response name; one entry per English variation, same order and count.",
        "# Translate `text` and button `title`s; keep {placeholders}, URLs, numbers, payloads",
        "# and every other key unchanged. Import: python scripts/translations.py import "
        f"{language} FILE",
    ]
    current: Path | None = None
    for response in load_responses(domain).values():
        if response.in_language(language) or not response.english():
            continue
        if response.file != current:
            current = response.file
            lines += ["", f"# --- {current.name} " + "-" * max(3, 80 - len(current.name))]
        lines.append(f"{response.name}:")
        for variation in response.english():
            lines += variation_lines(staging_entry(variation), indent=2, fold=False)
    return "\n".join(lines) + "\n"


# --- import ----------------------------------------------------------------------------------


def folded(text: str, indent: int) -> list[str] | None:
    """`text` as the lines of a `>-` block at `indent`, or None where folding cannot
    represent it exactly (line breaks, runs of spaces, edge spaces)."""
    if "\n" in text or "\t" in text or "  " in text or text != text.strip() or not text:
        return None
    width = max(40, WIDTH - indent)
    wrapped = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    return [" " * indent + line for line in wrapped]


def variation_lines(variation: Variation, indent: int, fold: bool = True) -> list[str]:
    """One variation as list item lines (`- ...`) at `indent`, keys in the domain's order:
    condition, text, buttons, the rest."""
    pad, inner = " " * indent, " " * (indent + 2)
    rows: list[str] = []
    ordered = ["condition", "text", "buttons"] + [
        k for k in variation if k not in ("condition", "text", "buttons")
    ]
    for key in ordered:
        if key not in variation:
            continue
        value = variation[key]
        head = f"{key}:"
        if key == "condition":
            rows.append(f"{head} {flow(value)}")
        elif key == "text":
            text = str(value)
            one_line = f"{inner}text: {quoted(text)}"
            lines = folded(text, indent + 4) if fold and len(one_line) > WIDTH else None
            rows += (
                ["text: >-", *(line[len(inner) :] for line in lines)]
                if lines
                else [f"text: {quoted(text)}"]
            )
        elif key == "buttons":
            rows.append("buttons:")
            for button in value:
                items = list(button.items())
                for position, (name, content) in enumerate(items):
                    lead = "  - " if position == 0 else "    "
                    rows.append(f"{lead}{name}: {quoted(str(content))}")
        elif isinstance(value, dict | list):
            rows.append(head)
            rows += [line[len(inner) :] for line in block(value, indent + 4)]
        else:
            rows.append(f"{head} {flow(value)}")
    return [(pad + "- " if i == 0 else inner) + row for i, row in enumerate(rows)]


def translated_variation(english: Variation, staged: Any, language: str) -> Variation:
    """The domain variation for one staged entry: English's keys, the translated text and
    titles, and the language condition. Raises ValueError when the entry does not fit."""
    if not isinstance(staged, dict) or not isinstance(staged.get("text"), str):
        raise ValueError("an entry needs a text")
    text = staged["text"].strip()
    if not text:
        raise ValueError("the text is empty")
    if placeholders(staged) != placeholders(english):
        raise ValueError(
            f"placeholders {sorted(placeholders(staged))} differ from English "
            f"{sorted(placeholders(english))}"
        )
    if payloads(staged) != payloads(english):
        raise ValueError(
            f"button payloads {payloads(staged)} differ from English {payloads(english)}"
        )
    condition = list(english.get("condition") or [])
    if "condition" in staged and list(staged["condition"] or []) != condition:
        raise ValueError("its condition differs from the English variation's")
    for key, value in staged.items():
        if key not in ("text", "buttons", "condition") and english.get(key) != value:
            raise ValueError(f"'{key}' differs from the English variation's")
    result: Variation = {
        "condition": [*condition, {"type": "slot", "name": LANGUAGE_SLOT, "value": language}],
        "text": text,
    }
    if english.get("buttons"):
        buttons = []
        for original, translated in zip(english["buttons"], staged["buttons"], strict=True):
            title = translated.get("title") if isinstance(translated, dict) else None
            if not isinstance(title, str) or not title.strip():
                raise ValueError("a button has no title")
            buttons.append({**original, "title": title.strip()})
        result["buttons"] = buttons
    for key, value in english.items():
        result.setdefault(key, value)
    return result


def response_end(lines: list[str], name: str) -> tuple[int, int]:
    """(line index after the response's last variation, indent of its `- ` items)."""
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if re.match(rf"^(\s+){re.escape(name)}:\s*(#.*)?$", line)
            and _inside_responses(lines, i)
        ),
        None,
    )
    if start is None:
        raise ValueError(f"{name} not found as a block under responses:")
    key_indent = len(lines[start]) - len(lines[start].lstrip())
    end, item_indent = start + 1, None
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped and indent <= key_indent:
            break
        if item_indent is None and stripped.startswith("- "):
            item_indent = indent
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    if item_indent is None:
        raise ValueError(f"{name} has no block list of variations")
    return end, item_indent


def _inside_responses(lines: list[str], index: int) -> bool:
    """Whether line `index` is under the file's top-level `responses:` key."""
    for line in reversed(lines[:index]):
        if line and not line[0].isspace() and not line.startswith("#"):
            return line.split(":", 1)[0].strip() == "responses"
    return False


def import_translations(domain: Path, language: str, staged: dict[str, Any]) -> ImportReport:
    """Insert the staged translations as conditional variations after each response's
    English ones (files rewritten only where something was added)."""
    report = ImportReport()
    responses = load_responses(domain)
    unknown = sorted(set(staged) - set(responses))
    report.problems += [f"{name}: no such response in the domain" for name in unknown]
    by_file: dict[Path, list[tuple[Response, list[Variation]]]] = {}
    for response in responses.values():
        if response.name not in staged:
            if not response.in_language(language) and response.english():
                report.missing.append(response.name)
            continue
        if response.in_language(language):
            report.skipped.append(response.name)
            continue
        english, entries = response.english(), staged[response.name]
        try:
            if not isinstance(entries, list) or len(entries) != len(english):
                count = len(entries) if isinstance(entries, list) else 0
                raise ValueError(f"{count} entries for {len(english)} English variations")
            new = [
                translated_variation(e, s, language) for e, s in zip(english, entries, strict=True)
            ]
        except (ValueError, TypeError, AttributeError) as error:
            report.problems.append(f"{response.name}: {error}")
            continue
        by_file.setdefault(response.file, []).append((response, new))
    for file, additions in by_file.items():
        lines = file.read_text(encoding="utf-8").splitlines()
        # From the bottom up, so that earlier insertion points stay where they are.
        for response, new in sorted(
            additions, key=lambda a: response_end(lines, a[0].name)[0], reverse=True
        ):
            end, item_indent = response_end(lines, response.name)
            lines[end:end] = [row for v in new for row in variation_lines(v, item_indent)]
        text = "\n".join(lines) + "\n"
        written = (yaml.safe_load(text) or {}).get("responses") or {}
        for response, new in additions:  # what Rasa will read is exactly what was meant
            if written.get(response.name) != response.variations + new:
                raise RuntimeError(f"{file.name}: {response.name} would not read back as meant")
        file.write_text(text, encoding="utf-8")
        report.imported += [response.name for response, _ in additions]
    return report


# --- command line ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/translations.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--domain", type=Path, default=DOMAIN, help="default %(default)s")
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="staging file of what lacks LANG")
    exporting.add_argument("language", metavar="LANG")
    exporting.add_argument("--out", type=Path, help="write here instead of to stdout")
    importing = commands.add_parser("import", help="insert a staging file into the domain")
    importing.add_argument("language", metavar="LANG")
    importing.add_argument("file", type=Path, metavar="FILE")
    checking = commands.add_parser("check", help="missing languages, placeholders, payloads")
    checking.add_argument(
        "--languages",
        help=f"comma-separated (default: {','.join(LANGUAGES)} and any other in the domain)",
    )
    args = parser.parse_args(argv)

    if args.command == "export":
        skeleton = export(args.domain, args.language)
        if args.out:
            args.out.write_text(skeleton, encoding="utf-8")
        else:
            sys.stdout.write(skeleton)
        return 0

    if args.command == "import":
        staged = yaml.safe_load(args.file.read_text(encoding="utf-8")) or {}
        if not isinstance(staged, dict):
            print(f"{args.file}: not a mapping of response names", file=sys.stderr)
            return 1
        report = import_translations(args.domain, args.language, staged)
        print(
            f"{args.language}: imported {len(report.imported)}, already there "
            f"{len(report.skipped)}, refused {len(report.problems)}, "
            f"not in the file {len(report.missing)}"
        )
        for name in report.missing:
            print(f"  not in {args.file.name}: {name}")
        for problem in report.problems:
            print(f"  refused: {problem}")
        return 1 if report.problems else 0

    responses = load_responses(args.domain)
    languages = (
        [code.strip() for code in args.languages.split(",") if code.strip()]
        if args.languages
        else sorted(set(LANGUAGES) | languages_in(responses.values()))
    )
    problems = check(args.domain, languages)
    for problem in problems:
        print(problem)
    verdict = f"{len(problems)} problem(s)" if problems else "complete"
    print(f"{len(responses)} responses, languages en {' '.join(languages)}: {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
