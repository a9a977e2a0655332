"""/start and /help."""

from __future__ import annotations

from bot.chat import Command, Reply, Text
from bot.deps import Deps
from bot.i18n import translate
from bot.router import Permission, Router

router = Router()


def _section_list(deps: Deps, language: str) -> str:
    return ", ".join(
        f"{section.name(language)} ({section.slug})" for section in deps.sections.all()
    )


@router.command("start")
async def start(cmd: Command, deps: Deps) -> Reply:
    """Greet the reader and say how to begin."""
    return Reply.text(translate(cmd.language, "start.greeting"))


@router.command("help")
async def help_(cmd: Command, deps: Deps) -> Reply:
    """List the commands this user may run, from the router's own descriptions, and sections."""
    lines = [translate(cmd.language, "help.header")]
    for spec in deps.commands:
        if spec.permission is Permission.BOT_ADMIN and cmd.actor not in deps.settings.admins:
            continue
        lines.append(f"{spec.usage(cmd.language)} — {spec.description(cmd.language)}")
    sections = translate(cmd.language, "help.sections", sections=_section_list(deps, cmd.language))
    return Reply(parts=(Text("\n".join(lines)), Text(sections)))
