"""/breaking: newsroom admins post breaking news."""

from __future__ import annotations

from bot.chat import Command, Reply, UserError
from bot.deps import Deps
from bot.i18n import translate
from bot.ingest.drafts import IngestLimits, build_draft
from bot.ingest.identity import canonical_url
from bot.router import Permission, Router, UsageError
from storage.models import AuditEntry, PublishOutcome

router = Router()


@router.command("breaking", permission=Permission.BOT_ADMIN, usage=True)
async def breaking(cmd: Command, deps: Deps) -> Reply:
    """Store a breaking story and queue it for its section's and `breaking`'s subscribers.

    `/breaking [#section] <headline> | <text> [| <link>]`; without `#section` the story goes
    to the configured default section.
    """
    fields = [field.strip() for field in cmd.args.split("|")]
    if len(fields) not in (2, 3) or not all(fields[:2]):
        raise UsageError
    headline, text = fields[0], fields[1]
    link = fields[2] if len(fields) == 3 and fields[2] else None
    section_slug = deps.settings.breaking_default_section
    first, _, rest = headline.partition(" ")
    if first.startswith("#") and len(first) > 1:
        section = deps.sections.find(first[1:])
        if section is None:
            known = ", ".join(section.slug for section in deps.sections.all())
            raise UserError("error.unknown_section", word=first[1:40], slugs=known)
        section_slug, headline = section.slug, rest.strip()
        if not headline:
            raise UsageError
    url = None
    if link is not None:
        url = canonical_url(link)
        if url is None:
            raise UserError("breaking.bad_link", link=link[:100])
    now = deps.clock()
    built = build_draft(
        title=headline,
        body=text,
        summary="",
        section=section_slug,
        published=now,
        now=now,
        limits=IngestLimits.from_settings(deps.settings),
        url=url,
        source=f"breaking:{cmd.actor}",
        breaking=True,
    )
    [result] = await deps.newsroom.publish([built.draft])
    if result.outcome is PublishOutcome.DUPLICATE:
        return Reply.text(translate(cmd.language, "breaking.duplicate", id=result.article_id))
    if result.outcome is PublishOutcome.UPDATED:
        # Same headline the same day, new text: a correction. It is not pushed again; the
        # copies already delivered are edited in place.
        await deps.storage.audit.record(
            AuditEntry(
                actor=cmd.actor, chat=cmd.chat, action="correct", detail=f"#{result.article_id}"
            ),
            now=now,
        )
        return Reply.text(
            translate(cmd.language, "breaking.updated", id=result.article_id, count=result.queued)
        )
    await deps.storage.audit.record(
        AuditEntry(
            actor=cmd.actor, chat=cmd.chat, action="breaking", detail=f"#{result.article_id}"
        ),
        now=now,
    )
    return Reply.text(
        translate(
            cmd.language,
            "breaking.stored",
            id=result.article_id,
            section=deps.sections.name(section_slug, cmd.language),
            count=result.queued,
        )
    )
