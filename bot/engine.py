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
weight the knowledge base knows at all: a question whose meaningful words
occur nowhere in the documents ("who hosts the leaders' dinner") is declined
even when its common words match well.  The engine knows nothing of Telegram.
"""

from __future__ import annotations

import math
import re
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


@dataclass(frozen=True)
class _Unit:
    entry: QAEntry | None
    passage: Passage | None


class Engine:
    def __init__(self, kb: KnowledgeBase, min_confidence: float = DEFAULT_MIN_CONFIDENCE):
        self.kb = kb
        self.min_confidence = min_confidence
        self.synonyms = T.Synonyms(kb.synonyms)
        self._build()

    # ------------------------------------------------------------ index

    def _build(self) -> None:
        units: list[_Unit] = []
        unit_texts: list[list[str]] = []
        key_texts: list[str] = []
        key_folded: list[str] = []
        key_unit: list[int] = []
        vocab: set[str] = set()

        def add_unit(unit: _Unit, keys: list[str], body: str) -> None:
            index = len(units)
            units.append(unit)
            folded_keys = [T.fold(k) for k in keys]
            for k in folded_keys:
                key_folded.append(k)
                key_texts.append(" ".join(T.terms(k.split(), self.synonyms)))
                key_unit.append(index)
                vocab.update(k.split())
            body_words = T.words(body)
            vocab.update(body_words)
            unit_texts.append([t for k in key_texts[len(key_texts) - len(keys) :] for t in k.split()] + T.terms(body_words, self.synonyms))

        for entry in self.kb.entries:
            cited = " ".join(self.kb.passages[c].section for c in entry.cites)
            add_unit(_Unit(entry, None), [entry.question, *entry.alternates], f"{entry.answer} {cited}")
        for doc in self.kb.documents:
            for passage in doc.passages:
                keys = _SENTENCE.split(passage.text) if passage.kind == "paragraph" else [passage.text]
                add_unit(_Unit(None, passage), keys, f"{passage.section} {doc.title}")

        self.units = units
        self.key_texts = key_texts
        self.key_folded = key_folded
        self.key_unit = np.asarray(key_unit, dtype=np.int32)
        self.unit_keys: list[list[int]] = [[] for _ in units]
        for k, u in enumerate(key_unit):
            self.unit_keys[u].append(k)

        term_ids: dict[str, int] = {}
        unit_post: list[list[int]] = []
        key_post: list[list[int]] = []

        def tid(term: str) -> int:
            if term not in term_ids:
                term_ids[term] = len(term_ids)
                unit_post.append([])
                key_post.append([])
            return term_ids[term]

        for u, bag in enumerate(unit_texts):
            for t in set(bag):
                unit_post[tid(t)].append(u)
        for k, key in enumerate(key_texts):
            for t in set(key.split()):
                key_post[tid(t)].append(k)

        n = max(len(units), 1)
        self.term_ids = term_ids
        self.idf = np.asarray([math.log(1 + n / max(len(p), 1)) for p in unit_post], dtype=np.float64)
        self.unknown_idf = UNKNOWN_WEIGHT * math.log(1 + n)
        self.unit_post = [np.asarray(p, dtype=np.int32) for p in unit_post]
        self.key_post = [np.asarray(p, dtype=np.int32) for p in key_post]
        key_total = np.zeros(len(key_texts))
        for t, posting in enumerate(self.key_post):
            np.add.at(key_total, posting, self.idf[t])
        self.key_total = np.maximum(key_total, 1e-9)
        surface = vocab | self.synonyms.surface_words
        self.vocab = surface
        self.vocab_list = sorted(w for w in surface if len(w) >= 4 and not w.isdigit() and w not in T.STOP_WORDS)
        self.stops_by_initial: dict[str, list[str]] = {}
        for w in sorted(T.STOP_WORDS, key=lambda w: (-len(w), w)):  # ties go to the longer word: "wat" -> "what"
            self.stops_by_initial.setdefault(w[0], []).append(w)
        self.known_stems = {T.stem(w) for w in surface}

    # ------------------------------------------------------------ query side

    def repair(self, words: list[str]) -> list[str]:
        """Replace slips with the closest known word ("sanctoins", "wat").

        Content words may be one edit off (two when long); a short word may be
        a misspelt stop word.  A real word that merely resembles a stop word
        ("live" ~ "give") is left alone, so it still counts as unknown.
        """
        return [self._repair_word(w) for w in words]

    def _repair_word(self, word: str) -> str:
        if word in self.vocab or word in T.STOP_WORDS or word.isdigit() or T.stem(word) in self.known_stems:
            return word
        if len(word) <= 4:
            same_start = self.stops_by_initial.get(word[0], [])
            near = process.extractOne(word, same_start, scorer=OSA.distance, score_cutoff=1)
            if near and (len(word) <= 3 or sorted(near[0]) == sorted(word)):
                return near[0]
        if len(word) < 4:
            return word
        max_edits = 1 if len(word) < 12 else 2
        near = process.extractOne(word, self.vocab_list, scorer=OSA.distance, score_cutoff=max_edits)
        if near and (len(word) > 4 or near[0][0] == word[0]):
            return near[0]
        return word

    def _scores(self, query_terms: list[str]) -> tuple[np.ndarray, float]:
        """Term-stage score of every unit, and the share of the question the KB knows."""
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
        best_key = np.zeros(len(self.units))
        np.maximum.at(best_key, self.key_unit, f)
        return 0.7 * best_key + 0.3 * (unit_hits / total), coverage

    def _fuzzy(self, candidates: np.ndarray, query_terms: list[str], folded: str) -> np.ndarray:
        keys = [k for u in candidates for k in self.unit_keys[u]]
        owners = np.asarray([i for i, u in enumerate(candidates) for _ in self.unit_keys[u]])
        canon = process.cdist([" ".join(sorted(query_terms))], [" ".join(sorted(self.key_texts[k].split())) for k in keys], scorer=fuzz.ratio)[0]
        raw = process.cdist([folded], [self.key_folded[k] for k in keys], scorer=fuzz.ratio)[0]
        per_key = np.maximum(canon, 0.9 * raw) / 100.0
        best = np.zeros(len(candidates))
        np.maximum.at(best, owners, per_key)
        return best

    def rank(self, question: str) -> list[tuple[int, float, float]]:
        """(unit index, confidence, match score) of the best units, best first.

        The match score ignores how much of the question the KB knows; it
        orders "did you mean" suggestions for questions that are declined.
        """
        folded = T.fold(question)
        query_terms = [t for t in dict.fromkeys(T.terms(self.repair(folded.split()), self.synonyms)) if len(t) > 2 or t in self.term_ids]
        if not query_terms:
            return self._rank_phrasing(folded)
        lexical, coverage = self._scores(query_terms)
        k = min(CANDIDATES, len(self.units))
        candidates = np.argpartition(-lexical, k - 1)[:k] if k < len(self.units) else np.arange(len(self.units))
        candidates = candidates[lexical[candidates] > 0]
        if len(candidates) == 0:
            return []
        fuzzy = self._fuzzy(candidates, query_terms, folded)
        score = 0.65 * lexical[candidates] + 0.35 * fuzzy
        score *= np.asarray([1.0 if self.units[u].entry else PASSAGE_WEIGHT for u in candidates])
        confidence = np.clip(score * coverage**COVERAGE_POWER, 0.0, 1.0)
        order = np.argsort(-confidence)
        return [(int(candidates[i]), float(confidence[i]), float(score[i])) for i in order]

    def _rank_phrasing(self, folded: str) -> list[tuple[int, float, float]]:
        """Questions made only of common words ("what is this about?"): whole-phrase match."""
        hits = process.extract(folded, self.key_folded, scorer=fuzz.ratio, limit=CANDIDATES, score_cutoff=60)
        best: dict[int, float] = {}
        for _, score, k in hits:
            u = int(self.key_unit[k])
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
        if ranked and ranked[0][1] >= self.min_confidence:
            unit_index, confidence, _ = ranked[0]
            return self._answer_from(question, self.units[unit_index], confidence, stripped)
        confidence = ranked[0][1] if ranked else 0.0
        return Answer(question=question, kind="declined", confidence=round(confidence, 4), suggestions=self._suggest(ranked))

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
