"""Search text processing: the same at index and query time, and never query syntax."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import search_text


def test_folds_case_and_accents() -> None:
    assert search_text.words("Café ÉTAT Jepang") == ["cafe", "etat", "jepang"]


def test_indonesian_stems_are_shared_by_related_words() -> None:
    assert search_text.terms("Pertahanan") == search_text.terms("bertahan") == ["tahan"]
    assert search_text.terms("Jepang") == search_text.terms("jepang")
    assert search_text.index_text("Kunjungan berkunjung") == "kunjung kunjung"


def test_query_terms_are_distinct_and_bounded() -> None:
    assert search_text.query_terms("nato NATO Nato") == ["nato"]
    many = " ".join(f"kata{i}" for i in range(100))
    assert len(search_text.query_terms(many)) == search_text.MAX_QUERY_TERMS
    assert all(len(t) <= search_text.MAX_TERM_LENGTH for t in search_text.query_terms("a" * 500))


def test_symbols_and_emoji_give_no_terms() -> None:
    assert search_text.query_terms('"* @ - 🙂 ()') == []


@given(st.text(max_size=300))
def test_any_text_gives_only_plain_terms_and_a_valid_fts_query(text: str) -> None:
    terms = search_text.query_terms(text)
    assert all(re.fullmatch(r"[a-z0-9]+", term) for term in terms)
    if terms:
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE VIRTUAL TABLE t USING fts5(title, body)")
        connection.execute("INSERT INTO t VALUES ('nato', 'jepang')")
        # Raises sqlite3.OperationalError on any syntax error.
        connection.execute(
            "SELECT rowid FROM t WHERE t MATCH ?",
            (f"{{title body}} : ({search_text.fts_phrases(terms)})",),
        ).fetchall()


@pytest.mark.parametrize(
    ("text", "terms", "common"),
    [
        ("harga beras di pasar", ["harga", "beras", "pasar"], ["di"]),
        ("The NATO summit", ["nato", "summit"], ["the"]),
        ("yang dan, DI!", [], ["yang", "dan", "di"]),
        ("di di di", [], ["di"]),
        # Judged as typed: the pieces of one word are not common words on their own.
        ("Jum'at Qur'an", ["jum", "at", "qur", "an"], []),
        # Kept off the list: AS is Amerika Serikat, IT is IT, ANTARA the news agency.
        ("AS IT antara", ["as", "it", "antara"], []),
        ("", [], []),
    ],
)
def test_significant_terms_leave_out_common_words(
    text: str, terms: list[str], common: list[str]
) -> None:
    assert search_text.significant_query_terms(text) == (terms, common)


def test_common_words_are_still_indexed() -> None:
    # Only queries leave them out; the archive keeps every word.
    assert search_text.index_text("yang di the") == "yang di the"
