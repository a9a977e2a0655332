"""What a platform offers as a user types a command's option: sections, or stories by title.

Platform-free: Discord's autocomplete asks, an adapter shows the suggestions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.render import shorten
from bot.sections import SectionCatalog
from storage import search_text
from storage.repositories import ArticleRepository

# Discord shows at most 25 suggestions, each labelled in at most 100 characters.
MAX_SUGGESTIONS = 25
LABEL_CHARS = 100
# Story numbers beyond this many digits name no story (SQLite integers).
MAX_STORY_DIGITS = 18


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One value to offer: what is filled in, and what the user reads."""

    value: str | int
    label: str


class Suggester:
    """Suggestions from the configured sections and the archive."""

    def __init__(self, sections: SectionCatalog, articles: ArticleRepository) -> None:
        self._sections = sections
        self._articles = articles

    def sections(
        self, typed: str, language: str, *, extra: Sequence[str] = ()
    ) -> list[Suggestion]:
        """The sections (then `extra` values such as `all`) whose slug or name starts with or
        contains what was typed, in configured order, named in `language`."""
        wanted = search_text.fold(typed.strip())
        found: list[Suggestion] = []
        for section in self._sections.all():
            names = (section.slug, section.name_id, section.name_en, *section.aliases)
            if not wanted or any(wanted in search_text.fold(name) for name in names):
                label = f"{section.name(language)} ({section.slug})"
                found.append(Suggestion(section.slug, shorten(label, LABEL_CHARS)))
        found += [
            Suggestion(value, value)
            for value in extra
            if search_text.fold(value).startswith(wanted)
        ]
        return found[:MAX_SUGGESTIONS]

    async def stories(self, typed: str) -> list[Suggestion]:
        """Stories for what was typed: the story with that number, else the newest whose text
        holds the words (the last one may be half typed: it is dropped when nothing matches
        with it). Labelled `#42 Headline`."""
        text = typed.strip().lstrip("#")
        if text.isascii() and text.isdigit():
            digits = text.lstrip("0") or "0"
            article = (
                await self._articles.get(int(digits)) if len(digits) <= MAX_STORY_DIGITS else None
            )
            return [self._story(article.id, article.title)] if article is not None else []
        words = text.split()
        while True:
            terms, _common = search_text.significant_query_words(" ".join(words))
            articles = await self._articles.latest(
                section=None, terms=terms, limit=MAX_SUGGESTIONS
            )
            if articles or len(words) <= 1:
                return [self._story(article.id, article.title) for article in articles]
            words = words[:-1]

    @staticmethod
    def _story(article_id: int, title: str) -> Suggestion:
        return Suggestion(article_id, shorten(f"#{article_id} {title}", LABEL_CHARS))
