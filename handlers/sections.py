"""/sections."""

from __future__ import annotations

from bot.chat import Command, Reply
from bot.i18n import translate
from bot.router import Deps, Router

router = Router()


@router.command("sections")
async def sections(cmd: Command, deps: Deps) -> Reply:
    """The sections with their slugs and the other words that name them."""
    lines = [translate(cmd.language, "sections.header")]
    for section in deps.sections.all():
        line = f"• {section.name(cmd.language)} — {section.slug}"
        aliases = deps.sections.aliases(section, cmd.language)
        if aliases:
            line += " " + translate(cmd.language, "sections.aliases", aliases=", ".join(aliases))
        lines.append(line)
    return Reply.text("\n".join(lines))
