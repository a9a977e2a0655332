"""The configured sections, and how a reader's or a feed's word finds one."""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Section
from storage.search_text import fold


class SectionCatalog:
    """Finds sections by slug, Indonesian or English name, or alias; case and accents aside."""

    def __init__(self, sections: Sequence[Section], *, fallback: str) -> None:
        self._sections = tuple(sections)
        self._by_slug = {section.slug: section for section in self._sections}
        self._by_word: dict[str, Section] = {}
        for section in self._sections:
            for word in (section.slug, section.name_id, section.name_en, *section.aliases):
                self._by_word.setdefault(_key(word), section)
        self.fallback = fallback

    def all(self) -> tuple[Section, ...]:
        """Every section, in configured order."""
        return self._sections

    def get(self, slug: str) -> Section:
        """The section with this slug; KeyError if there is none."""
        return self._by_slug[slug]

    def find(self, word: str) -> Section | None:
        """The section a word names (`Internasional`, `international`, `world`), if any."""
        return self._by_word.get(_key(word))

    def name(self, slug: str, language: str) -> str:
        """A section's display name; the slug itself for a section no longer configured."""
        section = self._by_slug.get(slug)
        return section.name(language) if section else slug

    def for_categories(self, categories: Sequence[str]) -> str:
        """The slug for a story with these categories: the first that names a section."""
        for category in categories:
            section = self.find(category)
            if section is not None:
                return section.slug
        return self.fallback


def _key(word: str) -> str:
    # "Dalam Negeri", "dalam-negeri" and "dalam_negeri" are one key.
    return " ".join(fold(word).replace("-", " ").replace("_", " ").split())
