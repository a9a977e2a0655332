"""/subscribe, /unsubscribe, /subscriptions, /follow and /unfollow."""

from __future__ import annotations

from bot.chat import Command, Reply, Text, UsageError, UserError
from bot.i18n import translate
from bot.render import shorten
from bot.router import CHANNEL, Deps, Param, ParamKind, Permission, Router
from handlers.chat_settings import delivery_mode_lines
from storage import search_text
from storage.models import AuditEntry, DeliveryMode, KeywordFollow, SubscriptionChange

router = Router()

MAX_FOLLOWS_PER_CHAT = 20
ALL_WORDS = frozenset({"all", "semua"})
# How much of a reader's words a follow keeps to show, and how much of a bad section name is
# echoed back.
FOLLOW_LABEL_CHARS = 80
ECHO_CHARS = 40
# Quotes carry no meaning in a follow (it needs every word, wherever it stands), so they are
# left out of what is shown: `/follow "harga beras"` answers with "harga beras", not ""harga
# beras"".
_DOUBLE_QUOTES = str.maketrans("", "", '"\u201c\u201d\u201e\u201f\u00ab\u00bb')  # " “ ” „ ‟ « »
# A whole follow wrapped in single quotes ('x', and the typographic pairs); an apostrophe inside
# a word (Jum'at) stays.
_SINGLE_QUOTE_PAIRS = ("''", "\u2018\u2019", "\u201a\u2018")


def _resolve_sections(text: str, deps: Deps) -> list[str]:
    """The slugs `text` names, in order and once each; words naming none are the user's error."""
    slugs: list[str] = []
    for name, section in deps.sections.named_in(text):
        if section is None:
            known = ", ".join(section.slug for section in deps.sections.all())
            raise UserError("error.unknown_section", word=shorten(name, ECHO_CHARS), slugs=known)
        if section.slug not in slugs:
            slugs.append(section.slug)
    return slugs


def _names(slugs: list[str], deps: Deps, language: str) -> str:
    return ", ".join(deps.sections.name(slug, language) for slug in slugs)


def _follow_label(words: str) -> str:
    """The reader's words as a follow shows them: no quotes, single spaces, bounded."""
    label = " ".join(words.translate(_DOUBLE_QUOTES).split())
    if len(label) > 1 and label[0] + label[-1] in _SINGLE_QUOTE_PAIRS:
        label = label[1:-1].strip()
    return shorten(label, FOLLOW_LABEL_CHARS)


def _quoted(follows: list[KeywordFollow]) -> str:
    return ", ".join(f'"{_follow_label(follow.words)}"' for follow in follows)


def _with_usage(cmd: Command, text: str, usage_key: str) -> Reply:
    usage = translate(cmd.language, "error.usage", usage=translate(cmd.language, usage_key))
    return Reply.text(f"{text}\n{usage}")


async def _audit(cmd: Command, deps: Deps, action: str, detail: str) -> None:
    await deps.storage.audit.record(
        AuditEntry(actor=cmd.actor, chat=cmd.chat, action=action, detail=detail), now=deps.clock()
    )


@router.command(
    "subscribe",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("section", ParamKind.SECTION, required=True), CHANNEL),
)
async def subscribe(cmd: Command, deps: Deps) -> Reply:
    """Subscribe this chat to one or more sections."""
    if not cmd.args.replace(",", " ").strip():
        raise UsageError
    slugs = _resolve_sections(cmd.args, deps)
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


@router.command(
    "unsubscribe",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("section", ParamKind.SECTION, choices=("all",)), CHANNEL),
)
async def unsubscribe(cmd: Command, deps: Deps) -> Reply:
    """Stop sections, or every section with `all`; with no words, list them and say how."""
    words = cmd.args.replace(",", " ").split()
    if not words:
        current = await deps.storage.subscriptions.sections_of(cmd.chat)
        if not current:
            return Reply.text(translate(cmd.language, "unsubscribe.nothing"))
        listed = translate(
            cmd.language, "subscriptions.sections", sections=_names(current, deps, cmd.language)
        )
        return _with_usage(cmd, listed, "cmd.unsubscribe.usage")
    if len(words) == 1 and words[0].lower() in ALL_WORDS:
        changes = await deps.storage.subscriptions.unsubscribe(cmd.chat, None)
        if not changes:
            return Reply.text(translate(cmd.language, "unsubscribe.nothing"))
    else:
        changes = await deps.storage.subscriptions.unsubscribe(
            cmd.chat, _resolve_sections(cmd.args, deps)
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


@router.command("subscriptions", chat_settings=True, params=(CHANNEL,))
async def subscriptions(cmd: Command, deps: Deps) -> Reply:
    """This chat's sections, keyword follows, and how it takes its news (instant or a daily
    digest, quiet hours)."""
    slugs = await deps.storage.subscriptions.sections_of(cmd.chat)
    follows = await deps.storage.subscriptions.follows_of(cmd.chat)
    mode = await deps.storage.chats.delivery_mode(cmd.chat)
    delivery = Text("\n".join(delivery_mode_lines(mode, deps, cmd.language)))
    if not slugs and not follows:
        none = Text(translate(cmd.language, "subscriptions.none"))
        return Reply(parts=(none,) if mode == DeliveryMode() else (none, delivery))
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
        parts.append(
            Text(translate(cmd.language, "subscriptions.follows", follows=_quoted(follows)))
        )
    parts.append(delivery)
    return Reply(parts=tuple(parts))


@router.command(
    "follow",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("words", required=True), CHANNEL),
)
async def follow(cmd: Command, deps: Deps) -> Reply:
    """Alert this chat to every new story containing all the words, in any section.

    Very common words (`yang`, `di`, `the`) are left out of the words a story must contain: in
    Indonesian nearly every story has them, and an English one no Indonesian story has. A
    follow made of nothing else is refused.
    """
    label = _follow_label(cmd.args)
    if not label:
        raise UsageError
    terms, common = search_text.significant_query_terms(cmd.args)
    if not terms:
        if common:
            raise UserError("follow.only_common", words=label)
        raise UserError("follow.no_terms")
    existing = await deps.storage.subscriptions.follows_of(cmd.chat)
    if len(existing) >= MAX_FOLLOWS_PER_CHAT and not any(
        set(f.terms) == set(terms) for f in existing
    ):
        raise UserError("follow.too_many", limit=MAX_FOLLOWS_PER_CHAT)
    kept, created = await deps.storage.subscriptions.follow(
        cmd.chat, label, terms, now=deps.clock()
    )
    if not created:
        return Reply.text(
            translate(cmd.language, "follow.already", words=_follow_label(kept.words))
        )
    await _audit(cmd, deps, "follow", label)
    lines = [translate(cmd.language, "follow.added", words=label)]
    if common:
        lines.append(translate(cmd.language, "follow.common_left_out", words=", ".join(common)))
    return Reply.text("\n".join(lines))


@router.command(
    "unfollow",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("words"), CHANNEL),
)
async def unfollow(cmd: Command, deps: Deps) -> Reply:
    """Stop one keyword follow, or all of them with `all`; with no words, list them and ask."""
    words = " ".join(cmd.args.split())
    if not words:
        follows = await deps.storage.subscriptions.follows_of(cmd.chat)
        if not follows:
            return Reply.text(translate(cmd.language, "unfollow.nothing"))
        listed = translate(cmd.language, "subscriptions.follows", follows=_quoted(follows))
        return _with_usage(cmd, listed, "cmd.unfollow.usage")
    if words.lower() in ALL_WORDS:
        removed = await deps.storage.subscriptions.unfollow(cmd.chat, None)
        if not removed:
            return Reply.text(translate(cmd.language, "unfollow.nothing"))
    else:
        # The same terms as /follow made, common words left out, so `/unfollow the nato`
        # removes the follow `/follow the nato` made.
        terms, _common = search_text.significant_query_terms(words)
        removed = await deps.storage.subscriptions.unfollow(cmd.chat, terms) if terms else []
        if not removed:
            return Reply.text(
                translate(cmd.language, "unfollow.absent", words=_follow_label(words))
            )
    listed = _quoted(removed)
    await _audit(cmd, deps, "unfollow", listed)
    return Reply.text(translate(cmd.language, "unfollow.removed", follows=listed))
