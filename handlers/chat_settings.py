"""/lang, /digest and /quiet: the chat's UI language and how it takes its news."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time

from bot.chat import Command, Reply, UsageError, UserError
from bot.delivery.policy import next_local_time, release_time
from bot.i18n import LANGUAGES, translate
from bot.render import shorten
from bot.router import CHANNEL, Deps, Param, Permission, Router
from storage.models import AuditEntry, DeliveryMode, QuietHours

router = Router()

# What readers type for each language.
_LANGUAGE_WORDS = {
    "id": "id",
    "ind": "id",
    "indonesia": "id",
    "indonesian": "id",
    "bahasa": "id",
    "en": "en",
    "eng": "en",
    "english": "en",
    "inggris": "en",
}
# What turns a digest or quiet hours off.
OFF_WORDS = frozenset({"off", "mati", "nonaktif", "stop"})
# 7, 07, 7:30, 07.30 (the Indonesian way of writing times).
_TIME = re.compile(r"^([0-9]{1,2})(?:[:.]([0-9]{2}))?$")
# 22:00-06:00, 22.00 - 06.00 (or an en or em dash), 22:00 sampai 06:00, 22 to 6.
_RANGE = re.compile(r"^(\S+?)\s*(?:[-\u2013\u2014]|\s(?:sampai|s/d|hingga|to|until)\s)\s*(\S+)$")
# Between the ends of a range of hours as shown: an en dash.
_DASH = "\u2013"
# How much of a time that cannot be read is echoed back.
ECHO_CHARS = 20


@router.command(
    "lang",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("language", required=True, choices=tuple(LANGUAGES)), CHANNEL),
)
async def lang(cmd: Command, deps: Deps) -> Reply:
    """Set the chat's UI language; the answer is already in the new language."""
    language = _LANGUAGE_WORDS.get(cmd.args.strip().lower())
    if language is None or language not in LANGUAGES:
        raise UsageError
    await deps.storage.chats.set_language(cmd.chat, language, now=deps.clock())
    await deps.storage.audit.record(
        AuditEntry(actor=cmd.actor, chat=cmd.chat, action="lang", detail=language),
        now=deps.clock(),
    )
    return Reply.text(translate(language, "lang.set"))


@router.command(
    "digest",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("time"), CHANNEL),
)
async def digest(cmd: Command, deps: Deps) -> Reply:
    """Switch the chat between instant pushes and one digest a day at a local time.

    `/digest 07:00` or `/digest off`; alone, it says how the chat takes its news.
    """
    words = cmd.args.split()
    mode = await deps.storage.chats.delivery_mode(cmd.chat)
    if not words:
        return _current(cmd, deps, mode, "cmd.digest.usage")
    if len(words) != 1:
        raise UsageError
    if words[0].lower() in OFF_WORDS:
        changed = replace(mode, digest_at=None)
        lines = [translate(cmd.language, "digest.off")]
        detail = "off"
    else:
        at = parse_time(words[0])
        changed = replace(mode, digest_at=at)
        lines = [translate(cmd.language, "digest.set", time=clock_label(at, deps))]
        lines += _digest_in_quiet_hours(cmd, deps, changed)
        if not await deps.storage.subscriptions.sections_of(
            cmd.chat
        ) and not await deps.storage.subscriptions.follows_of(cmd.chat):
            # A digest of nothing would never come: say what fills it.
            lines.append(translate(cmd.language, "subscriptions.none"))
        detail = f"{at:%H:%M}"
    lines += await _apply(cmd, deps, changed, action="digest", detail=detail)
    return Reply.text("\n".join(lines))


@router.command(
    "quiet",
    permission=Permission.CHAT_MANAGER,
    usage=True,
    chat_settings=True,
    params=(Param("hours"), CHANNEL),
)
async def quiet(cmd: Command, deps: Deps) -> Reply:
    """Hold regular pushes during local hours and send them after, as one digest.

    `/quiet 22:00-06:00` (a range may cross midnight) or `/quiet off`; alone, it says how the
    chat takes its news.
    """
    args = " ".join(cmd.args.split())
    mode = await deps.storage.chats.delivery_mode(cmd.chat)
    if not args:
        return _current(cmd, deps, mode, "cmd.quiet.usage")
    if args.lower() in OFF_WORDS:
        changed = replace(mode, quiet=None)
        lines = [translate(cmd.language, "quiet.off")]
        detail = "off"
    else:
        matched = _RANGE.match(args)
        if matched is None:
            raise UsageError
        start, end = parse_time(matched.group(1)), parse_time(matched.group(2))
        if start == end:
            raise UserError("quiet.same_time")
        hours = QuietHours(start, end)
        changed = replace(mode, quiet=hours)
        lines = [translate(cmd.language, "quiet.set", hours=hours_label(hours, deps))]
        lines += _digest_in_quiet_hours(cmd, deps, changed)
        detail = f"{start:%H:%M}-{end:%H:%M}"
    lines += await _apply(cmd, deps, changed, action="quiet", detail=detail)
    return Reply.text("\n".join(lines))


def parse_time(text: str) -> time:
    """A time of day as readers write it: `7`, `07`, `7:30`, `07.30`.

    Raises:
        UserError: it is not a time of day from 00:00 to 23:59.
    """
    matched = _TIME.match(text)
    if matched is not None:
        hour, minute = int(matched.group(1)), int(matched.group(2) or 0)
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    raise UserError("error.bad_time", time=shorten(text, ECHO_CHARS))


def clock_label(at: time, deps: Deps) -> str:
    """`07:00 WIB`: a time of day with the configured zone's abbreviation (today's)."""
    zone = deps.settings.tz()
    today = deps.clock().astimezone(zone).date()
    return f"{at:%H:%M} {datetime.combine(today, at, tzinfo=zone).tzname() or ''}".rstrip()


def hours_label(hours: QuietHours, deps: Deps) -> str:
    """`22:00-06:00 WIB`, with an en dash."""
    return f"{hours.start:%H:%M}{_DASH}{clock_label(hours.end, deps)}"


def delivery_mode_lines(mode: DeliveryMode, deps: Deps, language: str) -> list[str]:
    """How the chat takes its news, as /subscriptions, /digest and /quiet show it."""
    if mode.digest_at is None:
        lines = [translate(language, "mode.instant")]
    else:
        lines = [translate(language, "mode.digest", time=clock_label(mode.digest_at, deps))]
    if mode.quiet is not None:
        lines.append(translate(language, "mode.quiet", hours=hours_label(mode.quiet, deps)))
    return lines


def _current(cmd: Command, deps: Deps, mode: DeliveryMode, usage_key: str) -> Reply:
    lines = delivery_mode_lines(mode, deps, cmd.language)
    usage = translate(cmd.language, usage_key)
    lines.append(translate(cmd.language, "error.usage", usage=usage))
    return Reply.text("\n".join(lines))


def _digest_in_quiet_hours(cmd: Command, deps: Deps, mode: DeliveryMode) -> list[str]:
    """A note when the chat's digest time falls in its quiet hours (it then waits for their
    end), else nothing."""
    if mode.digest_at is None or mode.quiet is None:
        return []
    zone, now = deps.settings.tz(), deps.clock()
    if release_time(mode, now, zone) == next_local_time(mode.digest_at, now, zone):
        return []
    return [
        translate(
            cmd.language,
            "digest.in_quiet",
            time=clock_label(mode.digest_at, deps),
            end=clock_label(mode.quiet.end, deps),
        )
    ]


async def _apply(
    cmd: Command, deps: Deps, mode: DeliveryMode, *, action: str, detail: str
) -> list[str]:
    """Store the chat's new mode; its held stories follow it. What to say about them."""
    now = deps.clock()
    release = release_time(mode, now, deps.settings.tz())
    held = await deps.storage.chats.set_delivery_mode(
        cmd.chat, mode, now=now, held_until=release or now
    )
    await deps.storage.audit.record(
        AuditEntry(actor=cmd.actor, chat=cmd.chat, action=action, detail=detail), now=now
    )
    if not held:
        return []
    if release is None:
        return [translate(cmd.language, "mode.held_now", count=held)]
    local = release.astimezone(deps.settings.tz())
    when = deps.renderer.time_label(release, cmd.language)
    if local.date() == now.astimezone(deps.settings.tz()).date():
        when = clock_label(local.time(), deps)
    return [translate(cmd.language, "mode.held_until", count=held, time=when)]
