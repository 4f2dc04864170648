"""The pages' languages: the browser's preference honoured, and every words file complete in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

import trace_api
from trace_api.web.i18n import LANGUAGES, SHARED_WORDS, Words, catalogue, from_accept_language, read_words

WORDS_FILES = sorted(Path(trace_api.__file__).parent.glob("*/words.toml"))


def test_accept_language_picks_the_best_ranked_supported_language() -> None:
    assert from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert from_accept_language("fr-FR, de;q=0.9, zh-Hans-CN;q=0.5, en;q=0.4") == "zh-CN"
    assert from_accept_language("en;q=0, zh;q=0.1") == "zh-CN"
    assert from_accept_language("fr, de") is None


def test_the_shared_words_and_every_feature_that_prints_words_have_a_words_file() -> None:
    assert {path.parent.name for path in WORDS_FILES} == {
        "web",
        "consumer",
        "alerts",
        "batches",
        "recalls",
        "investigations",
        "labels",
        "coldchain",
        "home",
        "products",
        "codes",
        "verify",
    }


@pytest.mark.parametrize("path", WORDS_FILES, ids=lambda path: path.parent.name)
def test_both_languages_have_words_for_every_key(path: Path) -> None:
    entries = read_words(path)
    assert entries
    for key, words in entries.items():
        assert set(words) == set(LANGUAGES), key
        assert all(text.strip() for text in words.values()), key
    by_language = catalogue(path)
    assert set(by_language["zh-CN"]) == set(by_language["en"]) == set(entries)


def test_no_key_is_defined_in_two_words_files() -> None:
    merged = catalogue(*WORDS_FILES)
    assert len(merged["zh-CN"]) == sum(len(read_words(path)) for path in WORDS_FILES)


def test_an_entry_without_both_languages_or_defined_twice_is_refused(tmp_path: Path) -> None:
    half = tmp_path / "half.toml"
    half.write_text('[banner]\nrecalled = { zh-CN = "召回" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"banner\.recalled needs words in exactly zh-CN and en"):
        read_words(half)
    again = tmp_path / "again.toml"
    again.write_text('[banner]\nrecalled = { zh-CN = "召回", en = "Recalled" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"banner\.recalled is already defined"):
        catalogue(again, again)


def test_a_region_is_worded_by_its_names_in_chinese_and_with_its_province_in_english() -> None:
    words = catalogue(SHARED_WORDS)
    zh, en = Words("zh-CN", words["zh-CN"]), Words("en", words["en"])
    assert zh.region("330106") == "浙江省杭州市西湖区"
    assert en.region("330106") == "杭州市西湖区, Zhejiang"
    assert en.region("110101") == "东城区, Beijing"
    assert en.region("330000") == "Zhejiang"
    assert zh.region("980106") == en.region("980106") == "980106"  # unknown: shown as it is
    assert zh.region(None) == ""
