"""Command registration and dispatch: the one place that owns the error and permission policy."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.chat import Command, Reply, UserError
from bot.i18n import translate
from bot.render import shorten
from storage.models import ChatRef

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)

Handler = Callable[[Command, "Deps"], Awaitable[Reply]]

# How much of an unknown command's name is echoed back: enough to recognise a typo, never a
# wall of text.
ECHO_CHARS = 40


class Permission(enum.Enum):
    """Who may run a command."""

    ANYONE = "anyone"
    CHAT_MANAGER = "chat_manager"  # the user in a private chat; managers of a group or channel
    BOT_ADMIN = "bot_admin"  # listed in NEWSBOT_ADMINS


class UsageError(UserError):
    """The arguments do not fit the command; the answer is its usage line."""

    def __init__(self) -> None:
        super().__init__("error.usage")


@dataclass(frozen=True)
class CommandSpec:
    """A command: its name, handler, who may run it, and its i18n description and usage keys."""

    name: str
    handler: Handler
    permission: Permission
    description_key: str
    usage_key: str | None
    # The command reads or changes the chat's own settings (subscriptions, follows, language),
    # so an adapter may aim it at another chat that the user manages (a Telegram channel).
    chat_settings: bool = False
    # What a user who may not run it is told (the i18n key; it may name the command).
    refusal_key: str | None = None

    def description(self, language: str) -> str:
        """The one-line description shown by /help and the platforms' command menus."""
        return translate(language, self.description_key)

    def usage(self, language: str) -> str:
        """The usage line, `/name` alone for a command without arguments."""
        return translate(language, self.usage_key) if self.usage_key else f"/{self.name}"


class Router:
    """The commands of one handlers module."""

    def __init__(self) -> None:
        self.specs: list[CommandSpec] = []

    def command(
        self,
        name: str,
        *,
        permission: Permission = Permission.ANYONE,
        usage: bool = False,
        chat_settings: bool = False,
        refusal_key: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler as `/name`; its texts are `cmd.<name>.*` in i18n.

        `refusal_key` replaces the permission's usual refusal (`error.not_admin`, which speaks of
        posting breaking news, and `error.not_manager`).
        """

        def register(handler: Handler) -> Handler:
            self.specs.append(
                CommandSpec(
                    name=name,
                    handler=handler,
                    permission=permission,
                    description_key=f"cmd.{name}.description",
                    usage_key=f"cmd.{name}.usage" if usage else None,
                    chat_settings=chat_settings,
                    refusal_key=refusal_key,
                )
            )
            return handler

        return register


class CommandTable:
    """Every command of the bot, from the routers included in one place."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self._specs: dict[str, CommandSpec] = {}
        for router in routers:
            for spec in router.specs:
                if spec.name in self._specs:
                    raise ValueError(f"the command /{spec.name} is registered twice")
                self._specs[spec.name] = spec

    def specs(self) -> tuple[CommandSpec, ...]:
        """Every command, in registration order."""
        return tuple(self._specs.values())

    def get(self, name: str) -> CommandSpec | None:
        """The command called `name`, if there is one."""
        return self._specs.get(name)


class Dispatcher:
    """Runs commands: language, permission, the handler, and what the user sees when it fails."""

    def __init__(self, table: CommandTable, deps: Deps) -> None:
        self._table = table
        self._deps = deps

    async def dispatch(self, command: Command) -> Reply:
        """The reply to `command`; never raises for a handler's failure."""
        command = replace(command, language=await self.language(command.chat))
        spec = self._table.get(command.name)
        if spec is None:
            return Reply.text(
                translate(command.language, "error.unknown_command", name=_echo(command.name))
            )
        refusal = self._refusal(spec, command)
        if refusal is not None:
            logger.info("refused /%s for %s in %s", command.name, command.actor, command.chat)
            return Reply.text(translate(command.language, refusal, name=spec.name))
        try:
            return await spec.handler(command, self._deps)
        except UsageError:
            return Reply.text(
                translate(command.language, "error.usage", usage=spec.usage(command.language))
            )
        except UserError as error:
            return Reply.text(translate(command.language, error.key, **error.values))
        except Exception:
            logger.exception("/%s failed for %s in %s", command.name, command.actor, command.chat)
            return Reply.text(translate(command.language, "error.internal"))

    async def not_a_command(self, chat: ChatRef) -> Reply:
        """The hint for a message that is not a command, in the chat's language."""
        return Reply.text(translate(await self.language(chat), "error.not_command"))

    async def language(self, chat: ChatRef) -> str:
        """The chat's UI language: its own choice, else the configured default."""
        try:
            chosen = await self._deps.storage.chats.language(chat)
        except Exception:
            # A database hiccup must not cost the reader an answer: use the default language.
            logger.exception("could not read the language of %s", chat)
            chosen = None
        return chosen or self._deps.settings.language

    def _refusal(self, spec: CommandSpec, command: Command) -> str | None:
        if spec.permission is Permission.CHAT_MANAGER and not command.can_manage_chat:
            return spec.refusal_key or "error.not_manager"
        if (
            spec.permission is Permission.BOT_ADMIN
            and command.actor not in self._deps.settings.admins
        ):
            return spec.refusal_key or "error.not_admin"
        return None


def _echo(name: str) -> str:
    """An unknown command's name as the answer shows it: printable, at most `ECHO_CHARS`."""
    return shorten("".join(ch for ch in name if ch.isprintable()), ECHO_CHARS)
