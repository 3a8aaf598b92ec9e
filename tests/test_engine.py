"""The answer engine: normalisation, matching, confidence, declines and small talk."""

import pytest

from bot import text as T
from bot.engine import MAX_SUGGESTIONS, Engine


def test_british_and_american_spellings_fold_together():
    assert T.fold("emphasise analyse candour") == T.fold("emphasize analyze candor")


def test_folding_removes_case_accents_punctuation_and_possessives():
    assert T.fold("Détente's «TALKS»!") == "detente talks"
    assert T.fold("U.S.-Russia") == "usa russia"


def test_synonyms_map_other_names_to_one_term(engine):
    assert T.terms(T.words("the Kremlin"), engine.synonyms) == T.terms(T.words("Russia"), engine.synonyms)
    assert T.terms(T.words("Washington"), engine.synonyms) == T.terms(T.words("America"), engine.synonyms)
    assert T.terms(T.words("Zelenskyy"), engine.synonyms) == T.terms(T.words("Ukraine's president"), engine.synonyms)


def test_spelling_slips_are_repaired_to_knowledge_base_words(engine):
    assert engine.repair(["sanctoins", "recomendations", "wat"]) == ["sanctions", "recommendations", "what"]


def test_real_words_that_only_resemble_stop_words_stay_unknown(engine):
    assert engine.repair(["eat", "live"]) == ["eat", "live"]


@pytest.mark.parametrize(
    "question, entry",
    [
        ("What does the Kremlin want?", "putin-goals"),
        ("stalemate", "stalemate"),
        ("détente", "detente"),
        ("detente", "detente"),
        ("sanctoins", "sanctions"),
        ("What are Washington's aims?", "trump-goals"),
        ("Where does Kyiv stand?", "zelensky"),
    ],
)
def test_answers_cite_the_right_curated_entry(engine, question, entry):
    answer = engine.answer(question)
    assert answer.answered and answer.entry_id == entry
    assert answer.citations


def test_every_answer_cites_a_passage_with_quote_and_sources(engine):
    answer = engine.answer("What could happen if the talks end in stalemate?")
    citation = answer.citations[0]
    assert citation.passage == "alaska-summit-article:t1r3"
    assert "Stalemate or public disagreement" in citation.quote
    assert citation.sources and all(url.startswith("https://") for _, url in citation.sources)


@pytest.mark.parametrize(
    "question",
    ["Who hosts the leaders' dinner?", "What are Alaska's oil exports worth?", "What did Putin and Trump eat?", "What is the capital of France?"],
)
def test_questions_the_documents_do_not_answer_are_declined(engine, question):
    assert not engine.answer(question).answered


def test_common_words_alone_are_not_enough(engine):
    assert not engine.answer("What did Trump and Putin eat at the Russia summit?").answered


def test_confidence_is_between_zero_and_one(engine):
    for q in ["putin", "What is the capital of France?", "stalemate", "x" * 50]:
        assert 0.0 <= engine.answer(q).confidence <= 1.0


def test_threshold_is_configurable(kb):
    strict = Engine(kb, min_confidence=1.01)
    assert not strict.answer("What does Putin want from the summit?").answered
    assert Engine(kb, min_confidence=0.0).answer("What does Putin want from the summit?").answered


def test_declined_questions_offer_up_to_three_suggestions_from_the_knowledge_base(kb, engine):
    answer = engine.answer("What does Putin think about the weather in Alaska?")
    assert not answer.answered
    questions = {e.question for e in kb.entries}
    assert 1 <= len(answer.suggestions) <= MAX_SUGGESTIONS
    assert set(answer.suggestions) <= questions


@pytest.mark.parametrize("text, kind", [("hi", "greeting"), ("Hello there!", "greeting"), ("thanks a lot", "thanks"), ("help", "help"), ("what can you do?", "help")])
def test_small_talk_gets_a_friendly_kind_that_is_not_an_answer(engine, text, kind):
    answer = engine.answer(text)
    assert answer.kind == kind and not answer.answered


def test_empty_and_huge_questions_are_not_answers(engine):
    assert engine.answer("   ").kind == "empty"
    assert engine.answer("?!…").kind == "empty"
    assert engine.answer("putin " * 400).kind == "too_long"


def test_questions_for_a_date_or_number_need_a_figure_in_the_answer(engine):
    assert not engine.answer("When is the summit?").answered
    assert not engine.answer("How many people live in Alaska?").answered


def test_questions_about_what_someone_said_need_a_reported_statement(engine):
    assert not engine.answer("What did China say about the summit?").answered
    assert engine.answer("What does the article say about NATO?").answered


def test_a_unit_about_someone_else_loses_to_the_name_asked_about(engine):
    answer = engine.answer("What are Putin's tactics?")
    assert answer.answered and answer.entry_id in {"putin-tactics", "putin-messaging"}
