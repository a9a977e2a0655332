"""Commands and what their handlers receive (`Deps`): registration, and the dispatch that is the
one place that owns the error and permission policy."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.chat import Command, Reply, UsageError, UserError
from bot.i18n import translate
from bot.newsroom import Newsroom
from bot.newsroom.desk import Desk
from bot.newsroom.source_desk import SourceDesk
from bot.render import ArticleRenderer, failure_reply, shorten
from bot.sections import SectionCatalog
from bot.settings import Settings
from storage import Storage
from storage.models import ChatRef

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """Everything a handler may use besides the command, in one typed object: no module globals
    anywhere."""

    settings: Settings
    storage: Storage
    sections: SectionCatalog
    renderer: ArticleRenderer
    newsroom: Newsroom
    desk: Desk
    sources: SourceDesk
    commands: tuple[CommandSpec, ...]
    clock: Callable[[], datetime]


Handler = Callable[[Command, Deps], Awaitable[Reply]]

# How much of an unknown command's name is echoed back: enough to recognise a typo, never a
# wall of text.
ECHO_CHARS = 40


class Permission(enum.Enum):
    """Who may run a command."""

    ANYONE = "anyone"
    CHAT_MANAGER = "chat_manager"  # the user in a private chat; managers of a group or channel
    BOT_ADMIN = "bot_admin"  # listed in NEWSBOT_ADMINS


class ParamKind(enum.Enum):
    """What a command's parameter holds, so that a platform with typed options can ask for it."""

    TEXT = "text"
    SECTION = "section"  # a section's slug or name; offered from the configured sections
    INTEGER = "integer"
    STORY = "story"  # a story's number; offered by title from the archive as the user types
    CHAT = "chat"  # another chat the command is aimed at (a Discord channel); never in the text


@dataclass(frozen=True)
class Param:
    """One declared parameter of a command.

    The console and Telegram read a command's arguments as text; a platform with typed options
    (Discord) asks for each parameter and writes the text back with `CommandSpec.text_args`.
    `prefix` is what comes before the value in that text (`#` of a section, `| ` between the
    fields of /breaking); `choices` are fixed values (`id`, `en`), or for a section the values
    offered besides the sections (`all`).
    """

    name: str
    kind: ParamKind = ParamKind.TEXT
    required: bool = False
    prefix: str = ""
    choices: tuple[str, ...] = ()


# The chat a chat-settings command is aimed at when it is not the one it is typed in (a
# Discord channel named in the command).
CHANNEL = Param("channel", ParamKind.CHAT)


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
    params: tuple[Param, ...] = ()

    def description(self, language: str) -> str:
        """The one-line description shown by /help and the platforms' command menus."""
        return translate(language, self.description_key)

    def usage(self, language: str) -> str:
        """The usage line, `/name` alone for a command without arguments."""
        return translate(language, self.usage_key) if self.usage_key else f"/{self.name}"

    def param_description(self, param: Param, language: str) -> str:
        """What a parameter is for, in one short line (`cmd.<name>.param.<param>` in i18n)."""
        return translate(language, f"cmd.{self.name}.param.{param.name}")

    def options(self, values: Mapping[str, object]) -> dict[str, str]:
        """Typed option values as `Command.options`: given values as text, the chat left out."""
        chat = {param.name for param in self.params if param.kind is ParamKind.CHAT}
        return {
            name: str(value)
            for name, value in values.items()
            if value is not None and name not in chat and str(value).strip()
        }

    def text_args(self, values: Mapping[str, object]) -> str:
        """The arguments as a reader would have typed them, from typed option values.

        Parameters are written in their declared order with their prefixes; absent or empty
        values and the CHAT parameter (the adapter aims the command itself) are left out.
        """
        words = []
        for param in self.params:
            value = values.get(param.name)
            if param.kind is ParamKind.CHAT or value is None:
                continue
            text = " ".join(str(value).split())
            if text:
                words.append(f"{param.prefix}{text}")
        return " ".join(words)


def offered_commands(specs: Iterable[CommandSpec], *, bot_admin: bool) -> tuple[CommandSpec, ...]:
    """The commands a user is offered (/help's list, a prompt's completion): a bot admins'
    command only to a bot admin. A chat manager's command is offered to all: who manages a
    chat is known only where it is typed, and the refusal there says why."""
    return tuple(
        spec for spec in specs if bot_admin or spec.permission is not Permission.BOT_ADMIN
    )


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
        params: Sequence[Param] = (),
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler as `/name`; its texts are `cmd.<name>.*` in i18n.

        `refusal_key` replaces the permission's usual refusal (`error.not_admin`, which speaks of
        posting breaking news, and `error.not_manager`). `params` declares the arguments, in
        the order the text form takes them.
        """
        names = [param.name for param in params]
        if len(set(names)) != len(names):
            raise ValueError(f"/{name} declares a parameter twice: {names}")
        if sum(param.kind is ParamKind.CHAT for param in params) > 1:
            raise ValueError(f"/{name} declares more than one chat parameter")

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
                    params=tuple(params),
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
                translate(command.language, "error.unknown_command", name=_echo(command.name)),
                private=True,
            )
        refusal = self._refusal(spec, command)
        if refusal is not None:
            logger.info("refused /%s for %s in %s", command.name, command.actor, command.chat)
            return Reply.text(translate(command.language, refusal, name=spec.name), private=True)
        try:
            reply = await spec.handler(command, self._deps)
        except UsageError:
            return Reply.text(
                translate(command.language, "error.usage", usage=spec.usage(command.language)),
                private=True,
            )
        except UserError as error:
            return failure_reply(error, command.language)
        except Exception:
            logger.exception("/%s failed for %s in %s", command.name, command.actor, command.chat)
            return failure_reply(None, command.language)
        if spec.permission is Permission.BOT_ADMIN:
            # What the desk says (a draft not sent yet, delivery counts, the audit log) is for
            # its admins, even in a shared channel.
            reply = replace(reply, private=True)
        return reply

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
