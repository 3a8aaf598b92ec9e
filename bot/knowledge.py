"""Load and validate a knowledge directory: sources/, qa/*.yaml, synonyms.yaml.

Every fault is collected as a Problem with its file and line, so
``python -m bot check`` can list them all at once and a running bot can
refuse a broken reload with a message a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from bot.ingest import DocumentError, parse_document
from bot.model import Document, KnowledgeBase, Passage, QAEntry, Section

DEFAULT_KB_DIR = Path(__file__).resolve().parent.parent / "knowledge"
INDEX_DIR_NAME = ".index"
INDEX_FORMAT = 1
SOURCE_SUFFIXES = (".txt", ".md")
ENTRY_FIELDS = {"id": str, "question": str, "alternates": list, "answer": str, "cites": list}
REQUIRED_FIELDS = ("id", "question", "answer", "cites")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge directory has problems; str() lists each with file:line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- documents


def _title_from_name(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ").strip().title()


def _read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(shown, 0, f"cannot read the file ({exc.strerror}); check its permissions"))
        return None
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"))
        return None


def _document_from_cache(data: dict) -> Document:
    sections = [Section(**s) for s in data.pop("sections")]
    passages = [Passage(**{**p, "sources": tuple(p["sources"]), "cells": tuple(map(tuple, p["cells"]))}) for p in data.pop("passages")]
    data["sources"] = {int(n): url for n, url in data["sources"].items()}
    return Document(**data, sections=sections, passages=passages)


class _IndexCache:
    """The derived passage index, rebuilt for any source whose bytes changed."""

    def __init__(self, root: Path):
        self.path = root / INDEX_DIR_NAME / "documents.json"
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = stored["documents"] if stored.get("format") == INDEX_FORMAT else {}
        except (OSError, ValueError, KeyError, TypeError):
            self.entries = {}
        self.dirty = False

    def get(self, name: str, digest: str) -> Document | None:
        cached = self.entries.get(name)
        if cached and cached.get("sha256") == digest:
            try:
                return _document_from_cache(dict(cached["document"]))
            except (KeyError, TypeError, ValueError):
                return None
        return None

    def put(self, name: str, digest: str, doc: Document) -> None:
        self.entries[name] = {"sha256": digest, "document": asdict(doc)}
        self.dirty = True

    def save(self, force: bool = False) -> None:
        """Best effort: a read-only knowledge directory still loads, just unparsed each time."""
        if not (self.dirty or force):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"format": INDEX_FORMAT, "documents": self.entries}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass


def load_documents(root: Path, problems: list[Problem], rebuild: bool = False) -> list[Document]:
    source_dir = root / "sources"
    shown_dir = _relative(source_dir, root)
    if not source_dir.is_dir():
        problems.append(Problem(shown_dir, 0, "missing 'sources/' folder; put the documents (.txt or .md) there"))
        return []
    files = sorted(p for p in source_dir.iterdir() if p.suffix in SOURCE_SUFFIXES and p.is_file())
    if not files:
        problems.append(Problem(shown_dir, 0, "no documents (.txt or .md files) in 'sources/'"))
        return []
    cache = _IndexCache(root)
    documents = []
    for path in files:
        shown = _relative(path, root)
        text = _read_text(path, shown, problems)
        if text is None:
            continue
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        doc = None if rebuild else cache.get(path.name, digest)
        if doc is None:
            try:
                doc = parse_document(path.stem, text, path=shown, fallback_title=_title_from_name(path))
            except DocumentError as exc:
                problems.append(Problem(shown, exc.line, str(exc)))
                continue
            cache.put(path.name, digest, doc)
        documents.append(doc)
    cache.save(force=rebuild)
    return documents


# ---------------------------------------------------------------- YAML with lines


class _Lined(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line = 0
    key_lines: dict
    duplicates: list  # (key, line) of keys written twice; YAML would silently keep the last


def _plain(node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        out = _Lined()
        out.line, out.key_lines, out.duplicates = node.start_mark.line + 1, {}, []
        for key_node, value_node in node.value:
            key = _plain(key_node)
            if key in out:
                out.duplicates.append((key, key_node.start_mark.line + 1))
            out[key] = _plain(value_node)
            out.key_lines.setdefault(key, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n) for n in node.value]
    return _SCALARS.construct_object(node)


_SCALARS = yaml.SafeLoader("")


def read_yaml(path: Path, shown: str, problems: list[Problem]):
    text = _read_text(path, shown, problems)
    if text is None:
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(shown, mark.line + 1 if mark else 1, f"invalid YAML: {problem}"))
        return None
    return None if node is None else _plain(node)


# ---------------------------------------------------------------- curated Q&A


def _entry_problems(item, shown: str, line: int) -> list[Problem]:
    if not isinstance(item, _Lined):
        return [Problem(shown, line, "each entry must be a mapping with id, question, alternates, answer, cites")]
    found = [Problem(shown, line, f"field '{key}' is given twice in one entry") for key, line in item.duplicates]
    for key in item:
        if key not in ENTRY_FIELDS:
            found.append(Problem(shown, item.key_lines[key], f"unknown field '{key}' (allowed: {', '.join(ENTRY_FIELDS)})"))
    for key in REQUIRED_FIELDS:
        if key not in item:
            found.append(Problem(shown, item.line, f"entry is missing '{key}'"))
    for key, kind in ENTRY_FIELDS.items():
        if key in item and not isinstance(item[key], kind):
            found.append(Problem(shown, item.key_lines[key], f"'{key}' must be a {'list' if kind is list else 'string'}"))
    for key in ("alternates", "cites"):
        if isinstance(item.get(key), list) and not all(isinstance(v, str) and v.strip() for v in item[key]):
            found.append(Problem(shown, item.key_lines[key], f"every item of '{key}' must be a non-empty string"))
    for key in ("id", "question", "answer"):
        if isinstance(item.get(key), str) and not item[key].strip():
            found.append(Problem(shown, item.key_lines[key], f"'{key}' is empty"))
    if isinstance(item.get("cites"), list) and not item["cites"]:
        found.append(Problem(shown, item.key_lines["cites"], "'cites' is empty: every answer must cite a passage"))
    return found


def load_entries(root: Path, passages: set[str], problems: list[Problem]) -> list[QAEntry]:
    qa_dir = root / "qa"
    if not qa_dir.is_dir():
        return []
    entries: list[QAEntry] = []
    seen: dict[str, str] = {}
    for path in sorted(qa_dir.glob("*.y*ml")):
        shown = _relative(path, root)
        data = read_yaml(path, shown, problems)
        if data is None:
            continue
        if not isinstance(data, _Lined) or not isinstance(data.get("entries"), list):
            problems.append(Problem(shown, getattr(data, "line", 1), "the file must be a mapping with an 'entries:' list"))
            continue
        for item in data["entries"]:
            line = getattr(item, "line", data.key_lines["entries"])
            found = _entry_problems(item, shown, line)
            problems.extend(found)
            if found:
                continue
            entry_id = item["id"].strip()
            if entry_id in seen:
                problems.append(Problem(shown, item.key_lines["id"], f"duplicate id '{entry_id}' (first defined at {seen[entry_id]})"))
                continue
            seen[entry_id] = f"{shown}:{item.key_lines['id']}"
            missing = [c for c in item["cites"] if c not in passages]
            for cite in missing:
                problems.append(Problem(shown, item.key_lines["cites"], f"cites unknown passage '{cite}' (see `python -m bot build` for ids)"))
            if missing:
                continue
            entries.append(
                QAEntry(
                    id=entry_id,
                    question=item["question"].strip(),
                    alternates=tuple(a.strip() for a in item.get("alternates", [])),
                    answer=" ".join(item["answer"].split()),
                    cites=tuple(item["cites"]),
                    file=shown,
                    line=item.line,
                )
            )
    return entries


def load_synonyms(root: Path, problems: list[Problem]) -> dict[str, list[str]]:
    path = root / "synonyms.yaml"
    if not path.exists():
        return {}
    shown = _relative(path, root)
    data = read_yaml(path, shown, problems)
    if data is None:
        return {}
    if not isinstance(data, _Lined):
        problems.append(Problem(shown, 1, "synonyms must be a mapping: canonical word -> list of variants"))
        return {}
    for key, line in data.duplicates:
        problems.append(Problem(shown, line, f"'{key}' is defined twice (first at line {data.key_lines[key]}); merge the lists"))
    groups = {}
    for key, variants in data.items():
        if not isinstance(key, str) or not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            problems.append(Problem(shown, data.key_lines[key], f"'{key}' must map to a list of strings"))
            continue
        groups[key] = variants
    return groups


def load_knowledge(root: Path | str | None = None, rebuild: bool = False) -> KnowledgeBase:
    """Load a knowledge directory or raise KnowledgeError listing every problem."""
    root = Path(root or DEFAULT_KB_DIR).resolve()
    problems: list[Problem] = []
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), 0, "knowledge directory does not exist")])
    documents = load_documents(root, problems, rebuild=rebuild)
    passage_ids = {p.id for d in documents for p in d.passages}
    entries = load_entries(root, passage_ids, problems)
    synonyms = load_synonyms(root, problems)
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(root=str(root), documents=documents, entries=entries, synonyms=synonyms)
