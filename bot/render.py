"""Articles into neutral messages: cards for lists and pushes, the whole story for /read; and
what a user is told when answering them failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo

from bot.chat import ArticleCard, Button, Part, Reply, StoryLine, StoryList, Text, UserError
from bot.i18n import month_abbreviation, translate
from bot.sections import SectionCatalog
from storage.models import Article, ArticleDraft

SUMMARY_CHARS = 280
# A digest line shows this much of a headline: the whole story is a /read away.
DIGEST_TITLE_CHARS = 120
# A digest lists this many stories of a section, the newest; it counts the older ones, so
# that a busy day is a few messages, not dozens.
DIGEST_STORIES_PER_SECTION = 15
# A chat's backlog sent as one message lists at most this many stories, a line each of at most
# this much of the headline and no link: 40 such lines fit one Telegram message (4,096) and one
# Discord embed (4,096), so the message stays one, which a correction can edit.
BACKLOG_STORIES = 40
BACKLOG_TITLE_CHARS = 70


class ArticleRenderer:
    """Renders stored articles in a chat's language and the configured time zone."""

    def __init__(self, sections: SectionCatalog, timezone: tzinfo) -> None:
        self._sections = sections
        self._timezone = timezone

    def _local(self, moment: datetime) -> datetime:
        try:
            return moment.astimezone(self._timezone)
        except (OverflowError, ValueError):
            # The first or last day a datetime can hold, shifted past its range: show it in
            # UTC rather than fail the whole answer.
            return moment.astimezone(UTC)

    def time_label(self, moment: datetime, language: str) -> str:
        """`24 Nov 2026 10:05 WIB`: local time with the zone's own abbreviation."""
        local = self._local(moment)
        month = month_abbreviation(language, local.month)
        return f"{local.day} {month} {local.year} {local:%H:%M} {local.tzname() or ''}".rstrip()

    def revision_label(self, published: datetime, revised: datetime, language: str) -> str:
        """`(diperbarui 14:05)`, with the day too when it is not the day of publication."""
        local, first = self._local(revised), self._local(published)
        when = f"{local:%H:%M}"
        if local.date() != first.date():
            when = f"{local.day} {month_abbreviation(language, local.month)} {when}"
        return translate(language, "card.revised", time=when)

    def card(self, article: Article, language: str, *, with_summary: bool) -> ArticleCard:
        """The article as a card, with a short summary if asked."""
        time_label = self.time_label(article.published_at, language)
        if article.revised_at is not None:
            revised = self.revision_label(article.published_at, article.revised_at, language)
            time_label = f"{time_label} {revised}"
        return ArticleCard(
            article_id=article.id,
            title=article.title,
            section_name=self._sections.name(article.section, language),
            time_label=time_label,
            url=article.url,
            summary=shorten(article.summary or article.body, SUMMARY_CHARS)
            if with_summary
            else "",
            image_url=article.image_url,
            badge=translate(language, "badge.breaking") if article.breaking else "",
            published_at=article.published_at,
        )

    def push(self, article: Article, language: str) -> Reply:
        """A new story as it arrives in a subscribed chat."""
        return Reply(
            parts=(self.card(article, language, with_summary=True),),
            buttons=(Button(translate(language, "button.read"), f"/read {article.id}"),),
        )

    def digest(self, articles: Sequence[Article], language: str, at: datetime) -> Reply:
        """Held stories as one digest sent at `at`: a header with the time and the count, then
        the stories of each section (in the configured order), newest first, a line each."""
        by_section: dict[str, list[Article]] = {}
        for article in sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True):
            by_section.setdefault(article.section, []).append(article)
        configured = [section.slug for section in self._sections.all()]
        order = [slug for slug in configured if slug in by_section]
        order += sorted(slug for slug in by_section if slug not in configured)
        header = translate(
            language, "digest.header", time=self.time_label(at, language), count=len(articles)
        )
        parts: list[Part] = [Text(header)]
        day = self._local(at).date()
        for slug in order:
            stories = by_section[slug]
            shown = stories[:DIGEST_STORIES_PER_SECTION]
            older = len(stories) - len(shown)
            lines = tuple(
                StoryLine(
                    article_id=article.id,
                    title=shorten(article.title, DIGEST_TITLE_CHARS),
                    time_label=self._clock_label(article.published_at, day, language),
                    url=article.url,
                )
                for article in shown
            )
            footer = translate(language, "digest.older", count=older) if older else ""
            parts.append(StoryList(self._sections.name(slug, language), lines, footer))
        return Reply(parts=tuple(parts))

    def backlog(self, articles: Sequence[Article], language: str, at: datetime) -> Reply:
        """A chat's backlog of pushes as one message (more than it could take one by one
        soon): a header with the count, then a line per story in publication order."""
        day = self._local(at).date()
        lines = tuple(
            StoryLine(
                article_id=article.id,
                title=shorten(article.title, BACKLOG_TITLE_CHARS),
                time_label=self._clock_label(article.published_at, day, language),
            )
            for article in sorted(articles, key=lambda a: (a.published_at, a.id))
        )
        heading = translate(language, "backlog.header", count=len(lines))
        return Reply(parts=(StoryList(heading, lines),))

    def _clock_label(self, moment: datetime, day: date, language: str) -> str:
        """`14:05` on `day`, `23 Nov 14:05` on another."""
        local = self._local(moment)
        if local.date() == day:
            return f"{local:%H:%M}"
        return f"{local.day} {month_abbreviation(language, local.month)} {local:%H:%M}"

    def preview(self, draft: ArticleDraft, language: str, *, now: datetime) -> ArticleCard:
        """The card a push of `draft` will show once it is stored, marked as a preview."""
        unstored = Article(
            id=0,
            identity=draft.identity,
            title=draft.title,
            body=draft.body,
            section=draft.section,
            published_at=draft.published_at or now,
            url=draft.url,
            summary=draft.summary,
            author=draft.author,
            image_url=draft.image_url,
            source=draft.source,
            breaking=draft.breaking,
        )
        return replace(self.card(unstored, language, with_summary=True), preview=True)

    def full(self, article: Article, language: str) -> Reply:
        """The whole story: its card, then the body, author and source."""
        parts: list[Text | ArticleCard] = [self.card(article, language, with_summary=False)]
        parts.append(Text(article.body))
        footer = []
        if article.author:
            footer.append(translate(language, "read.author", author=article.author))
        if article.url:
            footer.append(translate(language, "read.source", url=article.url))
        if article.also_reported_by:
            others = ", ".join(article.also_reported_by)
            footer.append(translate(language, "read.also_reported", sources=others))
        if footer:
            parts.append(Text("\n".join(footer)))
        return Reply(parts=tuple(parts))


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis if cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] or flat[: limit - 1]
    return cut.rstrip(",.;:") + "…"


def failure_reply(error: UserError | None, language: str) -> Reply:
    """What a user is told when answering them failed: a `UserError`'s own text, or for any
    other failure (None; the caller logs it with its traceback) a short generic apology.
    Meant for the asker alone."""
    if error is None:
        return Reply.text(translate(language, "error.internal"), private=True)
    return Reply.text(translate(language, error.key, **error.values), private=True)
