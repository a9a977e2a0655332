"""/latest and /read."""

from __future__ import annotations

from bot.chat import Command, Reply, Text, UserError
from bot.deps import Deps
from bot.i18n import translate
from bot.router import Router, UsageError
from bot.settings import BREAKING_SLUG
from storage import search_text

router = Router()

LATEST_LIMIT = 5
# How much of a reader's query is echoed back in an answer.
ECHO_CHARS = 60


@router.command("latest", usage=True)
async def latest(cmd: Command, deps: Deps) -> Reply:
    """Up to five newest stories, of a section if the first word names one, matching the rest."""
    words = cmd.args.split()
    section = deps.sections.find(words[0]) if words else None
    if section is not None:
        words = words[1:]
    query = " ".join(words)
    terms = search_text.query_terms(query)
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


@router.command("read", usage=True)
async def read(cmd: Command, deps: Deps) -> Reply:
    """The whole story with this number."""
    argument = cmd.args.strip().lstrip("#")
    if not argument:
        raise UsageError
    if not (argument.isascii() and argument.isdigit()) or len(argument) > 18:
        raise UserError("error.bad_article_id")
    article = await deps.storage.articles.get(int(argument))
    if article is None:
        raise UserError("read.not_found", id=argument)
    return deps.renderer.full(article, cmd.language)
