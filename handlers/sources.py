"""/feeds, /addfeed, /removefeed and /post: bot admins manage the sources from chat."""

from __future__ import annotations

from bot.chat import Command, Reply, Text, UsageError, UserError
from bot.i18n import translate
from bot.newsroom.feed_registry import FeedSpec, RegistryError, interval_text
from bot.newsroom.source_desk import Posted, PostError
from bot.render import shorten
from bot.router import Deps, Param, ParamKind, Permission, Router
from storage.models import PublishOutcome

router = Router()

# How much of a URL being fetched the answer echoes.
URL_ECHO_CHARS = 120


@router.command("feeds", permission=Permission.BOT_ADMIN, refusal_key="error.admin_only")
async def feeds(cmd: Command, deps: Deps) -> Reply:
    """The registered feeds: number, section, state, and why one fails."""
    registered = await deps.sources.registry.all()
    if not registered:
        return Reply.text(translate(cmd.language, "feeds.none"))
    lines = [translate(cmd.language, "feeds.header", count=len(registered))]
    for feed in registered:
        if not feed.enabled:
            state = translate(cmd.language, "feeds.disabled")
        elif feed.failures:
            state = translate(cmd.language, "feeds.failing", count=feed.failures)
        else:
            state = translate(cmd.language, "feeds.ok")
        lines.append(
            f"{feed.id}. {feed.url} — {deps.sections.name(feed.section, cmd.language)}, "
            f"{interval_text(feed.interval)}, {state}"
        )
        if feed.last_error:
            lines.append(f"   {feed.last_error}")
    return Reply.text("\n".join(lines))


@router.command(
    "addfeed",
    permission=Permission.BOT_ADMIN,
    usage=True,
    refusal_key="error.admin_only",
    params=(Param("url", required=True), Param("section", ParamKind.SECTION, required=True)),
)
async def addfeed(cmd: Command, deps: Deps) -> Reply:
    """`/addfeed URL section`: register a feed; its first poll stores without pushing."""
    url = cmd.options.get("url") if cmd.options else None
    section = cmd.options.get("section") if cmd.options else None
    if not cmd.options:
        url, _, section = cmd.args.strip().partition(" ")
    if not url or not section:
        raise UsageError
    try:
        feed = await deps.sources.registry.add(FeedSpec(url=url, section=section.strip()))
    except RegistryError as error:
        return Reply.text(
            translate(cmd.language, "feeds.refused", reason=str(error)), private=True
        )
    return Reply.text(
        translate(
            cmd.language,
            "feeds.added",
            id=feed.id,
            url=feed.url,
            section=deps.sections.name(feed.section, cmd.language),
        )
    )


@router.command(
    "removefeed",
    permission=Permission.BOT_ADMIN,
    usage=True,
    refusal_key="error.admin_only",
    params=(Param("feed", ParamKind.INTEGER, required=True),),
)
async def removefeed(cmd: Command, deps: Deps) -> Reply:
    """`/removefeed N`: forget a feed; its stories stay."""
    reference = cmd.args.strip()
    if not reference:
        raise UsageError
    try:
        feed = await deps.sources.registry.remove(reference)
    except RegistryError as error:
        return Reply.text(
            translate(cmd.language, "feeds.refused", reason=str(error)), private=True
        )
    return Reply.text(translate(cmd.language, "feeds.removed", id=feed.id, url=feed.url))


@router.command(
    "post",
    permission=Permission.BOT_ADMIN,
    usage=True,
    refusal_key="error.admin_only",
    params=(Param("url", required=True), Param("section", ParamKind.SECTION)),
)
async def post(cmd: Command, deps: Deps) -> Reply:
    """`/post URL [section]`: an article page stored as a story and pushed as any new one."""
    if cmd.options:
        url, section_word = cmd.options.get("url", ""), cmd.options.get("section")
    else:
        url, _, section_word = cmd.args.strip().partition(" ")
    if not url:
        raise UsageError
    section = None
    if section_word and section_word.strip():
        found = deps.sections.find(section_word)
        if found is None:
            known = ", ".join(each.slug for each in deps.sections.all())
            return Reply.text(
                translate(
                    cmd.language, "error.unknown_section", word=section_word[:40], slugs=known
                ),
                private=True,
            )
        section = found.slug
    language = cmd.language

    async def fetched() -> Reply:
        try:
            posted = await deps.sources.post(url, section)
        except PostError as error:
            raise UserError("post.failed", reason=str(error)) from error
        return Reply.text(_posted_text(posted, deps, language))

    # A page may take a while to come (up to NEWSBOT_INGEST_TIMEOUT_SECONDS): the admin is told
    # at once what is being done, and the answer replaces that when it is ready.
    fetching = translate(language, "post.fetching", url=shorten(url.strip(), URL_ECHO_CHARS))
    return Reply(
        parts=(Text(fetching),),
        follow_up=deps.desk.answer_later(fetched, language=language),
    )


def _posted_text(posted: Posted, deps: Deps, language: str) -> str:
    """What became of a posted page: stored, and pushed to whom, or why to nobody."""
    result = posted.result
    values = {"id": result.article_id, "title": posted.title, "count": result.queued}
    if result.withheld and (posted.date_unread or posted.published_at is None):
        return translate(language, "post.date_unread", **values)
    if result.withheld and posted.published_at is not None:
        return translate(
            language,
            "post.too_old",
            **values,
            time=deps.renderer.time_label(posted.published_at, language),
            hours=f"{deps.settings.push_max_age_hours:g}",
        )
    key = {
        PublishOutcome.NEW: "post.new",
        PublishOutcome.UPDATED: "post.updated",
        PublishOutcome.DUPLICATE: "post.duplicate",
    }[result.outcome]
    return translate(language, key, **values)
