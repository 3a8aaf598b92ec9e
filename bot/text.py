"""Text normalisation shared by the knowledge base and the matcher.

Both sides of a match must go through the same steps, otherwise "Kremlin's"
in a question and "Russia" in the article would never meet.  The steps are:
fold (case, accents, punctuation, possessives) -> words -> spelling repair
(questions only) -> synonym phrases -> stop words -> stems.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from collections.abc import Iterable, Mapping

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")

# Written before lower-casing, because "US" and "us" are different words.
_US_PATTERN = re.compile(r"\bU\.?\s?S\.?(?:\s?A\.?)?(?![A-Za-z])")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_POSSESSIVE = re.compile(r"(?<=\w)'s?\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# British spellings folded to American ones, on both sides of a match ("emphasise" == "emphasize").
_BRITISH = [
    (re.compile(r"\b(\w{2,})is(e|es|ed|ing|er|ers|ation|ations)\b"), r"\1iz\2"),
    (re.compile(r"\b(\w{2,})ys(e|es|ed|ing)\b"), r"\1yz\2"),
    (re.compile(r"\b(\w{3,})our(s|ed|ing|able)?\b"), r"\1or\2"),
]

# Words that carry no meaning for matching: function words and the ways
# people wrap a question ("can you tell me what ...").
STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any anything are aren as at be
    been being both but by can could couldn did didn do does doesn doing don
    during each either else ever few for from further get gets getting give go
    going got had has have having he her here hers herself him himself his how
    i if in into is isn it its itself just kind know let like lot me mean meant
    more most much must my myself need no nor not now of off on once only or
    other our ours out over own please pls plz really regarding said same say
    says she should so some something sort such tell than that the their theirs
    them themselves then there these they thing things think this those through
    thus to too u under until up upon us very via was wasn way we were what
    whats whatever where which while who whom whose why will with within would wouldn
    yes you your yours yourself explain describe briefly quick quickly overall
    exactly actually basically generally main mention mentions mentioned discuss
    discusses discussed consider considers considered make makes made bring
    brings closer likely chance chances right currently pick picked chose chosen
    choose selected according anyway per still even yet care cares caring good
    work works might may done believe feel before ahead wonder wondering table tables
    list lists chart section sections use uses using used practice practize employ
    look looks looking appear appears seem seems leave leaves left simple simply
    sentence sentences words plain toward towards between among put puts putting act acts
    acting better worse keep keeps kept get give gives giving play plays played
    playing role roles part come comes coming start starts beginning begin
    """.split()
)


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation so "Détente's" == "detente"."""
    text = _US_PATTERN.sub(" USA ", text.translate(_QUOTES))
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _NON_WORD.sub(" ", _POSSESSIVE.sub("", text.casefold())).strip()
    for pattern, american in _BRITISH:
        text = pattern.sub(american, text)
    return text


def words(text: str) -> list[str]:
    return fold(text).split()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


_STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)


def is_stop(word: str) -> bool:
    """Stop words in any inflection: "thinks" is as empty as "think"."""
    return word in STOP_WORDS or stem(word) in _STOP_STEMS


def content_stems(tokens: list[str]) -> list[str]:
    return [stem(t) for t in tokens if not is_stop(t)]


ARTICLES = ("the", "a", "an")


class _PhraseTable:
    """Longest-match replacement of stem sequences by one canonical term."""

    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], str] = {}

    def add(self, key: tuple[str, ...], target: str) -> None:
        if key and target:
            self.phrases[key] = target

    def freeze(self) -> None:
        self.longest = max((len(k) for k in self.phrases), default=0)
        self.starts = {k[0] for k in self.phrases}

    def apply(self, stems: list[str], keep: list[bool]) -> tuple[list[str], list[bool]]:
        """keep[i] marks a token that survives stop-word removal; a matched phrase always does."""
        out, out_keep = [], []
        i = 0
        while i < len(stems):
            size, target = self._match(stems, i)
            if target is None:
                out.append(stems[i])
                out_keep.append(keep[i])
                i += 1
            else:
                out.append(target)
                out_keep.append(True)
                i += size
        return out, out_keep

    def _match(self, stems: list[str], i: int) -> tuple[int, str | None]:
        if stems[i] in self.starts:
            for size in range(min(self.longest, len(stems) - i), 0, -1):
                target = self.phrases.get(tuple(stems[i : i + size]))
                if target is not None:
                    return size, target
        return 1, None


class Synonyms:
    """Maps every variant phrase to one canonical term, longest phrase first.

    Phrases are compared as stems, so "sanctions", "sanctioned" and "the
    Kremlin's" all find their group.  Variants that need their small words
    ("no deal", "deal with", "look for") are matched before stop words are
    dropped; all others after, so "the Kremlin" and "Kremlin" both match.
    Applied to documents and questions alike.
    """

    def __init__(self, groups: Mapping[str, Iterable[str]]):
        self._with_stops = _PhraseTable()
        self._content = _PhraseTable()
        self.surface_words: set[str] = set()
        for canonical, variants in groups.items():
            target = "_".join(content_stems(words(canonical)))
            for variant in [canonical, *variants]:
                surface = words(variant)
                self.surface_words.update(surface)
                while len(surface) > 1 and surface[0] in ARTICLES and not is_stop(surface[1]):  # "the Kremlin" == "Kremlin"
                    surface.pop(0)
                if len(surface) > 1 and any(is_stop(w) for w in surface):
                    self._with_stops.add(tuple(stem(w) for w in surface), target)
                else:
                    self._content.add(tuple(content_stems(surface)), target)
        self._with_stops.freeze()
        self._content.freeze()

    def terms(self, tokens: list[str]) -> list[str]:
        stems, keep = self._with_stops.apply([stem(t) for t in tokens], [not is_stop(t) for t in tokens])
        content = [s for s, k in zip(stems, keep) if k]
        return self._content.apply(content, [True] * len(content))[0]


def terms(tokens: list[str], synonyms: Synonyms) -> list[str]:
    """Canonical content terms of already-folded words."""
    return synonyms.terms(tokens)


_WORD = re.compile(r"[A-Za-zÀ-ÿ][\w'’.-]*")


def capitalised_words(text: str) -> list[str]:
    """Words written with a capital inside a sentence: names of people, places, organisations."""
    out = []
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n", text):
        for i, match in enumerate(_WORD.finditer(sentence)):
            word = match.group(0)
            if i > 0 and word[0].isupper():
                out.append(word)
    return out
