"""The answer engine: a question in, a cited answer or an honest decline out.

Matching has two stages so it stays fast on large knowledge bases:

1. Term stage (numpy over an inverted index): the question's canonical
   terms are weighted by inverse document frequency, so rare, meaningful
   words ("stalemate", "Arctic") count far more than ones found everywhere
   ("summit", "Putin").  Every curated question, alternate, and passage
   sentence is a *key*; each unit (curated entry or passage) gets the best
   weighted overlap of its keys plus the overlap with its whole text.
2. Fuzzy stage (``rapidfuzz.process.cdist``) on the best few units only,
   which rewards phrasing close to a curated question.

The confidence is the match score scaled down by how much of the question's
weight the knowledge base knows at all (a question whose meaningful words
occur nowhere in the documents, "who hosts the leaders' dinner", is declined
even when its common words match well), by how much of that known weight the
chosen unit actually contains, and when the question names someone or
somewhere the unit does not mention.  The engine knows nothing of Telegram.
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot import text as T
from bot.model import KnowledgeBase, Passage, QAEntry

DEFAULT_MIN_CONFIDENCE = 0.4
MAX_QUESTION_CHARS = 1000
MAX_SUGGESTIONS = 3
SUGGESTION_FLOOR = 0.3
CANDIDATES = 40
PASSAGE_WEIGHT = 0.9  # curated answers are preferred over raw passages
LONG_PASSAGE_CHARS = 420
RECALL_BIAS = 2.0  # F-beta: how much more a key covering the question matters than a tight key
COVERAGE_POWER = 1.5
NAME_MAX_SHARE = 0.75  # a capitalised word in more units than this is not a distinguishing name
NAME_MISMATCH = 0.5  # score factor for a unit naming others but none of the names asked about
FOUND_POWER = 0.5  # answers whose unit lacks the question's known words lose confidence
PREFIX_SHARE = 0.75  # of the longer stem that two forms of one word must share ("societal", "societies")
MIN_SUBSTITUTION_LENGTH = 7  # shorter words are repaired only for a missing, extra or swapped letter
PHRASING_WEIGHT = 0.5  # weight of words only curated phrasings use, relative to document words
FUZZY_SHARE = 0.35  # of the final score, from rapidfuzz similarity to the best key
RAW_FUZZY_WEIGHT = 0.5  # share of the raw wording's similarity, beside that of the canonical terms
BAG_SHARE = 0.3  # of the term score, from the unit's whole text rather than its best key
UNKNOWN_WEIGHT = 0.8  # a word the KB never uses weighs as much as its rarest word, times this

GREETINGS = frozenset("hi hello hey hiya howdy yo hola greetings morning afternoon evening gm sup".split())
THANKS = frozenset("thanks thank thx ty cheers appreciated appreciate grateful".split())
HELP = frozenset("help start menu commands command".split())
FILLER = frozenset(
    "good there bot you so much very a lot the for it ok okay great awesome nice cool please me i how are "
    "doing all again many bye goodbye".split()
)
HELP_PHRASES = (
    "what can you do",
    "what do you do",
    "what can i ask",
    "what can i ask you",
    "how does this work",
    "how do i use this",
    "how do you work",
    "who are you",
    "what are you",
)
# Questions that want a date, time or quantity can only be answered by a text that has one.
_EXPECTS_FIGURE = re.compile(
    r"^\W*(when\b|what (year|date|day|time)\b|which (year|date|day)\b|how (many|much|old|long|far|big|large|tall|often|cold|hot|warm|high|fast|expensive|soon)\b)", re.I
)
_HAS_FIGURE = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|daily|weekly|monthly|yearly|annual|"
    r"regular|regularly|often|frequent)\b",
    re.I,
)
# "What did China say?" asks for a statement; "what does the article say" does not.
_ASKS_STATEMENT = re.compile(r"\b(say|said|says|announce|announced|tweet|tweeted|comment|commented|claim|claimed)\b")
_ABOUT_DOCUMENT = re.compile(r"\b(article|document|text|piece|analysis|author|report|story|it|you|this|summary)\b")
_HAS_STATEMENT = re.compile(r"\b(said|says|stated|announced|told|declared|tweeted|according to)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"'])")


@dataclass(frozen=True)
class Citation:
    document: str
    section: str
    passage: str
    quote: str
    sources: tuple[tuple[int, str], ...]


@dataclass
class Answer:
    """What the engine concluded; renderers turn it into words for a medium.

    kind is one of: answer, declined, greeting, thanks, help, empty, too_long.
    Only kind "answer" counts as answered.
    """

    question: str
    kind: str
    text: str = ""
    confidence: float = 0.0
    citations: list[Citation] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    entry_id: str = ""

    @property
    def answered(self) -> bool:
        return self.kind == "answer"


_NO_NAMES: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Unit:
    entry: QAEntry | None
    passage: Passage | None


def _group(terms: np.ndarray, owners: np.ndarray, n_terms: int) -> list[np.ndarray]:
    """Inverted index: for each term id, the sorted owner ids that contain it."""
    order = np.lexsort((owners, terms))
    bounds = np.cumsum(np.bincount(terms, minlength=n_terms))[:-1]
    return np.split(owners[order].astype(np.int32), bounds)


class Engine:
    def __init__(self, kb: KnowledgeBase, min_confidence: float = DEFAULT_MIN_CONFIDENCE):
        self.kb = kb
        self.min_confidence = min_confidence
        self.synonyms = T.Synonyms(kb.synonyms)
        self._build()

    # ------------------------------------------------------------ index

    def _sources(self) -> Iterator[tuple[_Unit, list[str], str, str]]:
        """Each unit with its keys (phrasings to match), its own further text, and its context (section titles)."""
        for entry in self.kb.entries:
            cited = " ".join(self.kb.passages[c].section for c in entry.cites)
            yield _Unit(entry, None), [entry.question, *entry.alternates], entry.answer, cited
        for doc in self.kb.documents:
            for passage in doc.passages:
                keys = _SENTENCE.split(passage.text) if passage.kind == "paragraph" else [passage.text]
                yield _Unit(None, passage), keys, "", f"{passage.section} {doc.title}"

    def _capitalised_terms(self) -> set[str]:
        """People, places, organisations: words the documents capitalise inside sentences."""
        words = [w for d in self.kb.documents for p in d.passages if p.kind != "table_row" for w in T.capitalised_words(p.text)]
        return set(T.terms(T.words(" ".join(words)), self.synonyms))

    def _build(self) -> None:
        # Postings are collected as flat (term, owner) int arrays and grouped
        # with numpy: per-term Python lists would cost ~10x the memory.
        self.units: list[_Unit] = []
        self.key_texts: list[str] = []
        self.key_folded: list[str] = []
        self.term_ids: dict[str, int] = {}
        starts, unit_t, unit_u, key_t, key_k = (array("q") for _ in range(5))
        vocab: set[str] = set()
        in_documents: set[int] = set()
        names = self._capitalised_terms()
        unit_names: list[frozenset[str]] = []

        def tid(term: str) -> int:
            return self.term_ids.setdefault(term, len(self.term_ids))

        for unit, keys, own, context in self._sources():
            u = len(self.units)
            self.units.append(unit)
            starts.append(len(self.key_texts))
            bag: set[str] = set()
            for key in keys:
                folded = T.fold(key)
                words = folded.split()
                vocab.update(words)
                terms = T.terms(words, self.synonyms)
                for t in set(terms):
                    key_t.append(tid(t))
                    key_k.append(len(self.key_texts))
                self.key_texts.append(" ".join(terms))
                self.key_folded.append(folded)
                bag.update(terms)
            own_words, context_words = T.words(own), T.words(context)
            vocab.update(own_words + context_words)
            bag.update(T.terms(own_words, self.synonyms))
            own_names = bag & names  # what the unit itself names, not its section's title
            unit_names.append(frozenset(own_names) if own_names else _NO_NAMES)
            bag.update(T.terms(context_words, self.synonyms))
            for t in bag:
                unit_t.append(tid(t))
                unit_u.append(u)
            if unit.passage is not None:
                in_documents.update(self.term_ids[t] for t in bag)

        n_terms, n = len(self.term_ids), max(len(self.units), 1)
        unit_t_arr, key_t_arr = np.frombuffer(unit_t, dtype=np.int64), np.frombuffer(key_t, dtype=np.int64)
        self.unit_post = _group(unit_t_arr, np.frombuffer(unit_u, dtype=np.int64), n_terms)
        self.key_post = _group(key_t_arr, np.frombuffer(key_k, dtype=np.int64), n_terms)
        df = np.bincount(unit_t_arr, minlength=n_terms)  # units containing each term
        self.idf = np.log1p(n / np.maximum(df, 1))
        # A word only curated phrasings use ("plan", "take") helps match phrasing but is not
        # a meaningful word of the documents, however rare it is.
        phrasing_only = np.ones(n_terms, dtype=bool)
        phrasing_only[list(in_documents)] = False
        self.idf[phrasing_only] *= PHRASING_WEIGHT
        self.unknown_idf = UNKNOWN_WEIGHT * math.log(1 + n)
        # Names that single units out (not ones nearly every unit has, like "summit").
        self.names = {t for t in names if t in self.term_ids and df[self.term_ids[t]] <= NAME_MAX_SHARE * n}
        self.unit_names = [u & self.names if u else _NO_NAMES for u in unit_names]
        key_total = np.bincount(np.frombuffer(key_k, dtype=np.int64), weights=self.idf[key_t_arr], minlength=len(self.key_texts))
        self.key_total = np.maximum(key_total, 1e-9)
        # Each unit's keys are one contiguous run: [key_starts[u], key_ends[u]).
        self.key_starts = np.frombuffer(starts, dtype=np.int64).copy()
        self.key_ends = np.append(self.key_starts[1:], len(self.key_texts))

        self.vocab = vocab | self.synonyms.surface_words
        self.vocab_list = sorted(w for w in self.vocab if len(w) >= 4 and not w.isdigit() and not T.is_stop(w))
        self.known_stems = {T.stem(w) for w in self.vocab}
        self.prefix_index: dict[str, list[str]] = {}
        for term in self.term_ids:
            if len(term) >= 5:
                self.prefix_index.setdefault(term[:5], []).append(term)
        self.stops_by_initial: dict[str, list[str]] = {}
        for w in sorted(T.STOP_WORDS, key=lambda w: (-len(w), w)):  # ties go to the longer word: "wat" -> "what"
            self.stops_by_initial.setdefault(w[0], []).append(w)

    # ------------------------------------------------------------ query side

    def repair(self, words: list[str]) -> list[str]:
        """Replace slips with the closest known word ("sanctoins", "wat").

        Content words may be one edit off (two when long); a short word may be
        a misspelt stop word.  A real word that merely resembles a stop word
        ("live" ~ "give") is left alone, so it still counts as unknown.
        """
        return [self._repair_word(w) for w in words]

    def _repair_word(self, word: str) -> str:
        if word in self.vocab or T.is_stop(word) or word.isdigit() or T.stem(word) in self.known_stems:
            return word
        if len(word) <= 4:
            same_start = self.stops_by_initial.get(word[0], [])
            near = process.extractOne(word, same_start, scorer=OSA.distance, score_cutoff=1)
            # only swapped letters ("teh"), or a dropped one in a tiny word ("wat"):
            # "dog" is not a slip for "do", nor "cold" for "could"
            if near and (sorted(near[0]) == sorted(word) or (len(word) <= 3 and len(near[0]) > len(word))):
                return near[0]
        if len(word) < 4:
            return word
        max_edits = 1 if len(word) < 12 else 2
        near = process.extractOne(word, self.vocab_list, scorer=OSA.distance, score_cutoff=max_edits)
        if not near or (len(word) <= 4 and near[0][0] != word[0]):
            return word
        substituted = len(near[0]) == len(word) and sorted(near[0]) != sorted(word)
        if substituted and len(word) < MIN_SUBSTITUTION_LENGTH:  # "shake" is a word, not a slip for "stake"
            return word
        return near[0]

    def query_terms(self, folded: str) -> list[str]:
        terms = (self._known_form(t) for t in T.terms(self.repair(folded.split()), self.synonyms))
        return [t for t in dict.fromkeys(terms) if len(t) > 2 or t in self.term_ids]

    def _known_form(self, term: str) -> str:
        """An unknown stem that is another form of a known one ("societi" ~ "societ")."""
        if term in self.term_ids or len(term) < 5:
            return term
        best = term
        for known in self.prefix_index.get(term[:5], ()):
            shared = len(os.path.commonprefix([term, known]))
            if shared >= PREFIX_SHARE * max(len(term), len(known)) and shared > len(os.path.commonprefix([term, best])):
                best = known
        return best

    def _scores(self, query_terms: list[str]) -> tuple[np.ndarray, float, np.ndarray]:
        """Term-stage score of every unit, the share of the question the KB knows,
        and for each unit the share of those known words it contains."""
        weights = {t: (self.idf[self.term_ids[t]] if t in self.term_ids else self.unknown_idf) for t in query_terms}
        total = sum(weights.values())
        known = [t for t in weights if t in self.term_ids]
        coverage = sum(weights[t] for t in known) / total
        key_hits = np.zeros(len(self.key_texts))
        unit_hits = np.zeros(len(self.units))
        for t in known:
            i = self.term_ids[t]
            key_hits[self.key_post[i]] += weights[t]
            unit_hits[self.unit_post[i]] += weights[t]
        recall = key_hits / total
        precision = key_hits / self.key_total
        b2 = RECALL_BIAS**2
        f = np.where(key_hits > 0, (1 + b2) * precision * recall / np.maximum(b2 * precision + recall, 1e-9), 0.0)
        best_key = np.maximum.reduceat(f, self.key_starts)
        found = unit_hits / max(total * coverage, 1e-9)  # share of the known words each unit has
        return (1 - BAG_SHARE) * best_key + BAG_SHARE * (unit_hits / total), coverage, found

    def _fuzzy(self, candidates: np.ndarray, query_terms: list[str], folded: str) -> np.ndarray:
        spans = [range(self.key_starts[u], self.key_ends[u]) for u in candidates]
        keys = [k for span in spans for k in span]
        owners = np.repeat(np.arange(len(candidates)), [len(span) for span in spans])
        canon = process.cdist([" ".join(sorted(query_terms))], [" ".join(sorted(self.key_texts[k].split())) for k in keys], scorer=fuzz.ratio)[0]
        raw = process.cdist([folded], [self.key_folded[k] for k in keys], scorer=fuzz.ratio)[0]
        per_key = ((1 - RAW_FUZZY_WEIGHT) * canon + RAW_FUZZY_WEIGHT * raw) / 100.0
        best = np.zeros(len(candidates))
        np.maximum.at(best, owners, per_key)
        return best

    def rank(self, question: str) -> list[tuple[int, float, float]]:
        """(unit index, confidence, match score) of the best units, best first.

        The match score ignores how much of the question the KB knows; it
        orders "did you mean" suggestions for questions that are declined.
        """
        folded = T.fold(question)
        query_terms = self.query_terms(folded)
        if not query_terms:
            return self._rank_phrasing(folded)
        lexical, coverage, found = self._scores(query_terms)
        k = min(CANDIDATES, len(self.units))
        candidates = np.argpartition(-lexical, k - 1)[:k] if k < len(self.units) else np.arange(len(self.units))
        candidates = candidates[lexical[candidates] > 0]
        if len(candidates) == 0:
            return []
        fuzzy = self._fuzzy(candidates, query_terms, folded)
        score = (1 - FUZZY_SHARE) * lexical[candidates] + FUZZY_SHARE * fuzzy
        score *= np.asarray([1.0 if self.units[u].entry else PASSAGE_WEIGHT for u in candidates])
        asked_names = self.names.intersection(query_terms)
        if asked_names:  # "Putin's game" is not answered by a unit only about Trump
            score *= np.asarray([NAME_MISMATCH if self.unit_names[u] and not asked_names & self.unit_names[u] else 1.0 for u in candidates])
        confidence = np.clip(score * coverage**COVERAGE_POWER * np.clip(found[candidates], 0, 1) ** FOUND_POWER, 0.0, 1.0)
        order = np.argsort(-confidence)
        return [(int(candidates[i]), float(confidence[i]), float(score[i])) for i in order]

    def _rank_phrasing(self, folded: str) -> list[tuple[int, float, float]]:
        """Questions made only of common words ("what is this about?"): whole-phrase match."""
        hits = process.extract(folded, self.key_folded, scorer=fuzz.ratio, limit=CANDIDATES, score_cutoff=60)
        best: dict[int, float] = {}
        for _, score, k in hits:
            u = int(np.searchsorted(self.key_starts, k, side="right")) - 1
            best[u] = max(best.get(u, 0.0), (score / 100.0) ** 3)
        return sorted(((u, c, c) for u, c in best.items()), key=lambda item: -item[1])

    # ------------------------------------------------------------ answers

    def answer(self, question: str) -> Answer:
        question = question if isinstance(question, str) else ""
        stripped = " ".join(question.split())
        if not T.fold(stripped):
            return Answer(question=question, kind="empty")
        if len(stripped) > MAX_QUESTION_CHARS:
            return Answer(question=question, kind="too_long")
        social = self._social(stripped)
        if social:
            return Answer(question=question, kind=social, suggestions=self.starter_questions())
        ranked = self.rank(stripped)
        if ranked and not self._fits_question_type(stripped, self._unit_text(ranked[0][0])):
            ranked = [(u, min(c, self.min_confidence / 2), s) for u, c, s in ranked]
        if ranked and ranked[0][1] >= self.min_confidence:
            unit_index, confidence, _ = ranked[0]
            return self._answer_from(question, self.units[unit_index], confidence, stripped)
        confidence = ranked[0][1] if ranked else 0.0
        return Answer(question=question, kind="declined", confidence=round(confidence, 4), suggestions=self._suggest(ranked))

    @staticmethod
    def _fits_question_type(question: str, text: str) -> bool:
        """A question for a date or quantity needs a text with a figure in it; one for
        what somebody said needs a text that reports a statement."""
        if _EXPECTS_FIGURE.match(question) and not _HAS_FIGURE.search(text):
            return False
        folded = T.fold(question)
        if _ASKS_STATEMENT.search(folded) and not _ABOUT_DOCUMENT.search(folded) and not _HAS_STATEMENT.search(text):
            return False
        return True

    def _unit_text(self, unit_index: int) -> str:
        unit = self.units[unit_index]
        if unit.entry:
            return " ".join([unit.entry.answer] + [self.kb.passages[c].text for c in unit.entry.cites])
        return unit.passage.text

    def _social(self, question: str) -> str:
        words = T.fold(question).split()
        phrase = " ".join(words)
        if any(phrase == p or phrase.startswith(p + " ") for p in HELP_PHRASES):
            return "help"
        allowed = GREETINGS | THANKS | HELP | FILLER
        if not words or len(words) > 6 or any(w not in allowed for w in words):
            return ""
        for kind, vocabulary in (("help", HELP), ("thanks", THANKS), ("greeting", GREETINGS)):
            if vocabulary & set(words):
                return kind
        return ""

    def _answer_from(self, question: str, unit: _Unit, confidence: float, asked: str) -> Answer:
        if unit.entry:
            passages = [self.kb.passages[c] for c in unit.entry.cites]
            reply, entry_id = unit.entry.answer, unit.entry.id
        else:
            passages = [unit.passage]
            reply, entry_id = self._excerpt(unit.passage, asked), ""
        return Answer(
            question=question,
            kind="answer",
            text=reply,
            confidence=round(confidence, 4),
            citations=[self.cite(p) for p in passages],
            entry_id=entry_id,
        )

    def _excerpt(self, passage: Passage, asked: str) -> str:
        """The passage itself, or for a long one the two sentences that match best."""
        if len(passage.text) <= LONG_PASSAGE_CHARS:
            return passage.text
        sentences = _SENTENCE.split(passage.text)
        query = set(T.terms(self.repair(T.words(asked)), self.synonyms))
        overlap = [len(query & set(T.terms(T.words(s), self.synonyms))) for s in sentences]
        best = max(range(len(sentences)), key=lambda i: (overlap[i], -i))
        return " ".join(sentences[best : best + 2])

    def cite(self, passage: Passage) -> Citation:
        doc = self.kb.document_by_id[passage.document]
        return Citation(
            document=doc.title,
            section=passage.section,
            passage=passage.id,
            quote=passage.text,
            sources=tuple(sorted(self.kb.sources_for(passage).items())),
        )

    def _suggest(self, ranked: list[tuple[int, float, float]]) -> list[str]:
        out: list[str] = []
        for unit_index, _, score in sorted(ranked, key=lambda r: -r[2]):
            entry = self.units[unit_index].entry
            if score < SUGGESTION_FLOOR or len(out) == MAX_SUGGESTIONS:
                break
            if entry and entry.question not in out:
                out.append(entry.question)
        return out

    def starter_questions(self) -> list[str]:
        """Example questions to show newcomers: the first curated entries."""
        return [e.question for e in self.kb.entries[:MAX_SUGGESTIONS]]
