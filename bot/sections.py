"""The configured sections, and how a reader's or a feed's words find one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.models import Section
from storage.search_text import words as search_words

# A phrase is the folded words of a name: "Dalam Negeri", "dalam-negeri", "#dalam_negeri" and
# "DALAM NEGERI" are all ("dalam", "negeri"). Punctuation, a leading "#" included, drops out.
Phrase = tuple[str, ...]


def _phrase(text: str) -> Phrase:
    return tuple(search_words(text))


class SectionCatalog:
    """Finds sections by slug, Indonesian or English name, or alias; case and accents aside."""

    def __init__(self, sections: Sequence[Section], *, fallback: str) -> None:
        self._sections = tuple(sections)
        self._by_slug = {section.slug: section for section in self._sections}
        self._by_phrase: dict[Phrase, Section] = {}
        for section in self._sections:
            for name in (section.slug, section.name_id, section.name_en, *section.aliases):
                phrase = _phrase(name)
                if phrase:
                    self._by_phrase.setdefault(phrase, section)
        self._longest = max((len(phrase) for phrase in self._by_phrase), default=1)
        self.fallback = fallback

    def all(self) -> tuple[Section, ...]:
        """Every section, in configured order."""
        return self._sections

    def get(self, slug: str) -> Section:
        """The section with this slug; KeyError if there is none."""
        return self._by_slug[slug]

    def find(self, name: str) -> Section | None:
        """The section a name names (`Internasional`, `#international`, `dalam negeri`), if any."""
        phrase = _phrase(name)
        return self._by_phrase.get(phrase) if phrase else None

    def name(self, slug: str, language: str) -> str:
        """A section's display name; the slug itself for a section no longer configured."""
        section = self._by_slug.get(slug)
        return section.name(language) if section else slug

    def aliases(self, section: Section, language: str) -> tuple[str, ...]:
        """The other words that name `section`, as configured, once each.

        Leaves out the slug and the display name in `language` (shown beside them anyway), and
        any word that an earlier section already claimed, since it does not find this one.
        """
        seen = {_phrase(section.slug), _phrase(section.name(language))}
        shown: list[str] = []
        for name in (section.name_id, section.name_en, *section.aliases):
            phrase = _phrase(name)
            if phrase and phrase not in seen and self._by_phrase.get(phrase) is section:
                seen.add(phrase)
                shown.append(name)
        return tuple(shown)

    def named_in(self, text: str) -> list[tuple[str, Section | None]]:
        """Read a list of section names typed by a reader: `nasional, #ekonomi dalam negeri`.

        Commas and spaces separate names; a run of words that names a section is taken whole,
        the longest first, so `dalam negeri` is one name. Each name comes back with its section,
        or with None for words that name none (consecutive ones together: `sihir hitam`).
        """
        found: list[tuple[str, Section | None]] = []
        for chunk in text.split(","):
            tokens = chunk.split()
            unknown: list[str] = []
            start = 0
            while start < len(tokens):
                length, section = self.name_at(tokens, start)
                if section is None:
                    unknown.append(tokens[start])
                    start += 1
                    continue
                if unknown:
                    found.append((" ".join(unknown), None))
                    unknown = []
                found.append((" ".join(tokens[start : start + length]), section))
                start += length
            if unknown:
                found.append((" ".join(unknown), None))
        return found

    def name_at(self, tokens: Sequence[str], start: int = 0) -> tuple[int, Section | None]:
        """How many tokens from `start` name a section, the most that do, and that section
        (1 and None when none does)."""
        for length in range(min(self._longest, len(tokens) - start), 0, -1):
            section = self.find(" ".join(tokens[start : start + length]))
            if section is not None:
                return length, section
        return 1, None

    def for_categories(self, categories: Sequence[str]) -> str:
        """The slug for a story with these categories (an RSS item's, a page's, a line's).

        A category that is a section's name or alias wins, the first such category first.
        Otherwise a category of several words that contains a name decides: in the first such
        category, the longest name it contains, then the earliest (`Berita Sepak Bola
        Nasional` is olahraga). Otherwise the fallback section.
        """
        for category in categories:
            section = self.find(category)
            if section is not None:
                return section.slug
        for category in categories:
            section = self._contained_in(_phrase(category))
            if section is not None:
                return section.slug
        return self.fallback

    def _contained_in(self, words: Phrase) -> Section | None:
        for length in range(min(self._longest, len(words)), 0, -1):
            for start in range(len(words) - length + 1):
                section = self._by_phrase.get(words[start : start + length])
                if section is not None:
                    return section
        return None


@dataclass(frozen=True)
class SectionChoice:
    """The section of each story of an input: `fixed` for all of them when given (an
    operator's ``--section``), else the catalogue's reading of the story's category words.
    A plain object rather than a closure, so that a parsing process can take it along."""

    catalog: SectionCatalog
    fixed: str | None = None

    def __call__(self, categories: Sequence[str]) -> str:
        return self.fixed if self.fixed is not None else self.catalog.for_categories(categories)
