"""The knowledge model: documents, their passages, and curated Q&A entries."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Passage:
    """One citable unit of a document: a paragraph, bullet, or table row."""

    id: str
    document: str
    section: str
    kind: str
    text: str
    sources: tuple[int, ...] = ()
    cells: tuple[tuple[str, str], ...] = ()


@dataclass
class Section:
    id: str
    title: str
    passage_ids: list[str]


@dataclass
class Document:
    id: str
    title: str
    path: str
    date: str
    publisher: str
    sources: dict[int, str]
    sections: list[Section]
    passages: list[Passage]


@dataclass(frozen=True)
class QAEntry:
    """A curated question with the ways people ask it and a cited answer."""

    id: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    cites: tuple[str, ...]
    file: str = ""
    line: int = 0


@dataclass
class KnowledgeBase:
    root: str
    documents: list[Document]
    entries: list[QAEntry]
    synonyms: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.passages: dict[str, Passage] = {p.id: p for d in self.documents for p in d.passages}
        self.document_by_id: dict[str, Document] = {d.id: d for d in self.documents}

    def sources_for(self, passage: Passage) -> dict[int, str]:
        """The passage's own source links, else its document's: every answer cites something."""
        doc = self.document_by_id[passage.document]
        if passage.sources:
            return {n: doc.sources[n] for n in passage.sources if n in doc.sources}
        return dict(doc.sources)
