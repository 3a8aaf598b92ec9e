"""Split a plain-text document into sections and citable passages.

Documents arrive as delivered: headings are plain lines without a final
period (some truncated), bullets start with "- ", tables were flattened into
running text, and inline markers like ``[[1]](https://...)`` cite sources.
A document may start with a small YAML front-matter header (between ``---``
lines) giving its title, date, publisher, and the header cells of any
flattened tables so their rows can be recovered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from bot.model import Document, Passage, Section

MAX_HEADING_WORDS = 12
INTRO_SECTION_TITLE = "Introduction"
_CITATION = re.compile(r"\[\[(\d+)\]\]\((\S+?)\)")
_BULLET = re.compile(r"^\s*[-*•]\s+")
_SENTENCE_END = tuple(".!?:;\"')]”’")
# A table cell never ends on one of these, so a capital after them is a name
# inside the cell ("EU and China"), not the start of the next cell.
_JOINING_WORDS = frozenset("a an and & at by for from in of on or the to vs with".split())


class DocumentError(ValueError):
    """The document cannot be read; carries the 1-based line of the fault."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


@dataclass
class _Builder:
    doc_id: str
    sections: list[Section] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    sources: dict[int, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def open_section(self, title: str) -> None:
        self.sections.append(Section(id=f"{self.doc_id}:s{len(self.sections)}", title=title, passage_ids=[]))

    def add(self, kind: str, prefix: str, raw: str, **extra) -> None:
        text, sources = self._strip_citations(raw)
        if not text:
            return
        if not self.sections:
            self.open_section(INTRO_SECTION_TITLE)
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        passage = Passage(
            id=f"{self.doc_id}:{prefix}{self.counters[prefix]}",
            document=self.doc_id,
            section=self.sections[-1].title,
            kind=kind,
            text=text,
            sources=sources,
            **extra,
        )
        self.passages.append(passage)
        self.sections[-1].passage_ids.append(passage.id)

    def _strip_citations(self, raw: str) -> tuple[str, tuple[int, ...]]:
        found: list[int] = []
        for match in _CITATION.finditer(raw):
            n = int(match.group(1))
            self.sources.setdefault(n, match.group(2))
            if n not in found:
                found.append(n)
        text = re.sub(r"\s+", " ", _CITATION.sub("", raw)).strip()
        text = re.sub(r"\s+([.,;:])", r"\1", text)
        return text, tuple(found)


def split_front_matter(text: str) -> tuple[dict, str, int]:
    """Return (metadata, body, number of header lines)."""
    if not text.startswith("---\n"):
        return {}, text, 0
    end = text.find("\n---\n", 4)
    if end < 0:
        raise DocumentError("front matter starts with '---' but has no closing '---' line")
    header = text[4:end]
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DocumentError(f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}", (mark.line + 2) if mark else 1)
    if not isinstance(meta, dict):
        raise DocumentError("front matter must be a mapping of fields such as 'title:'", 2)
    return meta, text[end + 5 :], header.count("\n") + 2


def is_heading(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= MAX_HEADING_WORDS
        and not _BULLET.match(line)
        and not line.rstrip().endswith(_SENTENCE_END)
        and not _CITATION.search(line)
        and any(ch.isalpha() for ch in line)
    )


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def split_cells(text: str) -> list[str]:
    """Recover the cells of a flattened table from capitalisation.

    A cell starts at a capitalised word that follows an ordinary lower-case
    word ("zones Stabilizes"), or that follows a Title Case cell and is itself
    followed by a lower-case word ("Check-Ins Improved communication").
    Acronyms (NATO) and names after joining words ("and China") stay inside.
    """
    words = text.split()
    cells: list[list[str]] = []
    for i, word in enumerate(words):
        starts = i == 0
        if i > 0 and _is_capitalised(word):
            prev = words[i - 1]
            nxt = words[i + 1] if i + 1 < len(words) else ""
            after_plain_word = prev[:1].islower() and prev.lower() not in _JOINING_WORDS
            after_title_cell = _is_capitalised(prev) and nxt[:1].islower() and nxt.lower() not in _JOINING_WORDS
            starts = after_plain_word or after_title_cell
        if starts or not cells:
            cells.append([word])
        else:
            cells[-1].append(word)
    return [" ".join(c) for c in cells]


def _add_table(b: _Builder, header: list[str], body: str, table_no: int) -> None:
    cells = split_cells(body)
    width = len(header)
    rows, rest = cells[: len(cells) - len(cells) % width], cells[len(cells) - len(cells) % width :]
    for r in range(0, len(rows), width):
        row = rows[r : r + width]
        text = " ".join(f"{h}: {c.rstrip('.')}." for h, c in zip(header, row))
        b.add("table_row", f"t{table_no}r", text, cells=tuple(zip(header, row)))
    if rest:  # a heading that was flattened onto the end of the table
        trailing = " ".join(rest)
        if is_heading(trailing):
            b.open_section(trailing)
        else:
            b.add("paragraph", "p", trailing)


def _find_table(line: str, tables: list[list[str]]) -> tuple[int, int, list[str]] | None:
    for header in tables:
        pattern = r"\s+".join(re.escape(word) for word in " ".join(header).split())
        match = re.search(pattern, line)
        if match:
            return match.start(), match.end(), header
    return None


def parse_document(doc_id: str, text: str, path: str = "", fallback_title: str = "") -> Document:
    meta, body, header_lines = split_front_matter(text)
    tables = [list(map(str, t)) for t in meta.get("tables", []) if isinstance(t, list) and len(t) >= 2]
    b = _Builder(doc_id)
    table_no = 0
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        found = _find_table(line, tables)
        if found:
            start, end, header = found
            if line[:start].strip():
                b.add("paragraph", "p", line[:start])
            table_no += 1
            _add_table(b, header, line[end:], table_no)
        elif _BULLET.match(line):
            b.add("bullet", "b", _BULLET.sub("", line))
        elif is_heading(line):
            b.open_section(line)
        else:
            b.add("paragraph", "p", line)
    if not b.passages:
        raise DocumentError("the document has no text to answer from (it is empty or only headings)", header_lines + 1)
    return Document(
        id=doc_id,
        title=str(meta.get("title") or fallback_title or doc_id),
        path=path,
        date=str(meta.get("date", "") or ""),
        publisher=str(meta.get("publisher", "") or ""),
        sources=dict(sorted(b.sources.items())),
        sections=[s for s in b.sections if s.passage_ids],
        passages=b.passages,
    )
