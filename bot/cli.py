"""Command line: run the bot, chat in the console, ask, build, check."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot import render
from bot.engine import DEFAULT_MIN_CONFIDENCE, Engine
from bot.knowledge import DEFAULT_KB_DIR, KnowledgeError, load_knowledge

NO_TOKEN_CONSOLE = (
    "No TELEGRAM_BOT_TOKEN is set, so this is a local console chat over the bundled knowledge.\n"
    "To put the bot on Telegram: get a token from @BotFather, put TELEGRAM_BOT_TOKEN=... in .env, and run `python -m bot` again."
)
NO_TOKEN_NO_TTY = (
    "error: TELEGRAM_BOT_TOKEN is not set. Put TELEGRAM_BOT_TOKEN=<token from @BotFather> in .env "
    "(see .env.example), or run `python -m bot chat` in a terminal to try it locally."
)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kb", metavar="DIR", default=argparse.SUPPRESS, help="knowledge directory (default: the bundled knowledge/)")
    common.add_argument("--threshold", type=float, default=argparse.SUPPRESS, help=f"minimum confidence to answer (default {DEFAULT_MIN_CONFIDENCE})")
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", parents=[common], help="start the Telegram bot (the default when a token is set)")
    sub.add_parser("chat", parents=[common], help="chat with the knowledge base in this terminal")
    ask = sub.add_parser("ask", parents=[common], help="answer one question ('-' reads one per line from stdin)")
    ask.add_argument("--json", action="store_true", help="print JSON objects instead of text")
    ask.add_argument("question", nargs="+", help="the question, or '-' for stdin")
    sub.add_parser("build", parents=[common], help="re-split the documents into passages and list their ids")
    sub.add_parser("check", parents=[common], help="validate the knowledge directory; exits non-zero on any problem")
    return parser


def load_engine(kb_dir: str | None, threshold: float | None = None) -> Engine:
    kb = load_knowledge(kb_dir)
    return Engine(kb, min_confidence=DEFAULT_MIN_CONFIDENCE if threshold is None else threshold)


def _titles(engine: Engine) -> list[str]:
    return [d.title for d in engine.kb.documents]


def cmd_ask(engine: Engine, question: list[str], as_json: bool) -> int:
    if question == ["-"]:
        for line in sys.stdin:
            answer = engine.answer(line.rstrip("\n"))
            print(json.dumps(render.to_json(answer), ensure_ascii=False) if as_json else render.to_console(answer, _titles(engine)), flush=True)
        return 0
    answer = engine.answer(" ".join(question))
    print(json.dumps(render.to_json(answer), ensure_ascii=False, indent=2) if as_json else render.to_console(answer, _titles(engine)))
    return 0


def cmd_chat(engine: Engine) -> int:
    titles = _titles(engine)
    print(f"Ask about {render.topics_phrase(titles)}. Type /quit (or Ctrl-D) to leave.\n")
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip().lower() in ("/quit", "/exit", "quit", "exit"):
            return 0
        print(render.to_console(engine.answer(line), titles) + "\n")


def cmd_build(kb_dir: str | None) -> int:
    kb = load_knowledge(kb_dir, rebuild=True)
    for doc in kb.documents:
        print(f"{doc.title}  ({doc.path}: {len(doc.passages)} passages, {len(doc.sources)} sources)")
        for section in doc.sections:
            print(f"  § {section.title}")
            for pid in section.passage_ids:
                print(f"    {pid:32} {render.short_quote(kb.passages[pid].text, 70)}")
    return 0


def cmd_check(kb_dir: str | None) -> int:
    kb = load_knowledge(kb_dir)
    cited = {c for e in kb.entries for c in e.cites}
    uncited = [pid for pid in kb.passages if pid not in cited]
    print(
        f"OK: {len(kb.documents)} document(s), {len(kb.passages)} passages, "
        f"{len(kb.entries)} curated entries, {len(kb.synonyms)} synonym groups."
    )
    if uncited and kb.entries:
        print(f"note: {len(uncited)} passage(s) have no curated entry and are answered from their text: {', '.join(uncited)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    kb_dir = getattr(args, "kb", None) or os.environ.get("BOT_KNOWLEDGE_DIR") or str(DEFAULT_KB_DIR)
    threshold = getattr(args, "threshold", None)
    if kb_dir and not Path(kb_dir).is_dir():
        print(f"error: knowledge directory '{kb_dir}' does not exist; pass --kb DIR with sources/ inside.", file=sys.stderr)
        return 2
    try:
        if args.command == "check":
            return cmd_check(kb_dir)
        if args.command == "build":
            return cmd_build(kb_dir)
        if args.command in (None, "run"):
            return _run(args.command, kb_dir, threshold)
        engine = load_engine(kb_dir, threshold)
        if args.command == "ask":
            return cmd_ask(engine, args.question, args.json)
        return cmd_chat(engine)
    except KnowledgeError as exc:
        print(f"The knowledge base has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1


def _run(command: str | None, kb_dir: str, threshold: float | None) -> int:
    from bot.config import ConfigError, load_settings

    if not os.environ.get("TELEGRAM_BOT_TOKEN") and not _dotenv_has_token():
        if command is None and sys.stdin.isatty():
            print(NO_TOKEN_CONSOLE + "\n")
            return cmd_chat(load_engine(kb_dir, threshold))
        print(NO_TOKEN_NO_TTY, file=sys.stderr)
        return 2
    try:
        settings = load_settings(knowledge_dir=kb_dir if kb_dir != str(DEFAULT_KB_DIR) else None, min_confidence=threshold)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from bot.telegram_app import run

    return run(settings)


def _dotenv_has_token() -> bool:
    from bot.config import read_dotenv

    return bool(read_dotenv().get("TELEGRAM_BOT_TOKEN"))
