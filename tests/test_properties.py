"""Property-based: any text a user or a document can contain never breaks the engine or the renderers."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.engine import Answer, Citation
from bot.ingest import DocumentError, parse_document
from tests.telegram_html import problems

NASTY = [
    "",
    "\u200b\u200d\u2060",  # zero-width
    "مرحبا ما هو هدف بوتين؟",  # right-to-left
    "שלום \u202e reversed \u202c",
    "👩‍👩‍👧‍👦🇺🇦🇷🇺 summit?",
    "\x00\x01\x07\x1b[31mred\x7f",
    "<b>bold</b> <script>alert(1)</script> &amp; &lt; & <",
    "*bold* _it_ [link](http://x) `code` ```block```",
    "/start /ask@docs_test_bot /broadcast",
    "Putin " * 2000,
    "x" * 10_000,
]
texts = st.one_of(st.sampled_from(NASTY), st.text(max_size=300), st.text(min_size=1000, max_size=12_000))
CONTRACT = {"question": str, "answered": bool, "answer": str, "confidence": float, "citations": list, "suggestions": list}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FAST
@given(question=texts)
def test_any_question_yields_a_well_formed_answer(engine, question):
    answer = engine.answer(question)
    assert answer.kind in {"answer", "declined", "greeting", "thanks", "help", "empty", "too_long"}
    assert 0.0 <= answer.confidence <= 1.0
    data = json.loads(json.dumps(render.to_json(answer)))
    assert all(isinstance(data[k], t) for k, t in CONTRACT.items())
    assert (data["answer"] != "") == data["answered"]
    assert len(data["suggestions"]) <= 3


@FAST
@given(question=texts)
def test_every_reply_is_valid_telegram_html_within_the_limit(engine, question):
    for message in render.answer_html(engine.answer(question), ["Doc <&>"]):
        assert len(message) <= render.TELEGRAM_LIMIT
        assert problems(message) == []


@FAST
@given(text=texts, section=texts, quote=texts, url=st.text(max_size=200))
def test_knowledge_text_with_markup_renders_as_valid_html(text, section, quote, url):
    citation = Citation(document=text[:100], section=section, passage="d:p1", quote=quote, sources=((1, url),))
    answer = Answer(question="q", kind="answer", text=text or "t", citations=[citation, citation])
    messages = render.answer_html(answer, [text])
    assert all(len(m) <= render.TELEGRAM_LIMIT and problems(m) == [] for m in messages)


@FAST
@given(blocks=st.lists(texts, min_size=1, max_size=8))
def test_packing_keeps_every_character_and_stays_valid(blocks):
    html_blocks = [f"<b>{render.esc(b)}</b>" for b in blocks]
    messages = render.pack(html_blocks)
    assert all(len(m) <= render.TELEGRAM_LIMIT and problems(m) == [] for m in messages)
    squash = lambda s: "".join(s.split())  # noqa: E731
    assert squash("".join(messages).replace("<b>", "").replace("</b>", "")) == squash("".join(render.esc(b) for b in blocks))


@FAST
@given(document=texts)
def test_any_document_text_parses_or_is_refused_clearly(document):
    try:
        doc = parse_document("d", document)
    except DocumentError as exc:
        assert str(exc) and exc.line >= 1
        return
    assert doc.passages and all(p.text for p in doc.passages)
