"""Cluster labels from captions in any script: accented words stay whole, German is matched by its
casefold and shown as written, Japanese and Chinese captions (no spaces) label by character bigrams,
and ASCII captions give exactly the terms of the former `[a-z0-9]+` tokenizer."""

from __future__ import annotations

import re

import numpy as np

from exporters.analysis.clustering import _STOP, _ngrams, cluster_labels, cluster_order, filter_by_substring, tokenize


def shown(text: str) -> list[str]:
    return [w[1] for w in tokenize(text)]


def test_accented_words_stay_whole():
    assert shown("Naïve café in São Paulo, crème brûlée") == ["naïve", "café", "in", "são", "paulo", "crème", "brûlée"]
    # a decomposed accent (e + U+0301) is the same word as the composed one
    assert tokenize("cafe\u0301") == tokenize("café")


def test_german_casefold_matches_and_shows_as_written():
    assert shown("Straße") == ["straße"]
    assert tokenize("Straße")[0][0] == tokenize("STRASSE")[0][0] == "strasse"
    texts = ["Eine Straße in Wien", "Straße mit Bäumen", "STRASSE im Regen", "ein Hund im Park", "Hund mit Ball",
             "ein Hund schläft"]
    labels = cluster_labels(texts, [[0, 1, 2], [3, 4, 5]], top=1)
    assert labels == ["straße", "hund"]
    assert "bäumen" in _ngrams("Straße mit Bäumen")


def test_japanese_and_chinese_captions_give_labels():
    # Japanese: kanji runs in character bigrams, a katakana word whole, particles and endings dropped
    assert shown("日本語のキャプション") == ["日本", "本語", "キャプション"]
    assert shown("猫がソファーに座っている") == ["猫", "ソファー", "座"]
    assert shown("犬") == ["犬"]                                   # one character stands alone
    assert shown("CLIP模型很好") == ["clip", "模型", "型很", "很好"]  # a change of script ends a word
    assert shown("ｃａｔ　１２") == ["cat", "12"]                     # NFKC: full-width forms
    ja = ["公園で遊ぶ犬", "芝生の上の犬", "犬と子供が公園にいる", "テーブルの上の猫", "窓辺で眠る猫", "猫がソファーに座っている"]
    assert cluster_labels(ja, [[0, 1, 2], [3, 4, 5]], top=1) == ["犬", "猫"]
    assert cluster_labels(ja, [[0, 1, 2], [3, 4, 5]])[0] == "犬 | 公園"
    # Chinese: bigrams throughout
    zh = ["一只狗在草地上", "狗在公园里跑", "一只猫在沙发上", "猫在睡觉"]
    assert [lab.split(" | ")[0] for lab in cluster_labels(zh, [[0, 1], [2, 3]])] == ["狗在", "猫在"]
    assert shown("ภาษาไทย")[:2] == ["ภา", "าษ"]                     # Thai: bigrams too
    # no word 2-grams across bigrams: the bigrams themselves are the terms
    assert not [t for t in _ngrams("公園で遊ぶ犬") if " " in t]


def test_ascii_terms_are_those_of_the_former_tokenizer():
    def former(text: str) -> set[str]:
        words = re.findall(r"[a-z0-9]+", text.lower())
        return {" ".join(words[i:i + n]) for n in (1, 2) for i in range(len(words) - n + 1)
                if words[i] not in _STOP and words[i + n - 1] not in _STOP}

    for text in ["A man riding a bicycle down the road.", "it's 2 dogs_and a CAT!", "Two zebras; grazing (in) grass",
                 "<b>bold</b> & 'quotes' -- under_score x86-64"]:
        assert set(_ngrams(text)) == former(text), text
        assert all(k == v for k, v in _ngrams(text).items())


def test_cluster_order_labels_mixed_scripts():
    rng = np.random.default_rng(0)
    centers = np.eye(8)[:2] * 4
    x = np.vstack([centers[i // 3] + 0.05 * rng.normal(size=8) for i in range(6)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    texts = ["naïve café au lait", "café crème", "un café noir", "東京の夜景", "東京タワー", "夜の東京"]
    res = cluster_order(x @ x.T, n_clusters=2, texts=texts)
    by_first = dict(zip([res.order[0], res.order[3]], res.labels))
    assert by_first[0].startswith("café") and "東京" in by_first[3], res.labels


def test_substring_filter_is_unicode_aware():
    texts = ["Eine Straße", "a cafe\u0301", "ein Hund"]
    assert filter_by_substring(texts, "STRASSE") == [0]
    assert filter_by_substring(texts, "café") == [1]
    assert filter_by_substring(texts, "dog") == []
