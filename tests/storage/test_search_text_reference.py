"""The fast search-text paths (ASCII folding, byte-table splitting, the stem cache) give what
a plain, letter-by-letter reference gives, on tricky text."""

from __future__ import annotations

import re
import unicodedata

import pytest
import Stemmer
from hypothesis import given
from hypothesis import strategies as st

from storage import search_text

_REFERENCE_STEMMER = Stemmer.Stemmer("indonesian")


def _invisible(ch: str) -> bool:
    """A format character of the BMP or the tags block, as search_text drops them."""
    code = ord(ch)
    return unicodedata.category(ch) == "Cf" and (code < 0x10000 or 0xE0000 <= code < 0xE0080)


def _reference_words(text: str) -> list[str]:
    """Folded words as the first version worked them out: every character through Unicode's
    tables, then a regular expression."""
    text = "".join(ch for ch in text if not _invisible(ch)).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", folded)


def _reference_terms(text: str) -> list[str]:
    found = _reference_words(text)
    return [stem[: search_text.MAX_TERM_LENGTH] for stem in _REFERENCE_STEMMER.stemWords(found)]


def _reference_forms(text: str) -> list[str]:
    """Exact forms, a word at a time: less a trailing -nya where four letters stay, cut."""
    forms = []
    for word in _reference_words(text):
        form = word[:-3] if word.endswith("nya") and len(word) >= 7 else word
        forms.append(form[: search_text.MAX_TERM_LENGTH])
    return forms


TRICKY = [
    "Café ÉTAT Jepang",
    "Pertahanan, bertahan; KETAHANAN!",
    "na\u200bto na\u00adto na\u2060to \ufeffNATO \u202eotan",
    # Fullwidth letters and compatibility characters.
    "\uff26\uff55\uff4c\uff4c \uff2e\uff21\uff34\uff2f \u2460 \u00bd \ufb01nal",
    "Москва 東京 سلام Jakarta ΑΘΗΝΑ",
    "İstanbul ǅemal straße ß",
    "e\u0301 e\u0301\u0301 a\u0308\u0304 n\u0303",
    "x" * 45 + " " + "a" * 41 + "nya " + "pemberitahuannya" * 3,
    "rumahnya hanya punya tanya kenya bertanya dirinya",
    "emoji 🙂 dan tanda-hubung, Jum'at & Qur'an 2026",
    "\t\n  ",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_stems_and_forms_match_the_reference(text: str) -> None:
    stems, forms = search_text.index_texts(text)
    assert stems.split() == _reference_terms(text)
    assert search_text.terms(text) == _reference_terms(text)
    assert search_text.index_text(text) == stems
    assert forms.split() == _reference_forms(text)
    assert search_text.exact_forms(text) == forms


def test_the_same_text_twice_gives_the_same_answer() -> None:
    # The second time, every word comes from the cache (long words never do).
    for text in TRICKY:
        assert search_text.index_texts(text) == search_text.index_texts(text)


@given(st.text(max_size=200))
def test_any_text_matches_the_reference(text: str) -> None:
    stems, forms = search_text.index_texts(text)
    assert stems.split() == _reference_terms(text)
    assert forms.split() == _reference_forms(text)
