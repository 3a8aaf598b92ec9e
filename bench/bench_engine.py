"""Benchmark the answer engine on the seed knowledge base and synthetic ones.

    python bench/bench_engine.py            # seed, 1k, 10k, 100k entries
    python bench/bench_engine.py --sizes 1000 --questions 200

For each knowledge base it prints index build time, peak memory of the build
(tracemalloc), and per-question latency p50/p99 of Engine.answer, next to a
naive baseline measured in the same run: rapidfuzz.process.extractOne over
every curated question.  Ratios are baseline / engine (higher is better).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import process  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.model import Document, KnowledgeBase, Passage, QAEntry, Section  # noqa: E402

SEED_QUESTIONS = [
    "What does the Kremlin want from the summit?",
    "stalemate",
    "wat are the recomendations",
    "Who hosts the leaders' dinner?",
    "How does Trump negotiate?",
    "What is the capital of France?",
    "détente",
    "Is Zelensky attending?",
]


def synthetic_kb(entries: int, seed: int = 7) -> KnowledgeBase:
    """A knowledge base of `entries` curated entries over pseudo-words with a Zipf-like spread."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(20_000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]

    def sentence(n: int) -> str:
        return " ".join(rng.choices(vocab, weights=weights, k=n))

    passages = [Passage(id=f"syn:p{i}", document="syn", section="S", kind="paragraph", text=sentence(25) + ".") for i in range(max(entries // 10, 1))]
    doc = Document("syn", "Synthetic", "", "", "", {1: "https://example.org/"}, [Section("syn:s0", "S", [p.id for p in passages])], passages)
    qa = [
        QAEntry(
            id=f"e{i}",
            question=sentence(rng.randint(5, 9)) + "?",
            alternates=(sentence(4), sentence(3)),
            answer=sentence(20) + ".",
            cites=(passages[i % len(passages)].id,),
        )
        for i in range(entries)
    ]
    return KnowledgeBase(root="synthetic", documents=[doc], entries=qa, synonyms={})


def questions_for(kb: KnowledgeBase, count: int, seed: int = 11) -> list[str]:
    if kb.root != "synthetic":
        return (SEED_QUESTIONS * (count // len(SEED_QUESTIONS) + 1))[:count]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = rng.choice(kb.entries).question.rstrip("?").split()
        rng.shuffle(words)
        if rng.random() < 0.5:  # a typo
            w = rng.randrange(len(words))
            words[w] = words[w][:-1]
        out.append(" ".join(words[: rng.randint(2, len(words))]))
    return out


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(name: str, kb: KnowledgeBase, n_questions: int) -> dict:
    start = time.perf_counter()
    engine = Engine(kb)
    build_s = time.perf_counter() - start
    del engine
    tracemalloc.start()  # a second build, traced: tracing slows Python down, so it is not timed
    engine = Engine(kb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    questions = questions_for(kb, n_questions)
    all_questions = [e.question for e in kb.entries]
    engine.answer(questions[0])  # warm caches
    ours = timed(engine.answer, questions)
    naive = timed(lambda q: process.extractOne(q, all_questions), questions)
    return {
        "kb": name,
        "entries": len(kb.entries),
        "build_s": build_s,
        "peak_mb": peak / 2**20,
        "p50": statistics.median(ours),
        "p99": percentile(ours, 99),
        "naive_p50": statistics.median(naive),
        "naive_p99": percentile(naive, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()
    rows = [measure("seed", load_knowledge(), args.questions)]
    for size in args.sizes:
        rows.append(measure(f"synthetic {size // 1000}k", synthetic_kb(size), args.questions))
    print("| knowledge base | entries | build (s) | peak build memory (MB) | p50 (ms) | p99 (ms) | naive p50 (ms) | naive p99 (ms) | p99 speed-up vs naive |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kb']} | {r['entries']} | {r['build_s']:.2f} | {r['peak_mb']:.1f} | {r['p50']:.2f} | {r['p99']:.2f} "
            f"| {r['naive_p50']:.2f} | {r['naive_p99']:.2f} | {r['naive_p99'] / r['p99']:.1f}× |"
        )


if __name__ == "__main__":
    main()
