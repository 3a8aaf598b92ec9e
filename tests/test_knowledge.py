"""Loading and validating a knowledge directory: every problem named with file and line."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import SEED_DOC, write

ENTRY = """
entries:
  - id: one
    question: What is one?
    alternates: [first]
    answer: One is the first.
    cites: [{cite}]
"""


def problems_of(path):
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(path)
    return [str(p) for p in caught.value.problems]


def test_bundled_knowledge_loads_and_covers_every_passage(kb):
    cited = {c for e in kb.entries for c in e.cites}
    assert set(kb.passages) <= cited
    assert len(kb.entries) >= 40


def test_invalid_yaml_is_reported_with_file_and_line(kb_copy):
    write(kb_copy / "qa" / "broken.yaml", "entries:\n  - id: x\n    question: [unclosed\n")
    assert any(p.startswith("knowledge/qa/broken.yaml:") and "invalid YAML" in p for p in problems_of(kb_copy))


def test_wrong_types_are_reported_on_the_field_line(kb_copy):
    write(kb_copy / "qa" / "types.yaml", "entries:\n  - id: t\n    question: Q?\n    alternates: nope\n    answer: A.\n    cites: [x]\n")
    assert "knowledge/qa/types.yaml:4: 'alternates' must be a list" in problems_of(kb_copy)


def test_missing_fields_are_reported_on_the_entry_line(kb_copy):
    write(kb_copy / "qa" / "missing.yaml", "entries:\n  - id: m\n    question: Q?\n")
    found = problems_of(kb_copy)
    assert "knowledge/qa/missing.yaml:2: entry is missing 'answer'" in found
    assert "knowledge/qa/missing.yaml:2: entry is missing 'cites'" in found


def test_duplicate_ids_name_both_places(kb_copy):
    write(kb_copy / "qa" / "dup.yaml", ENTRY.format(cite=f"{SEED_DOC}:p1") * 1 + ENTRY.format(cite=f"{SEED_DOC}:p1").replace("entries:\n", ""))
    assert "knowledge/qa/dup.yaml:8: duplicate id 'one' (first defined at knowledge/qa/dup.yaml:2)" in problems_of(kb_copy)


def test_citation_to_a_missing_passage_is_an_error(kb_copy):
    write(kb_copy / "qa" / "cite.yaml", ENTRY.format(cite=f"{SEED_DOC}:p999"))
    assert f"knowledge/qa/cite.yaml:6: cites unknown passage '{SEED_DOC}:p999' (see `python -m bot build` for ids)" in problems_of(kb_copy)


def test_empty_answer_is_an_error(kb_copy):
    write(kb_copy / "qa" / "empty.yaml", ENTRY.format(cite=f"{SEED_DOC}:p1").replace("One is the first.", '""'))
    assert "knowledge/qa/empty.yaml:5: 'answer' is empty" in problems_of(kb_copy)


def test_non_utf8_source_names_the_line(kb_copy):
    (kb_copy / "sources" / "latin1.txt").write_bytes("First line.\nCaf\xe9 society.\n".encode("latin-1"))
    assert "knowledge/sources/latin1.txt:2: not UTF-8 text (byte 0xe9); save the file as UTF-8" in problems_of(kb_copy)


def test_empty_source_is_an_error(kb_copy):
    write(kb_copy / "sources" / "empty.txt", "\n\n")
    assert any(p.startswith("knowledge/sources/empty.txt:1: the document has no text") for p in problems_of(kb_copy))


def test_unreadable_source_is_an_error(kb_copy, monkeypatch):
    path = write(kb_copy / "sources" / "secret.txt", "Text.\n")
    real_read = Path.read_bytes

    def refuse(self):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert any("knowledge/sources/secret.txt:0: cannot read the file" in p for p in problems_of(kb_copy))


def test_duplicate_synonym_group_is_an_error(kb_copy):
    write(kb_copy / "synonyms.yaml", "russia: [moscow]\nrussia: [kremlin]\n")
    assert "knowledge/synonyms.yaml:2: 'russia' is defined twice (first at line 1); merge the lists" in problems_of(kb_copy)


def test_stale_index_is_rebuilt_when_a_source_changes(kb_copy):
    load_knowledge(kb_copy)
    assert (kb_copy / ".index" / "documents.json").exists()
    source = kb_copy / "sources" / f"{SEED_DOC}.txt"
    source.write_text(source.read_text(encoding="utf-8") + "A brand new closing paragraph about walruses.\n", encoding="utf-8")
    kb = load_knowledge(kb_copy)
    assert any("walruses" in p.text for p in kb.passages.values())


def test_document_without_curated_entries_is_answerable_from_its_passages(tmp_path):
    write(
        tmp_path / "kb" / "sources" / "bees.txt",
        """
        Honey Bees
        Honey bees communicate the location of flowers with a waggle dance.
        Hive Life
        A colony overwinters by clustering and shivering to keep the queen warm.
        """,
    )
    engine = Engine(load_knowledge(tmp_path / "kb"))
    answer = engine.answer("why do honey bees do a waggle dance?")
    assert answer.answered
    assert answer.citations[0].passage == "bees:p1"
    assert answer.citations[0].section == "Honey Bees"
    assert not engine.answer("what is the price of honey").answered


def test_check_command_exits_nonzero_and_lists_problems(kb_copy):
    write(kb_copy / "qa" / "cite.yaml", ENTRY.format(cite="nope:p1"))
    result = subprocess.run([sys.executable, "-m", "bot", "check", "--kb", str(kb_copy)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "cite.yaml:6: cites unknown passage 'nope:p1'" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_command_passes_on_the_bundled_knowledge():
    result = subprocess.run([sys.executable, "-m", "bot", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK:")
