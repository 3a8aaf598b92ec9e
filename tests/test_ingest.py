"""Documents become sections and citable passages with stable ids."""

from pathlib import Path

from bot.ingest import parse_document, split_cells
from tests.conftest import SEED_DOC


def seed(kb):
    return kb.document_by_id[SEED_DOC]


def test_plain_line_headings_become_sections_even_when_truncated(kb):
    titles = [s.title for s in seed(kb).sections]
    assert titles == [
        "Introduction",
        "Understanding Strategic Objectives Behind the Alaska",
        "Analyzing Diplomatic Tactics and Messaging from Putin",
        "Evaluating Potential Outcomes and Geopolitical",
        "Recommendations for Navigating Future US-Russia",
    ]


def test_bullets_are_their_own_passages(kb):
    bullets = [p.text for p in seed(kb).passages if p.kind == "bullet"]
    assert len(bullets) == 9
    assert "Addressing security concerns in the Arctic region" in bullets


def test_each_flattened_table_row_is_a_passage_with_both_columns(kb):
    rows = {p.id.split(":")[1]: p for p in seed(kb).passages if p.kind == "table_row"}
    assert sorted(rows) == ["t1r1", "t1r2", "t1r3", "t2r1", "t2r2", "t2r3", "t2r4"]
    assert rows["t1r2"].cells == (
        ("Potential Outcome", "Trade and energy cooperation talks"),
        ("Geopolitical Implication", "Could shift economic alliances; challenges EU and China influence"),
    )
    assert rows["t2r4"].cells == (("Recommendation", "People-to-People Exchanges"), ("Expected Outcome", "Long-term societal understanding"))


def test_heading_flattened_onto_a_table_opens_the_next_section(kb):
    assert kb.passages[f"{SEED_DOC}:t1r3"].section == "Evaluating Potential Outcomes and Geopolitical"
    assert kb.passages[f"{SEED_DOC}:t2r1"].section == "Recommendations for Navigating Future US-Russia"


def test_citation_markers_become_numbered_sources_on_their_passage(kb):
    doc = seed(kb)
    intro = kb.passages[f"{SEED_DOC}:p2"]
    assert intro.sources == (1, 2, 4)
    assert "[[" not in intro.text and "](" not in intro.text
    assert intro.text.endswith("the elusive quest for peace.")
    assert doc.sources[4] == "https://time.com/7308684/trump-putin-alaska-talks-ukraine/"


def test_passage_ids_are_stable_across_parses(kb):
    text = (Path(kb.root) / "sources" / f"{SEED_DOC}.txt").read_text(encoding="utf-8")
    again = parse_document(SEED_DOC, text)
    assert [p.id for p in again.passages] == [p.id for p in seed(kb).passages]


def test_front_matter_gives_the_title_and_is_not_a_passage():
    doc = parse_document("d", "---\ntitle: My Doc\npublisher: Someone\n---\nHeading Here\nBody text.\n")
    assert doc.title == "My Doc" and doc.publisher == "Someone"
    assert [p.text for p in doc.passages] == ["Body text."]


def test_title_is_derived_when_there_is_no_header():
    doc = parse_document("d", "Just a paragraph.\n", fallback_title="Derived Title")
    assert doc.title == "Derived Title"


def test_cells_split_on_capitals_but_keep_acronyms_and_joined_names():
    assert split_cells("Trade talks Could shift alliances; challenges EU and China influence Stalemate") == [
        "Trade talks",
        "Could shift alliances; challenges EU and China influence",
        "Stalemate",
    ]
