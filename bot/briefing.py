"""Briefings and daily summaries built from the knowledge base itself.

Because they are derived from the passages, they change when the knowledge
changes; every point is the document's own words, cited by passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.model import Document, KnowledgeBase, Passage

OVERVIEW_SENTENCES = 2
POINT_CHARS = 240
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"'])")


@dataclass(frozen=True)
class Point:
    text: str
    passage: Passage


@dataclass(frozen=True)
class SectionBrief:
    id: str
    title: str
    points: list[Point]
    table_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Briefing:
    document: Document
    overview: Point
    sections: list[SectionBrief]


def _first_sentences(text: str, count: int) -> str:
    return " ".join(_SENTENCE.split(text)[:count])


def point_for(passage: Passage) -> Point:
    """One readable line per passage: a table row as "cell — cell", a paragraph by its lead sentence."""
    if passage.cells:
        text = " — ".join(cell for _, cell in passage.cells)
    elif passage.kind == "bullet":
        text = passage.text
    else:
        text = _first_sentences(passage.text, 1)
    if len(text) > POINT_CHARS:
        text = text[:POINT_CHARS].rsplit(" ", 1)[0] + "…"
    return Point(text, passage)


def brief_document(kb: KnowledgeBase, doc: Document, max_points: int | None = None) -> Briefing:
    lead = doc.passages[0]
    overview = Point(_first_sentences(lead.text, OVERVIEW_SENTENCES), lead)
    sections = []
    for section in doc.sections:
        passages = [kb.passages[pid] for pid in section.passage_ids if pid != lead.id]
        if not passages:
            continue
        columns = next((tuple(h for h, _ in p.cells) for p in passages if p.cells), ())
        rows = [p for p in passages if p.cells]
        others = [p for p in passages if not p.cells]
        chosen = (others[:max_points] + rows) if max_points else passages
        sections.append(SectionBrief(section.id, section.title, [point_for(p) for p in chosen], columns))
    return Briefing(doc, overview, sections)


def briefings(kb: KnowledgeBase, max_points: int | None = None) -> list[Briefing]:
    return [brief_document(kb, doc, max_points) for doc in kb.documents]


def section_brief(kb: KnowledgeBase, section_id: str) -> SectionBrief | None:
    for doc in kb.documents:
        for brief in brief_document(kb, doc).sections:
            if brief.id == section_id:
                return brief
    return None
