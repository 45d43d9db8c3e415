"""Relevance: accents, inflections and elisions in French and English, and TF-IDF by hand."""

from __future__ import annotations

import math

import pytest

from services.benchmark.scoring import text


def test_words_handle_elisions_accents_mentions_and_urls():
    w = text.words("L’environnement d'abord ! Voir https://x.io @someone #PleinAir")
    assert w == ["environnement", "abord", "voir", "pleinair"]
    assert text.words("The city's parks") == ["city", "parks"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("événements", "Événement"),
        ("evenements", "événement"),
        ("randonnées", "randonnée"),
        ("hiking", "hikes"),
        ("festivals", "festival"),
        ("culturelles", "culturel"),
    ],
)
def test_inflections_and_accents_meet(a, b):
    assert set(text.stems(text.words(a)[0])) & set(text.stems(text.words(b)[0]))


def test_tfidf_cosine_hand_computed():
    # Three documents; the query "vélo" matches doc 0 (twice) and doc 1 (once).
    corpus = text.Relevance.fit(["Vélo vélo montagne", "vélo et plage", "cuisine du terroir"])
    # "velo" appears in 2 of 3 documents: idf = ln(4/3) + 1
    idf_velo = math.log(4 / 3) + 1
    idf_once = math.log(4 / 2) + 1  # montagne, plage, cuisine, terroir
    assert corpus.idf("velo") == pytest.approx(idf_velo)
    m = corpus.query(["vélos"])
    # doc 0: tf(velo)=2 → (1 + ln 2)·idf_velo; montagne (1)·idf_once
    w_velo = (1 + math.log(2)) * idf_velo
    cos0 = w_velo / math.sqrt(w_velo**2 + idf_once**2)
    assert m[0] is not None and m[0].cosine == pytest.approx(cos0)
    assert m[0].score == pytest.approx(round(100 * cos0, 4))
    # doc 1: "plage" has two stems (French "plag", English "plage"), each once
    cos1 = idf_velo / math.sqrt(idf_velo**2 + 2 * idf_once**2)
    assert m[1] is not None and m[1].cosine == pytest.approx(cos1)
    assert m[2] is not None and m[2].cosine == 0.0 and m[2].matched == []
    assert m[0].matched == [("vélos", 1.0)]


def test_bilingual_keywords_and_empty_documents():
    corpus = text.Relevance.fit(
        [
            "Festival de musique et événements culturels à Québec",
            "Hiking trails and outdoor gear",
            "",
        ]
    )
    res = corpus.query(["événement culturel", "hiking"])
    assert res[0] is not None and res[0].score > 0
    assert res[0].matched[0][0] == "événement culturel"
    assert res[1] is not None and res[1].matched == [("hiking", 1.0)]
    assert res[2] is None  # nothing to compare: no data, not zero
    assert corpus.query([])[0] == text.Match(0.0, 0.0, [])
