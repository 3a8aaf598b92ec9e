"""Turn engine answers into words: JSON, terminal text, and Telegram HTML.

Everything that comes from the knowledge base or the user is escaped here,
once, so handlers can send the result as-is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bot.briefing import Briefing, Point, SectionBrief
from bot.engine import Answer, Citation
from bot.model import Document

TELEGRAM_LIMIT = 4096
QUOTE_CHARS = 220
TITLE_CHARS = 120

DECLINED = "I couldn't find that in the documents I know, so I won't guess."
EMPTY = "Please type a question, for example: What does Putin want from the summit?"
TOO_LONG = "That message is too long for me to read as one question. Please ask something shorter (under 1,000 characters)."
GREETING = "Hello! I answer questions about {topics}, and I show where each answer comes from."
THANKS = "You're welcome! Ask me anything else about {topics}."
HELP = (
    "Ask me a question in plain words about {topics}. I answer only from the documents, "
    "and every answer shows the section and passage it comes from, with the article's own source links."
)


def topics_phrase(titles: Iterable[str]) -> str:
    titles = [f"“{t}”" for t in titles]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def message(answer: Answer, titles: Iterable[str]) -> str:
    """The plain-text reply for an answer that is not from the documents."""
    topics = topics_phrase(titles)
    return {
        "answer": answer.text,
        "declined": DECLINED,
        "empty": EMPTY,
        "too_long": TOO_LONG,
        "greeting": GREETING.format(topics=topics),
        "thanks": THANKS.format(topics=topics),
        "help": HELP.format(topics=topics),
    }[answer.kind]


def short_quote(text: str, limit: int = QUOTE_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


# ---------------------------------------------------------------- JSON


def to_json(answer: Answer) -> dict:
    """The stable contract of `python -m bot ask --json`."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer.text if answer.answered else "",
        "confidence": round(float(answer.confidence), 4),
        "citations": [
            {
                "document": c.document,
                "section": c.section,
                "passage": c.passage,
                "quote": c.quote,
                "sources": [{"n": n, "url": url} for n, url in c.sources],
            }
            for c in answer.citations
        ],
        "suggestions": list(answer.suggestions),
        "kind": answer.kind,
    }


# ---------------------------------------------------------------- terminal


def citation_lines(i: int, c: Citation) -> list[str]:
    lines = [f"  [{i}] {c.document} › {c.section}  ({c.passage})", f"      “{short_quote(c.quote)}”"]
    lines += [f"      source [{n}] {url}" for n, url in c.sources]
    return lines


def to_console(answer: Answer, titles: Iterable[str]) -> str:
    lines = [message(answer, titles)]
    if answer.citations:
        lines += ["", "Sources:"]
        for i, c in enumerate(answer.citations, 1):
            lines += citation_lines(i, c)
    if answer.suggestions:
        lines += ["", "Did you mean:" if answer.kind == "declined" else "You could ask:"]
        lines += [f"  - {s}" for s in answer.suggestions]
    return "\n".join(lines)


# ---------------------------------------------------------------- Telegram HTML


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def html_footnote(i: int, c: Citation) -> str:
    links = " ".join(f'<a href="{html.escape(url)}">[{n}]</a>' for n, url in c.sources)
    head = f"<b>[{i}]</b> {esc(short_quote(c.document, TITLE_CHARS))} › <i>{esc(short_quote(c.section, TITLE_CHARS))}</i>"
    return f"{head}\n“{esc(short_quote(c.quote))}”" + (f"\nSources: {links}" if links else "")


def answer_html(answer: Answer, titles: Iterable[str]) -> list[str]:
    """The answer and its numbered footnotes, as Telegram messages."""
    body = esc(message(answer, titles))
    if answer.citations:
        marks = "".join(f"[{i}]" for i in range(1, len(answer.citations) + 1))
        body = f"{body} {marks}"
    blocks = [body] + [html_footnote(i, c) for i, c in enumerate(answer.citations, 1)]
    if answer.kind == "declined" and answer.suggestions:
        blocks.append("<i>Did you mean one of these?</i>")
    return pack(blocks)


_TOKEN = re.compile(r"(<[^>]+>|&[#\w]+;|\s+|[^<&\s]+)")


def _closing(open_tags: list[str]) -> str:
    return "".join(f"</{t.split()[0].strip('<>')}>" for t in reversed(open_tags))


def _tags_after(open_tags: list[str], token: str) -> list[str]:
    if token.startswith("</"):
        return open_tags[:-1]
    if token.startswith("<") and not token.endswith("/>"):
        return open_tags + [token]
    return open_tags


def _hard_split(block: str, limit: int) -> list[str]:
    """Cut one oversized HTML block at whitespace, closing and reopening tags."""
    pieces: list[str] = []
    current, open_tags = "", []
    for token in _TOKEN.findall(block):
        after = _tags_after(open_tags, token)
        if len(current) + len(token) + len(_closing(after)) > limit and current.strip():
            pieces.append(current + _closing(open_tags))
            current = "".join(open_tags)
        closing = _closing(open_tags)
        while len(token) > limit - len(current) - len(closing) - 1:  # a single enormous word
            room = max(limit - len(current) - len(closing) - 1, 1)
            pieces.append(current + token[:room] + closing)
            current, token = "".join(open_tags), token[room:]
        current += token
        open_tags = after
    if current.strip():
        pieces.append(current)
    return pieces


def pack(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join blocks with blank lines into as few messages as fit Telegram's limit."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _hard_split(block, limit) if len(block) > limit else [block]:
            joined = f"{current}\n\n{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


# ---------------------------------------------------------------- briefings


def _sources_line(sources: dict[int, str]) -> str:
    links = " ".join(f'<a href="{html.escape(url)}">[{n}]</a>' for n, url in sorted(sources.items()))
    return f"Sources: {links}" if links else ""


def _point_line(point: Point) -> str:
    return f"• {esc(point.text)} <i>[{esc(point.passage.id.split(':')[-1])}]</i>"


def section_html(section: SectionBrief) -> str:
    """A section's key points; each point is the document's own words, cited by passage id."""
    rows = [p for p in section.points if p.passage.cells]
    lines = [f"<b>{esc(section.title)}</b>"] + [_point_line(p) for p in section.points if not p.passage.cells]
    if rows:
        lines.append(f"<i>{esc(' — '.join(section.table_columns))}:</i>")
        lines += [_point_line(p) for p in rows]
    return "\n".join(lines)


def briefing_html(briefings: list[Briefing], heading: str = "Briefing") -> list[str]:
    blocks = []
    for brief in briefings:
        doc = brief.document
        blocks.append(f"<b>{esc(heading)}: {esc(doc.title)}</b>\n{esc(brief.overview.text)} <i>[{esc(brief.overview.passage.id.split(':')[-1])}]</i>")
        blocks += [section_html(s) for s in brief.sections]
        footer = _sources_line(doc.sources)
        blocks.append(f"<i>Points cite passages of “{esc(doc.title)}” by id (see /topics).</i>" + (f"\n{footer}" if footer else ""))
    return pack(blocks)


def daily_summary_html(briefings: list[Briefing]) -> str:
    """The daily summary is always one message, so a delivery is one send."""
    messages = briefing_html(briefings, heading="Daily summary")
    if len(messages) == 1:
        return messages[0]
    return _hard_split(messages[0], TELEGRAM_LIMIT - 40)[0] + "\n…\n<i>Full briefing: /brief</i>"


def sources_html(documents: list[Document]) -> str:
    blocks = []
    for doc in documents:
        lines = [f"<b>{esc(doc.title)}</b>"]
        lines += [f'[{n}] <a href="{html.escape(url)}">{esc(url)}</a>' for n, url in sorted(doc.sources.items())]
        if not doc.sources:
            lines.append("<i>This document cites no external sources.</i>")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
