"""The breaking-news desk: bot admins draft, send, correct and withdraw stories.

`/breaking` answers with a preview and Send/Cancel buttons (`/confirm CODE`, `/cancel CODE`);
`/correct` and `/retract` change stories already out; `/status` and `/audit` report. The work
behind them (drafts, live counters, retractions) is `bot.newsroom.desk`'s; these handlers talk.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.chat import Button, Command, Reply, Text, UsageError, UserError
from bot.i18n import translate
from bot.newsroom.desk import (
    DESK_ACTIONS,
    DeliveryCounts,
    LiveState,
    breaking_request,
    counters_text,
    parse_breaking,
)
from bot.platform import DELETE_WINDOW
from bot.render import shorten
from bot.router import Deps, Handler, Param, ParamKind, Permission, Router
from handlers.news import find_story
from storage.models import Article, AuditEntry, DeliveryKind, PublishOutcome, Retraction

router = Router()

AUDIT_DEFAULT = 10
AUDIT_MAX = 50
# How much of a headline the desk's answers quote.
TITLE_CHARS = 80


def _desk_command(name: str, *params: Param) -> Callable[[Handler], Handler]:
    """A desk command: for bot admins only; a refusal names the command."""
    return router.command(
        name,
        permission=Permission.BOT_ADMIN,
        usage=True,
        refusal_key="error.admin_only",
        params=params,
    )


STORY = Param("id", ParamKind.STORY, required=True)


@router.command(
    "breaking",
    permission=Permission.BOT_ADMIN,
    usage=True,
    params=(
        Param("section", ParamKind.SECTION, prefix="#"),
        Param("headline", required=True),
        Param("text", required=True, prefix="| "),
        Param("link", prefix="| "),
    ),
)
async def breaking(cmd: Command, deps: Deps) -> Reply:
    """Draft a breaking story: a preview as readers will see it, whom it will reach, and
    Send/Cancel buttons. Nothing is stored as a story until it is sent.

    `/breaking [#section] <headline> | <text> [| <link>]`; without `#section` the story goes
    to the configured default section. The same headline again the same day is a correction
    of the story sent under it.
    """
    default = deps.settings.breaking_default_section
    if cmd.options:
        # Typed options: a `|` inside the headline is part of it, not a separator.
        options = cmd.options
        request = breaking_request(
            deps.sections,
            default,
            section=options.get("section"),
            headline=options.get("headline", ""),
            text=options.get("text", ""),
            link=options.get("link"),
        )
    else:
        request = parse_breaking(cmd.args, deps.sections, default)
    drafted = await deps.desk.draft(request, actor=cmd.actor, chat=cmd.chat)
    preview, language = drafted.preview, cmd.language
    if preview.retracted:
        raise UserError("draft.retracted", id=preview.article_id)
    if drafted.draft is None:
        return Reply.text(translate(language, "breaking.duplicate", id=preview.article_id))
    total = sum(preview.reach.values())
    if preview.outcome is PublishOutcome.UPDATED:
        effect = translate(language, "draft.correction", id=preview.article_id, count=total)
    else:
        platforms = ", ".join(
            f"{translate(language, f'platform.{platform.value}')} {count}"
            for platform, count in sorted(preview.reach.items())
        )
        effect = translate(language, "draft.reach", count=total, platforms=platforms)
    code = drafted.draft.code
    pending = translate(
        language,
        "draft.pending",
        code=code,
        time=deps.renderer.time_label(drafted.draft.expires_at, language),
    )
    return Reply(
        parts=(
            deps.renderer.preview(drafted.story, language, now=drafted.draft.created_at),
            Text(f"{effect}\n{pending}"),
        ),
        buttons=(
            Button(translate(language, "button.send"), f"/confirm {code}"),
            Button(translate(language, "button.cancel"), f"/cancel {code}"),
        ),
    )


@_desk_command("confirm", Param("code", required=True))
async def confirm(cmd: Command, deps: Deps) -> Reply:
    """Send a draft. The answer then shows the story's delivery counters as they change."""
    if not cmd.args.strip():
        raise UsageError
    language = cmd.language
    confirmed = await deps.desk.confirm(
        cmd.args, actor=cmd.actor, chat=cmd.chat, language=language
    )
    result, story = confirmed.result, confirmed.story
    if result.outcome is PublishOutcome.DUPLICATE:
        article = await deps.storage.articles.get(result.article_id, include_retracted=True)
        if article is not None and article.retracted_at is not None:
            raise UserError("draft.retracted", id=result.article_id)
        return Reply.text(translate(language, "breaking.duplicate", id=result.article_id))
    if result.outcome is PublishOutcome.UPDATED:
        return Reply.text(
            translate(language, "breaking.updated", id=result.article_id, count=result.queued)
        )
    heading = translate(
        language,
        "breaking.stored",
        id=result.article_id,
        section=deps.sections.name(story.section, language),
        count=result.queued,
    )
    if not result.queued:
        return Reply.text(heading)
    counts = await deps.desk.push_counts(result.article_id)
    state = LiveState.DONE if counts.done else LiveState.RUNNING
    shown = counters_text(heading, counts, state, result.article_id, language)
    if counts.done:
        return Reply.text(shown)
    return Reply(
        parts=(Text(shown),),
        follow_up=deps.desk.live_counters(
            result.article_id, heading=heading, language=language, shown=shown
        ),
    )


@_desk_command("cancel", Param("code", required=True))
async def cancel(cmd: Command, deps: Deps) -> Reply:
    """Cancel a draft: it will never be sent."""
    if not cmd.args.strip():
        raise UsageError
    draft = await deps.desk.cancel(cmd.args, actor=cmd.actor, chat=cmd.chat, language=cmd.language)
    return Reply.text(translate(cmd.language, "cancel.done", code=draft.code))


@_desk_command("correct", STORY, Param("headline"), Param("text", prefix="| "))
async def correct(cmd: Command, deps: Deps) -> Reply:
    """`/correct ID new headline | new text`: every delivered copy is edited.

    Either side of the `|` may be left empty to keep what the story has.
    """
    if cmd.options:
        # Typed options: either may be left out, and a `|` inside one is part of it.
        number = cmd.options.get("id", "")
        headline = cmd.options.get("headline", "").strip()
        text = cmd.options.get("text", "").strip()
        bar = "|"
    else:
        number, _, rest = cmd.args.strip().partition(" ")
        headline, bar, text = rest.partition("|")
        headline, text = headline.strip(), text.strip()
    if not number or not bar or not (headline or text):
        raise UsageError
    article = await find_story(number, deps, include_retracted=True)
    if article.retracted_at is not None:
        raise UserError("correct.retracted", id=article.id)
    result = await deps.desk.correct(
        article, headline=headline, text=text, actor=cmd.actor, chat=cmd.chat
    )
    if result.outcome is PublishOutcome.DUPLICATE:
        return Reply.text(translate(cmd.language, "correct.unchanged", id=article.id))
    return Reply.text(translate(cmd.language, "correct.done", id=article.id, count=result.queued))


@_desk_command("retract", STORY, Param("reason"))
async def retract(cmd: Command, deps: Deps) -> Reply:
    """`/retract ID [reason]`: the story leaves /latest and /read, its copies are deleted where
    the platform still allows it, and the answer says how many could not be."""
    number, _, reason = cmd.args.strip().partition(" ")
    if not number:
        raise UsageError
    article = await find_story(number, deps, include_retracted=True)
    language = cmd.language
    if article.retracted_at is not None:
        when = deps.renderer.time_label(article.retracted_at, language)
        return Reply.text(translate(language, "retract.already", id=article.id, time=when))
    retraction = await deps.desk.retract(
        article, reason=reason.strip(), actor=cmd.actor, chat=cmd.chat
    )
    if retraction.already is not None:
        when = deps.renderer.time_label(retraction.already, language)
        return Reply.text(translate(language, "retract.already", id=article.id, time=when))
    return Reply.text(_retraction_text(article, retraction, language))


def _retraction_text(article: Article, retraction: Retraction, language: str) -> str:
    title = shorten(article.title, TITLE_CHARS)
    lines = [
        translate(language, "retract.done", id=article.id, title=title),
        translate(language, "retract.deleting", count=sum(retraction.deleting.values())),
    ]
    reasons = [
        translate(
            language,
            "retract.too_old",
            count=count,
            platform=translate(language, f"platform.{platform.value}"),
            hours=f"{DELETE_WINDOW[platform].total_seconds() / 3600:g}",
        )
        for platform, count in sorted(retraction.too_old.items())
    ]
    gone = sum(retraction.in_gone_chats.values())
    if gone:
        reasons.append(translate(language, "retract.gone", count=gone))
    cannot = sum(retraction.too_old.values()) + gone
    if cannot:
        lines.append(
            translate(language, "retract.cannot", count=cannot, reasons="; ".join(reasons))
        )
    if retraction.cancelled:
        lines.append(translate(language, "retract.cancelled", count=retraction.cancelled))
    return "\n".join(lines)


@_desk_command("status", STORY)
async def status(cmd: Command, deps: Deps) -> Reply:
    """The delivery of one story per platform: pushes, edits and deletions, by state."""
    number = cmd.args.strip()
    if not number or " " in number:
        raise UsageError
    article = await find_story(number, deps, include_retracted=True)
    language = cmd.language
    lines = [
        translate(language, "status.header", id=article.id, title=article.title),
        translate(
            language,
            "status.meta",
            section=deps.sections.name(article.section, language),
            time=deps.renderer.time_label(article.published_at, language),
        ),
    ]
    if article.retracted_at is not None:
        when = deps.renderer.time_label(article.retracted_at, language)
        if article.retraction_reason:
            lines.append(
                translate(
                    language,
                    "status.retracted_reason",
                    time=when,
                    reason=article.retraction_reason,
                )
            )
        else:
            lines.append(translate(language, "status.retracted", time=when))
    tallies = await deps.storage.outbox.tally(article.id)
    if not tallies:
        lines.append(translate(language, "status.none"))
    for platform in sorted({tally.platform for tally in tallies}):
        for kind in DeliveryKind:
            counts = DeliveryCounts.of(
                t for t in tallies if t.platform is platform and t.kind is kind
            )
            if not counts.total:
                continue
            line = translate(
                language,
                "status.line",
                platform=translate(language, f"platform.{platform.value}"),
                kind=translate(language, f"status.kind.{kind.value}"),
                total=counts.total,
                sent=counts.sent,
                waiting=counts.waiting,
                failed=counts.failed,
                dropped=counts.dropped,
            )
            if counts.gone:
                line += translate(language, "status.gone", gone=counts.gone)
            if counts.possible_duplicates:
                line += translate(
                    language, "status.possible_duplicates", count=counts.possible_duplicates
                )
            lines.append(line)
    return Reply.text("\n".join(lines))


@_desk_command("audit", Param("count", ParamKind.INTEGER))
async def audit(cmd: Command, deps: Deps) -> Reply:
    """The last desk actions, newest first: when, who, what, on which story."""
    argument = cmd.args.strip()
    if argument and not (argument.isascii() and argument.isdigit() and int(argument) > 0):
        raise UsageError
    limit = min(int(argument), AUDIT_MAX) if argument else AUDIT_DEFAULT
    entries = await deps.storage.audit.recent(limit, actions=DESK_ACTIONS)
    language = cmd.language
    if not entries:
        return Reply.text(translate(language, "audit.none"))
    titles: dict[int, str] = {}
    for entry in entries:
        if entry.article_id is not None and entry.article_id not in titles:
            article = await deps.storage.articles.get(entry.article_id, include_retracted=True)
            titles[entry.article_id] = shorten(article.title, TITLE_CHARS) if article else ""
    lines = [translate(language, "audit.header")]
    lines.extend(_audit_line(entry, titles, deps, language) for entry in entries)
    return Reply.text("\n".join(lines))


def _audit_line(entry: AuditEntry, titles: dict[int, str], deps: Deps, language: str) -> str:
    fields = [
        deps.renderer.time_label(entry.at, language) if entry.at else "",
        entry.actor,
        translate(language, f"audit.action.{entry.action}"),
    ]
    if entry.article_id is not None:
        fields.append(f'#{entry.article_id} "{titles.get(entry.article_id, "")}"')
    # Entries from before stories were named in their own column say "#42" in their detail.
    if entry.detail and entry.detail != f"#{entry.article_id}":
        fields.append(entry.detail)
    return " · ".join(field for field in fields if field)
