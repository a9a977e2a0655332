"""/whoami: the user's id as NEWSBOT_ADMINS writes it, for an operator to make them an admin."""

from __future__ import annotations

from bot.chat import Command, Reply, Text
from bot.i18n import translate
from bot.router import Deps, Router
from bot.settings import admin_entry_problem

router = Router()


@router.command("whoami")
async def whoami(cmd: Command, deps: Deps) -> Reply:
    """The user's id, the NEWSBOT_ADMINS line that names them, and whether they are an admin.

    The answer is for the asker alone. A command posted in a chat's own name (a channel post)
    has no person behind it, and gets no id: the chat's would be wrong.
    """
    if cmd.user.is_chat:
        return Reply.text(translate(cmd.language, "whoami.no_person"), private=True)
    actor = cmd.actor
    if admin_entry_problem(actor) is not None:
        # A console user named with a space: no NEWSBOT_ADMINS line could name them.
        return Reply.text(translate(cmd.language, "whoami.unlisted", actor=actor), private=True)
    status = "whoami.admin" if actor in deps.settings.admins else "whoami.not_admin"
    return Reply(
        parts=(
            Text(translate(cmd.language, "whoami.id", actor=actor)),
            Text(translate(cmd.language, status)),
        ),
        private=True,
    )
