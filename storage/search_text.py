"""Search text processing, identical at index and at query time.

Lower case, accents folded, split into words. Each word is indexed twice: as written (less a
trailing possessive `-nya`), and as its Snowball Indonesian stem (through PyStemmer, so that
PostgreSQL's `indonesian` configuration gives the same stems later). A search lists stories
holding the words as typed first, then those that only share their stems: Snowball strips
derivational affixes too, so `pertahanan` (defence) and `bertahan` (to hold out) share the
stem `tahan`. Every output is only ASCII letters and digits joined by spaces: it can never
carry FTS query syntax.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

import Stemmer

# Query words past these bounds add nothing a reader meant and only cost time.
MAX_QUERY_TERMS = 12
MAX_TERM_LENGTH = 40
MAX_QUERY_CHARS = 2_000

_WORD = re.compile(r"[a-z0-9]+")
# Folded ASCII text, as bytes, with everything but letters and digits made a space: `split()`
# then gives what `_WORD.findall` would, without a regular expression's cost per word.
_SEPARATORS = bytes(
    code if re.fullmatch(rb"[a-z0-9]", bytes([code])) else ord(" ") for code in range(256)
)
# The possessive `-nya` ("rumahnya", her house), where at least four letters stay: `hanya`,
# `punya` and `tanya` are words of their own. Matched within space-separated folded words;
# the look-behind comes last so that the search scans for the literal `nya`.
_POSSESSIVE = re.compile(r"nya\b(?<=[a-z0-9]{7})")
_LONG_WORD = re.compile(rf"\b([a-z0-9]{{{MAX_TERM_LENGTH}}})[a-z0-9]+")

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

# Stems already worked out, by word: a dict lookup per word instead of a call into the
# stemmer. News text reuses a vocabulary of some ten thousand words; the bound guards a
# long-running `newsbot run` against the long tail of numbers and names (emptied when full, it
# holds about 8 MB at most; 200,000 words held 32 MB and were no faster).
_STEM_CACHE_SIZE = 50_000
_stem_cache: dict[str, str] = {}


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


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Every combining mark (a non-zero canonical combining class), the accents that NFKD
    splits off their letters; worked out on the first text that is not ASCII."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))}


def fold(text: str) -> str:
    """Lower-case `text`, strip accents and invisible characters: `Café` → `cafe`,
    `ÉTAT` → `etat`, `na\u200bto` → `nato`."""
    if text.isascii():
        # Nothing to decompose, no marks, no format characters: lower case is all there is.
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_INVISIBLE).casefold())
    return decomposed.translate(_combining_marks())


def words(text: str) -> list[str]:
    """The folded ASCII words of `text`, in order; punctuation, symbols and emoji drop out."""
    folded = fold(text)
    if folded.isascii():
        return folded.encode("ascii").translate(_SEPARATORS).decode("ascii").split()
    return _WORD.findall(folded)


def _stems(found: list[str]) -> tuple[list[str], bool]:
    """The stem of each word, cut to `MAX_TERM_LENGTH`; and whether a word is longer than
    that (long words are never cached, so that text of cached words holds none)."""
    try:
        return list(map(_stem_cache.__getitem__, found)), False
    except KeyError:
        distinct = list(set(found))
        stems = _stemmer().stemWords(distinct)
        known = {word: stem[:MAX_TERM_LENGTH] for word, stem in zip(distinct, stems, strict=True)}
        if len(_stem_cache) + len(known) > _STEM_CACHE_SIZE:
            _stem_cache.clear()
        long_words = [word for word in distinct if len(word) > MAX_TERM_LENGTH]
        _stem_cache.update(known)
        for word in long_words:
            del _stem_cache[word]
        return list(map(known.__getitem__, found)), bool(long_words)


def _cut_long(match: re.Match[str]) -> str:
    return match.group(1)


def _exact_forms(joined: str, *, long_words: bool = True) -> str:
    """Space-separated folded words as the exact tier indexes them: each without a trailing
    `-nya`, cut to `MAX_TERM_LENGTH` (when `long_words` says there may be longer ones)."""
    forms = _POSSESSIVE.sub("", joined)
    return _LONG_WORD.sub(_cut_long, forms) if long_words else forms


def terms(text: str) -> list[str]:
    """The stemmed search terms of `text`, in order, each cut to `MAX_TERM_LENGTH`."""
    return _stems(words(text))[0]


def index_text(text: str) -> str:
    """`text` as the stem index stores it."""
    return " ".join(terms(text))


def index_texts(text: str) -> tuple[str, str]:
    """`text` as the index stores it: its stems, and its exact forms."""
    found = words(text)
    stems, long_words = _stems(found)
    return " ".join(stems), _exact_forms(" ".join(found), long_words=long_words)


def exact_forms(text: str) -> str:
    """`text` as the exact-form index stores it: `Rumahnya` → `rumah`."""
    return _exact_forms(" ".join(words(text)))


def _distinct(items: list[str]) -> list[str]:
    """The first `MAX_QUERY_TERMS` distinct items, in order."""
    return list(dict.fromkeys(items))[:MAX_QUERY_TERMS]


def query_terms(text: str) -> list[str]:
    """The distinct stems of a reader's query, bounded in number and length."""
    return _distinct(terms(text[:MAX_QUERY_CHARS]))


def query_words(text: str) -> list[str]:
    """The distinct folded words of a reader's query, bounded in number."""
    return _distinct(words(text[:MAX_QUERY_CHARS]))


def query_forms(query_words: list[str]) -> tuple[list[str], list[str]]:
    """The exact forms and the stems a search asks for, for the words of a query (from
    `query_words`): each distinct, bounded in number and length."""
    joined = " ".join(query_words)
    return _distinct(_exact_forms(joined).split()), _distinct(_stems(query_words)[0])


def _significant(text: str) -> tuple[str, list[str]]:
    """The words of `text` that are not `COMMON_WORDS`, and the common words left out."""
    kept: list[str] = []
    common: list[str] = []
    for typed in text[:MAX_QUERY_CHARS].split():
        pieces = words(typed)
        if pieces and all(piece in COMMON_WORDS for piece in pieces):
            common += [piece for piece in pieces if piece not in common]
        else:
            kept += pieces
    return " ".join(kept), common


def significant_query_terms(text: str) -> tuple[list[str], list[str]]:
    """`query_terms` of `text` without its `COMMON_WORDS`, and the common words left out.

    `harga beras di pasar` gives (["harga", "beras", "pasar"], ["di"]). A word is judged as
    typed, so the pieces of `Jum'at` or `Qur'an` ("at", "an") are not common words.
    """
    kept, common = _significant(text)
    return query_terms(kept), common


def significant_query_words(text: str) -> tuple[list[str], list[str]]:
    """`query_words` of `text` without its `COMMON_WORDS`, and the common words left out: what
    a search asks for (`significant_query_terms` are their stems, what a follow matches)."""
    kept, common = _significant(text)
    return query_words(kept), common


def fts_phrases(query_terms: list[str]) -> str:
    """The terms as FTS5 strings that must all match, e.g. `"nato" "jepang"`.

    The terms come from `query_terms`, so they hold only `[a-z0-9]`; quoting them anyway keeps
    words such as `or`, `and`, `not` or `near` from ever being read as operators.
    """
    return " ".join(f'"{term}"' for term in query_terms)
