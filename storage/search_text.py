"""Search text processing, identical at index and at query time.

Lower case, accents folded, split into words, Snowball Indonesian stems (through PyStemmer, so
that PostgreSQL's `indonesian` configuration gives the same stems later). The output is only
ASCII letters and digits joined by spaces: it can never carry FTS query syntax.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import Stemmer

# Query words past these bounds add nothing a reader meant and only cost time.
MAX_QUERY_TERMS = 12
MAX_TERM_LENGTH = 40
MAX_QUERY_CHARS = 2_000

_WORD = re.compile(r"[a-z0-9]+")

# Words so common that asking for them narrows nothing: Indonesian function words, and English
# ones, which an Indonesian story never contains (a follow that required "the" would never
# fire). Follows leave them out of their terms; the index keeps every word. Kept off the list
# on purpose: "as" (Amerika Serikat), "it" (IT), "us", "who", "antara" (the news agency).
COMMON_WORDS = frozenset(
    {
        # Indonesian
        "ada", "adalah", "agar", "akan", "atau", "bagi", "bahwa", "bisa", "dan", "dapat",
        "dari", "dengan", "di", "hingga", "ia", "ini", "itu", "jika", "juga", "kalau",
        "karena", "ke", "kepada", "maka", "namun", "oleh", "pada", "para", "pun", "saat",
        "sebagai", "secara", "serta", "sudah", "tapi", "telah", "terhadap", "tersebut",
        "tetapi", "untuk", "yaitu", "yakni", "yang",
        # English
        "an", "and", "are", "at", "be", "been", "by", "for", "from", "in", "into", "is",
        "its", "of", "on", "or", "that", "the", "these", "this", "those", "to", "was", "were",
        "with",
    }
)  # fmt: skip


@functools.cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("indonesian")


def _invisible_characters() -> dict[int, None]:
    """Unicode's format characters (category Cf): zero-width spaces and joiners, the soft
    hyphen, bidi marks and overrides, the byte-order mark, tag characters. Invisible in text,
    they would split `na\u200bto` into two words that nobody searches for."""
    planes = (range(0x10000), range(0xE0000, 0xE0080))  # the BMP, and the tags block
    return {
        code: None for plane in planes for code in plane if unicodedata.category(chr(code)) == "Cf"
    }


_INVISIBLE = _invisible_characters()


def fold(text: str) -> str:
    """Lower-case `text`, strip accents and invisible characters: `Café` → `cafe`,
    `ÉTAT` → `etat`, `na\u200bto` → `nato`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_INVISIBLE).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded ASCII words of `text`, in order; punctuation, symbols and emoji drop out."""
    return _WORD.findall(fold(text))


def terms(text: str) -> list[str]:
    """The stemmed search terms of `text`, in order, each cut to `MAX_TERM_LENGTH`."""
    return [str(stem)[:MAX_TERM_LENGTH] for stem in _stemmer().stemWords(words(text))]


def index_text(text: str) -> str:
    """`text` as the search index stores it."""
    return " ".join(terms(text))


def query_terms(text: str) -> list[str]:
    """The distinct search terms of a reader's query, bounded in number and length."""
    unique: list[str] = []
    for term in terms(text[:MAX_QUERY_CHARS]):
        if term not in unique:
            unique.append(term)
        if len(unique) == MAX_QUERY_TERMS:
            break
    return unique


def significant_query_terms(text: str) -> tuple[list[str], list[str]]:
    """`query_terms` of `text` without its `COMMON_WORDS`, and the common words left out.

    `harga beras di pasar` gives (["harga", "beras", "pasar"], ["di"]). A word is judged as
    typed, so the pieces of `Jum'at` or `Qur'an` ("at", "an") are not common words.
    """
    kept: list[str] = []
    common: list[str] = []
    for typed in text[:MAX_QUERY_CHARS].split():
        pieces = words(typed)
        if pieces and all(piece in COMMON_WORDS for piece in pieces):
            common += [piece for piece in pieces if piece not in common]
        else:
            kept += pieces
    return query_terms(" ".join(kept)), common


def fts_phrases(query_terms: list[str]) -> str:
    """The terms as FTS5 strings that must all match, e.g. `"nato" "jepang"`.

    The terms come from `query_terms`, so they hold only `[a-z0-9]`; quoting them anyway keeps
    words such as `or`, `and`, `not` or `near` from ever being read as operators.
    """
    return " ".join(f'"{term}"' for term in query_terms)
