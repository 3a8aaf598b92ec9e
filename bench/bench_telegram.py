"""Load and broadcast benchmarks: the real bot process against the fake Bot API on 127.0.0.1.

    python bench/bench_telegram.py load --users 1000 --questions 5 --rate 30
    python bench/bench_telegram.py load --users 1000 --questions 5 --rate 100000
    python bench/bench_telegram.py load --users 1000 --questions 5 --rate 100000 --pace 100
    python bench/bench_telegram.py broadcast --subscribers 10000 --rate 30
    python bench/bench_telegram.py broadcast --subscribers 10000 --rate 100000

`load` pushes users x questions private messages as updates, and measures
updates handled per second, reply latency p50/p99 (update queued -> reply
received by the fake server), the bot process's peak memory (VmHWM), and
whether every reply is the engine's answer for its question.  `broadcast`
subscribes N chats, runs /broadcast, and measures messages per second as a
fraction of the rate limit, loss and duplicates.  A raised --rate measures
the bot's own overhead instead of Telegram's limit.
"""

from __future__ import annotations

import argparse
import html
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.botproc import ADMIN, start_bot, stop_bot, wait_until  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def eval_questions() -> list[str]:
    data = yaml.safe_load((ROOT / "tests" / "eval_questions.yaml").read_text(encoding="utf-8"))
    return [q.rsplit("|", 1)[0].strip() for q in data["answerable"]] + list(data["unanswerable"])


def load(users: int, per_user: int, rate: float, pace: float) -> None:
    engine = Engine(load_knowledge())
    pool = eval_questions()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as fake:
        proc = start_bot(fake, Path(tmp), BOT_SEND_RATE=str(rate), BOT_LOG_LEVEL="WARNING")
        try:
            wait_until(lambda: fake.sent(method="setMyCommands"))
            asked: dict[int, list[tuple[str, float]]] = {}
            start = time.monotonic()
            for round_no in range(per_user):
                for user in range(1, users + 1):
                    question = rng.choice(pool)
                    asked.setdefault(user, []).append((question, time.monotonic()))
                    fake.message(user, question)
                    if pace:  # questions per second arriving; 0 = all at once
                        time.sleep(1 / pace)
            total = users * per_user
            wait_until(lambda: fake.delivered >= total, timeout=3600)
            elapsed = time.monotonic() - start
            memory = peak_rss_mb(proc.pid)
        finally:
            stop_bot(proc)
        replies: dict[int, list] = {}
        for call in fake.calls:
            if call.method == "sendMessage" and call.status == 200:
                replies.setdefault(call.params["chat_id"], []).append(call)
        latencies, wrong = [], 0
        for user, questions in asked.items():
            got = replies.get(user, [])
            # Replies to one user can overtake each other (updates run concurrently): match by content.
            expected = [html.escape(engine_text(engine, q), quote=False)[:60] for q, _ in questions]
            for (question, sent_at), want in zip(questions, expected):
                match = next((c for c in got if want in c.params["text"]), None)
                if match is None:
                    wrong += 1
                    continue
                got.remove(match)
                latencies.append((match.at - sent_at) * 1000)
    print("| users × questions | arrival (q/s) | rate limit (msg/s) | updates/s | reply p50 (ms) | reply p99 (ms) | bot peak RSS (MB) | correct replies |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {users} × {per_user} | {pace or 'all at once'} | {rate:g} | {total / elapsed:.0f} | {statistics.median(latencies):.0f} | {percentile(latencies, 99):.0f} "
        f"| {memory:.0f} | {total - wrong}/{total} |"
    )


def engine_text(engine: Engine, question: str) -> str:
    from bot import render

    answer = engine.answer(question)
    return render.message(answer, [d.title for d in engine.kb.documents])


def broadcast(subscribers: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as fake:
        store = Store(Path(tmp) / "bot.sqlite3")
        chats = list(range(1_000_000, 1_000_000 + subscribers))
        for chat_id in chats:
            store.subscribe(chat_id, "private", "08:00", "UTC")
        store.close()
        proc = start_bot(fake, Path(tmp), BOT_SEND_RATE=str(rate), BOT_LOG_LEVEL="WARNING")
        try:
            wait_until(lambda: fake.sent(method="setMyCommands"))
            fake.message(ADMIN, "/broadcast")
            wait_until(lambda: fake.delivered >= 1)
            wait_until(lambda: any("Broadcast done" in p.get("text", "") for p in fake.sent(ADMIN, "editMessageText")), timeout=3600)
        finally:
            stop_bot(proc)
        wanted = set(chats)
        times = [c.at for c in fake.calls if c.method == "sendMessage" and c.status == 200 and c.params["chat_id"] in wanted]
        counts: dict[int, int] = {}
        for c in fake.calls:
            if c.method == "sendMessage" and c.status == 200 and c.params["chat_id"] in wanted:
                counts[c.params["chat_id"]] = counts.get(c.params["chat_id"], 0) + 1
    elapsed = max(times) - min(times)
    achieved = (len(times) - 1) / elapsed if elapsed else float("inf")
    lost = len(wanted - set(counts))
    dupes = sum(n - 1 for n in counts.values())
    print("| subscribers | rate limit (msg/s) | achieved (msg/s) | fraction of limit | lost | duplicates |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {subscribers} | {rate:g} | {achieved:.1f} | {achieved / rate:.1%} | {lost} | {dupes} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("load")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--questions", type=int, default=5)
    p.add_argument("--rate", type=float, default=30)
    p.add_argument("--pace", type=float, default=0, help="questions arriving per second (0: all at once)")
    b = sub.add_parser("broadcast")
    b.add_argument("--subscribers", type=int, default=10_000)
    b.add_argument("--rate", type=float, default=30)
    args = parser.parse_args()
    if args.what == "load":
        load(args.users, args.questions, args.rate, args.pace)
    else:
        broadcast(args.subscribers, args.rate)


if __name__ == "__main__":
    main()
