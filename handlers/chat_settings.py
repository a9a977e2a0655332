"""/lang: the chat's UI language."""

from __future__ import annotations

from bot.chat import Command, Reply
from bot.deps import Deps
from bot.i18n import LANGUAGES, translate
from bot.router import Permission, Router, UsageError
from storage.models import AuditEntry

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


@router.command("lang", permission=Permission.CHAT_MANAGER, usage=True, chat_settings=True)
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
