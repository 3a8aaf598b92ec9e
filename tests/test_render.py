"""Renderers: escaping, splitting, and the shape of Telegram HTML."""

import re

from bot import render
from bot.engine import Answer, Citation

TAG = re.compile(r"</?([a-z]+)[^>]*>")


def balanced(html_text: str) -> bool:
    stack = []
    for match in TAG.finditer(html_text):
        name = match.group(1)
        if match.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def test_html_escapes_knowledge_and_user_text():
    citation = Citation("Doc <b>", "Sec & co", "d:p1", "a <script> & b", ((1, 'https://x.example/?a=1&b="2"'),))
    answer = Answer(question="<i>?", kind="answer", text="1 < 2 & <b>bold</b>", citations=[citation])
    out = "".join(render.answer_html(answer, ["Doc"]))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;" in out
    assert 'href="https://x.example/?a=1&amp;b=&quot;2&quot;"' in out
    assert balanced(out)


def test_long_replies_are_split_under_the_telegram_limit_with_balanced_tags():
    blocks = [f"<b>Point {i}</b> " + "word " * 300 for i in range(20)] + ["<i>" + "x" * 9000 + "</i>"]
    messages = render.pack(blocks)
    assert len(messages) > 1
    assert all(len(m) <= render.TELEGRAM_LIMIT and balanced(m) for m in messages)
    assert "".join(messages).count("Point") == 20


def test_quotes_are_shortened_on_a_word_boundary():
    quote = render.short_quote("word " * 100, 50)
    assert len(quote) <= 51 and quote.endswith("…")


def test_json_answer_is_empty_when_not_answered():
    data = render.to_json(Answer(question="q", kind="declined", text="ignored", suggestions=["s"]))
    assert data["answer"] == "" and data["answered"] is False and data["suggestions"] == ["s"]


def test_an_opening_tag_near_the_cut_still_leaves_room_for_its_closing_tag():
    citation = Citation("", "Putin " * 2000, "d:p1", "x" * 9000, ((1, "0"),))
    answer = Answer(question="q", kind="answer", text="t", citations=[citation, citation])
    block = "<b>" + "word " * 2000 + "</b>" + "<i>" + "y " * 3000 + "</i>"
    for message in render.answer_html(answer, [""]) + render.pack([block]):
        assert len(message) <= render.TELEGRAM_LIMIT and balanced(message)
