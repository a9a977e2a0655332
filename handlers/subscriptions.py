"""/subscribe, /unsubscribe, /subscriptions, /follow and /unfollow."""

from __future__ import annotations

from bot.chat import Command, Reply, Text, UserError
from bot.deps import Deps
from bot.i18n import translate
from bot.router import Permission, Router, UsageError
from storage import search_text
from storage.models import AuditEntry, SubscriptionChange

router = Router()

MAX_FOLLOWS_PER_CHAT = 20
ALL_WORDS = frozenset({"all", "semua"})


def _resolve_sections(words: list[str], deps: Deps) -> list[str]:
    """The slugs the words name, in order and once each; an unknown word is the user's error."""
    slugs: list[str] = []
    for word in words:
        section = deps.sections.find(word)
        if section is None:
            known = ", ".join(section.slug for section in deps.sections.all())
            raise UserError("error.unknown_section", word=word[:40], slugs=known)
        if section.slug not in slugs:
            slugs.append(section.slug)
    return slugs


def _names(slugs: list[str], deps: Deps, language: str) -> str:
    return ", ".join(deps.sections.name(slug, language) for slug in slugs)


def _section_words(args: str) -> list[str]:
    # Commas separate sections too: "/subscribe nasional, ekonomi".
    return [word for word in args.replace(",", " ").split() if word]


async def _audit(cmd: Command, deps: Deps, action: str, detail: str) -> None:
    await deps.storage.audit.record(
        AuditEntry(actor=cmd.actor, chat=cmd.chat, action=action, detail=detail), now=deps.clock()
    )


@router.command("subscribe", permission=Permission.CHAT_MANAGER, usage=True, chat_settings=True)
async def subscribe(cmd: Command, deps: Deps) -> Reply:
    """Subscribe this chat to one or more sections."""
    words = _section_words(cmd.args)
    if not words:
        raise UsageError
    slugs = _resolve_sections(words, deps)
    changes = await deps.storage.subscriptions.subscribe(cmd.chat, slugs, now=deps.clock())
    added = [slug for slug, change in changes.items() if change is SubscriptionChange.ADDED]
    already = [slug for slug, change in changes.items() if change is SubscriptionChange.ALREADY]
    if added:
        await _audit(cmd, deps, "subscribe", " ".join(added))
    lines = []
    if added:
        lines.append(
            translate(cmd.language, "subscribe.added", sections=_names(added, deps, cmd.language))
        )
    if already:
        lines.append(
            translate(
                cmd.language, "subscribe.already", sections=_names(already, deps, cmd.language)
            )
        )
    return Reply.text("\n".join(lines))


@router.command("unsubscribe", permission=Permission.CHAT_MANAGER, usage=True, chat_settings=True)
async def unsubscribe(cmd: Command, deps: Deps) -> Reply:
    """Stop sections, or every section with `all`."""
    words = _section_words(cmd.args)
    if not words:
        raise UsageError
    if len(words) == 1 and words[0].lower() in ALL_WORDS:
        changes = await deps.storage.subscriptions.unsubscribe(cmd.chat, None)
        if not changes:
            return Reply.text(translate(cmd.language, "unsubscribe.nothing"))
    else:
        changes = await deps.storage.subscriptions.unsubscribe(
            cmd.chat, _resolve_sections(words, deps)
        )
    removed = [slug for slug, change in changes.items() if change is SubscriptionChange.REMOVED]
    absent = [slug for slug, change in changes.items() if change is SubscriptionChange.ABSENT]
    if removed:
        await _audit(cmd, deps, "unsubscribe", " ".join(removed))
    lines = []
    if removed:
        lines.append(
            translate(
                cmd.language, "unsubscribe.removed", sections=_names(removed, deps, cmd.language)
            )
        )
    if absent:
        lines.append(
            translate(
                cmd.language, "unsubscribe.absent", sections=_names(absent, deps, cmd.language)
            )
        )
    return Reply.text("\n".join(lines))


@router.command("subscriptions", chat_settings=True)
async def subscriptions(cmd: Command, deps: Deps) -> Reply:
    """This chat's sections and keyword follows."""
    slugs = await deps.storage.subscriptions.sections_of(cmd.chat)
    follows = await deps.storage.subscriptions.follows_of(cmd.chat)
    if not slugs and not follows:
        return Reply.text(translate(cmd.language, "subscriptions.none"))
    parts = []
    if slugs:
        parts.append(
            Text(
                translate(
                    cmd.language,
                    "subscriptions.sections",
                    sections=_names(slugs, deps, cmd.language),
                )
            )
        )
    if follows:
        listed = ", ".join(f'"{follow.words}"' for follow in follows)
        parts.append(Text(translate(cmd.language, "subscriptions.follows", follows=listed)))
    return Reply(parts=tuple(parts))


@router.command("follow", permission=Permission.CHAT_MANAGER, usage=True, chat_settings=True)
async def follow(cmd: Command, deps: Deps) -> Reply:
    """Alert this chat to every new story containing all the words, in any section."""
    words = " ".join(cmd.args.split())
    if not words:
        raise UsageError
    terms = search_text.query_terms(words)
    if not terms:
        raise UserError("follow.no_terms")
    shown = words[:80]
    existing = await deps.storage.subscriptions.follows_of(cmd.chat)
    if len(existing) >= MAX_FOLLOWS_PER_CHAT and not any(
        set(f.terms) == set(terms) for f in existing
    ):
        raise UserError("follow.too_many", limit=MAX_FOLLOWS_PER_CHAT)
    _, created = await deps.storage.subscriptions.follow(cmd.chat, shown, terms, now=deps.clock())
    if not created:
        return Reply.text(translate(cmd.language, "follow.already", words=shown))
    await _audit(cmd, deps, "follow", shown)
    return Reply.text(translate(cmd.language, "follow.added", words=shown))


@router.command("unfollow", permission=Permission.CHAT_MANAGER, usage=True, chat_settings=True)
async def unfollow(cmd: Command, deps: Deps) -> Reply:
    """Stop one keyword follow, or all of them with no words (or `all`)."""
    words = " ".join(cmd.args.split())
    if not words or words.lower() in ALL_WORDS:
        removed = await deps.storage.subscriptions.unfollow(cmd.chat, None)
    else:
        terms = search_text.query_terms(words)
        removed = await deps.storage.subscriptions.unfollow(cmd.chat, terms) if terms else 0
        if not removed:
            return Reply.text(translate(cmd.language, "unfollow.absent", words=words[:80]))
    if removed:
        await _audit(cmd, deps, "unfollow", words or "all")
    return Reply.text(translate(cmd.language, "unfollow.removed", count=removed))
