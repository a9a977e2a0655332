"""/latest and /read."""

from __future__ import annotations

from bot.chat import Command, Reply, Text, UsageError, UserError
from bot.i18n import translate
from bot.render import shorten
from bot.router import Deps, Param, ParamKind, Router
from bot.settings import BREAKING_SLUG
from storage import search_text
from storage.models import Article, Section

router = Router()

LATEST_LIMIT = 5
# How much of a reader's query is echoed back in an answer.
ECHO_CHARS = 60
# Story numbers are SQLite integers (at most 2**63 - 1, 19 digits): one of 18 digits always
# fits, and one of more is taken as a story that does not exist, echoed back at most this long.
MAX_ARTICLE_ID_DIGITS = 18
ID_ECHO_CHARS = 24


@router.command(
    "latest",
    usage=True,
    params=(Param("section", ParamKind.SECTION), Param("query", ParamKind.TEXT)),
)
async def latest(cmd: Command, deps: Deps) -> Reply:
    """Up to five newest stories, of a section if the first words name one, matching the rest.

    Very common words (`di`, `the`) are not required of a story when other words are given, as
    for follows; a query of nothing else searches for them all the same.
    """
    if cmd.options:
        # Typed options: the query is all words, even when its first ones name a section.
        section = _section_option(cmd.options.get("section"), deps)
        query = " ".join(cmd.options.get("query", "").split())
    else:
        words = cmd.args.split()
        length, section = deps.sections.name_at(words) if words else (0, None)
        if section is not None:
            words = words[length:]
        query = " ".join(words)
    terms, common = search_text.significant_query_words(query)
    terms = terms or search_text.query_words(" ".join(common))
    articles = await deps.storage.articles.latest(
        section=section.slug if section else None,
        terms=terms,
        limit=LATEST_LIMIT,
        # The breaking section lists every breaking story, whatever section it was filed in:
        # what its subscribers received.
        breaking=section is not None and section.slug == BREAKING_SLUG,
    )
    language = cmd.language
    section_name = section.name(language) if section else ""
    echo = query if len(query) <= ECHO_CHARS else query[: ECHO_CHARS - 1] + "…"
    parts: list[Text] = []
    if query and not terms:
        parts.append(Text(translate(language, "latest.no_terms")))
    searched = bool(terms)
    if not articles:
        if searched:
            key = "latest.none_query_section" if section else "latest.none_query"
        else:
            key = "latest.none_section" if section else "latest.none"
        return Reply(
            parts=(*parts, Text(translate(language, key, query=echo, section=section_name)))
        )
    if searched:
        key = "latest.header_query_section" if section else "latest.header_query"
    else:
        key = "latest.header_section" if section else "latest.header"
    parts.append(Text(translate(language, key, query=echo, section=section_name)))
    cards = tuple(
        deps.renderer.card(article, language, with_summary=False) for article in articles
    )
    return Reply(parts=(*parts, *cards))


@router.command("read", usage=True, params=(Param("id", ParamKind.STORY, required=True),))
async def read(cmd: Command, deps: Deps) -> Reply:
    """The whole story with this number; a withdrawn one is said to be withdrawn."""
    article = await find_story(cmd.args, deps, include_retracted=True)
    if article.retracted_at is not None:
        raise UserError("read.retracted", id=article.id)
    return deps.renderer.full(article, cmd.language)


def _section_option(word: str | None, deps: Deps) -> Section | None:
    """The section a typed option names; UserError naming the known ones if none."""
    if not word:
        return None
    section = deps.sections.find(word)
    if section is None:
        known = ", ".join(each.slug for each in deps.sections.all())
        raise UserError("error.unknown_section", word=shorten(word, 40), slugs=known)
    return section


async def find_story(text: str, deps: Deps, *, include_retracted: bool = False) -> Article:
    """The stored story a typed number (`42`, `#42`, `0042`) names.

    Raises:
        UsageError: no number was typed.
        UserError: what was typed is not a number, or no story has that number.
    """
    argument = text.strip().lstrip("#")
    if not argument:
        raise UsageError
    if not (argument.isascii() and argument.isdigit()):
        raise UserError("error.bad_article_id")
    # A number past what the database can hold is a number all the same: no such story.
    digits = argument.lstrip("0") or "0"
    article = (
        await deps.storage.articles.get(int(digits), include_retracted=include_retracted)
        if len(digits) <= MAX_ARTICLE_ID_DIGITS
        else None
    )
    if article is None:
        raise UserError("read.not_found", id=shorten(argument, ID_ECHO_CHARS))
    return article
