"""/sections."""

from __future__ import annotations

from bot.chat import Command, Reply
from bot.deps import Deps
from bot.i18n import translate
from bot.router import Router

router = Router()


@router.command("sections")
async def sections(cmd: Command, deps: Deps) -> Reply:
    """The sections with their slugs."""
    lines = [translate(cmd.language, "sections.header")]
    lines += [
        f"• {section.name(cmd.language)} — {section.slug}" for section in deps.sections.all()
    ]
    return Reply.text("\n".join(lines))
