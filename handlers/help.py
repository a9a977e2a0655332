"""/start and /help."""

from __future__ import annotations

from bot.chat import Command, Reply, Text
from bot.i18n import translate
from bot.router import Deps, Router, offered_commands

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
    offered = offered_commands(deps.commands, bot_admin=cmd.actor in deps.settings.admins)
    lines += [f"{spec.usage(cmd.language)} — {spec.description(cmd.language)}" for spec in offered]
    sections = translate(cmd.language, "help.sections", sections=_section_list(deps, cmd.language))
    return Reply(parts=(Text("\n".join(lines)), Text(sections)))
