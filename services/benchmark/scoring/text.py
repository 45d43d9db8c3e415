"""Relevance of relays to a client's editorial keywords: TF-IDF in French and English.

Normalisation, in order: Unicode NFC and case folding; typographic apostrophes to ``'``;
URLs and @mentions dropped; ``#hashtags`` kept as words; French elisions removed
(``l'environnement`` → ``environnement``) and English possessives (``city's`` → ``city``);
stop words of both languages dropped. Each word is then stemmed by the Snowball stemmers
of **both** languages (so a bilingual directory needs no language detection and
``événements``, ``evenement`` and ``Événement`` meet), and the stems are folded to ASCII
(accents removed *after* stemming, since the French stemmer reads accents).

Scoring: sublinear term frequency ``1 + ln(tf)``, smoothed inverse document frequency
``ln((1 + N) / (1 + df)) + 1`` over the directory's documents, L2-normalised vectors;
relevance = ``100 × cosine(keywords, relay text)``. On the query side a word keeps only
the stems that occur in the corpus (one stem when none does), so the second language's
stem never dilutes the similarity.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=[^\W\d_])")

_STOP_FR_TEXT = """au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma
mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sur ta
te tes toi ton tu un une vos votre vous c d j l m n s t y été être avoir fait faire est sont a ont
cette cet comme plus tout tous toutes très bien aussi ici là sans sous entre vers chez donc car
ni si"""
_STOP_EN_TEXT = """a an and are as at be been but by for from has have he her his i in is it its of
on or our she that the their them they this to was we were what when where which who will with
you your not no so if than then there these those all any can do does did just about into over
more most very also up out new"""
STOP_FR = frozenset(_STOP_FR_TEXT.split())
STOP_EN = frozenset(_STOP_EN_TEXT.split())
STOP = STOP_FR | STOP_EN

_FR = snowballstemmer.stemmer("french")
_EN = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Remove accents (é → e, ç → c, œ stays œ → oe)."""
    text = text.replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The meaningful words of a text, lower-cased, elisions and stop words removed."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = text.replace("’", "'").replace("ʼ", "'").replace("`", "'")
    text = _MENTION.sub(" ", _URL.sub(" ", text))
    out = []
    for m in _WORD.finditer(text):
        w = _ELISION.sub("", m.group(0))
        if w.endswith("'s"):
            w = w[:-2]
        w = w.replace("'", "")
        if len(w) < 2 or w in STOP or fold(w) in STOP:
            continue
        out.append(w)
    return out


@lru_cache(maxsize=200_000)
def stems(word: str) -> tuple[str, ...]:
    """The French and English stems of a word, accent-folded (one or two terms)."""
    fr = fold(_FR.stemWord(word))
    en = fold(_EN.stemWord(fold(word)))
    return (fr,) if fr == en else (fr, en)


def terms(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for w in words(text):
        counts.update(stems(w))
    return counts


@dataclass
class Match:
    score: float  # 0–100
    cosine: float
    matched: list[tuple[str, float]]  # keyword, its share of the similarity


@dataclass
class Relevance:
    """TF-IDF over a corpus of documents, queried with keyword lists."""

    docs: list[Counter[str]]
    df: Counter[str]

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Relevance:
        docs = [terms(t) for t in texts]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        return cls(docs, df)

    @property
    def n(self) -> int:
        return len(self.docs)

    def idf(self, term: str) -> float:
        return math.log((1 + self.n) / (1 + self.df.get(term, 0))) + 1.0

    def _doc_vector(self, d: Counter[str]) -> tuple[dict[str, float], float]:
        vec = {t: (1.0 + math.log(c)) * self.idf(t) for t, c in d.items()}
        return vec, math.sqrt(sum(v * v for v in vec.values()))

    def query(self, keywords: Iterable[str]) -> list[Match | None]:
        """Relevance of every document to the keywords (None for an empty document)."""
        kw_terms: dict[str, set[str]] = {}
        q: Counter[str] = Counter()
        for k in keywords:
            ts: Counter[str] = Counter()
            for w in words(k):
                variants = stems(w)
                # A stem no document has cannot match; keeping it would only shrink every
                # cosine. A word none of whose stems occur still counts once (unmatched).
                present = [v for v in variants if self.df.get(v, 0) > 0]
                ts.update(present or variants[:1])
            if ts:
                kw_terms[k] = set(ts)
                q.update(ts)
        qvec = {t: (1.0 + math.log(c)) * self.idf(t) for t, c in q.items()}
        qnorm = math.sqrt(sum(v * v for v in qvec.values()))
        out: list[Match | None] = []
        for d in self.docs:
            if not d:
                out.append(None)
                continue
            if qnorm == 0:
                out.append(Match(0.0, 0.0, []))
                continue
            dvec, dnorm = self._doc_vector(d)
            contrib = {t: qvec[t] * dvec[t] for t in qvec if t in dvec}
            dot = sum(contrib.values())
            cos = dot / (qnorm * dnorm) if dnorm else 0.0
            matched = []
            if dot > 0:
                for k, kts in kw_terms.items():
                    share = sum(contrib.get(t, 0.0) for t in kts) / dot
                    if share > 0:
                        matched.append((k, round(share, 4)))
                matched.sort(key=lambda x: -x[1])
            out.append(Match(round(100.0 * cos, 4), cos, matched))
        return out
