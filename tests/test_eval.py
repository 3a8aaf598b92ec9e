"""Answer quality on the evaluation set in eval_questions.yaml.

Run with `python -m pytest tests/test_eval.py -s` to see the figures.
"""

from pathlib import Path

import yaml

EVAL = yaml.safe_load((Path(__file__).parent / "eval_questions.yaml").read_text(encoding="utf-8"))
MIN_IN_SCOPE_ACCURACY = 0.93
MIN_DECLINE_RATE = 0.93


def _answerable():
    for item in EVAL["answerable"]:
        question, passages = item.rsplit("|", 1)
        yield question.strip(), {f"alaska-summit-article:{p}" for p in passages.split()}


def test_evaluation_set_is_big_and_varied():
    assert len(EVAL["answerable"]) >= 100
    assert len(EVAL["unanswerable"]) >= 30


def test_in_scope_accuracy(engine):
    misses = []
    total = 0
    for question, expected in _answerable():
        total += 1
        answer = engine.answer(question)
        if not (answer.answered and expected & {c.passage for c in answer.citations}):
            misses.append((question, answer.entry_id or answer.kind))
    accuracy = 1 - len(misses) / total
    print(f"\nin-scope accuracy: {accuracy:.1%} ({total - len(misses)}/{total}); misses: {misses}")
    assert accuracy >= MIN_IN_SCOPE_ACCURACY


def test_out_of_scope_decline_rate(engine):
    questions = EVAL["unanswerable"]
    wrongly = [(q, engine.answer(q).entry_id) for q in questions if engine.answer(q).answered]
    rate = 1 - len(wrongly) / len(questions)
    print(f"\nout-of-scope decline rate: {rate:.1%} ({len(questions) - len(wrongly)}/{len(questions)}); answered: {wrongly}")
    assert rate >= MIN_DECLINE_RATE
