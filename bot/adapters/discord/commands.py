"""The router's command specs as Discord application (slash) commands, through discord.py's own
`app_commands`: names, descriptions in English and Indonesian, typed options, default
permissions; and a sync that sends them only when they changed."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, cast

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from bot.logging_config import platform_fields
from bot.router import CommandSpec, Param, ParamKind, Permission
from storage.models import Platform
from storage.repositories import CommandSyncRepository

logger = logging.getLogger(__name__)

# English is what Discord shows in every locale not translated; Indonesian readers get `id`.
DEFAULT_LANGUAGE = "en"
LOCALES: Mapping[discord.Locale, str] = {discord.Locale.indonesian: "id"}
# Who may see the desk's commands by default: server managers (a server admin can change it
# under Server Settings > Integrations); the dispatcher still checks NEWSBOT_ADMINS.
DESK_DEFAULT_PERMISSIONS = discord.Permissions(manage_guild=True)
# Who may change a channel's subscriptions, follows and language by default.
CHAT_SETTINGS_DEFAULT_PERMISSIONS = discord.Permissions(manage_channels=True)

CommandCallback = Callable[[discord.Interaction, CommandSpec, dict[str, Any]], Awaitable[None]]
SuggestCallback = Callable[
    [discord.Interaction, CommandSpec, Param, str], Awaitable[list[Choice[Any]]]
]


class TextChannelOption(app_commands.Transformer):
    """A channel option that offers text and announcement channels, and hands the handler the
    interaction's resolved channel: it carries the invoking member's permissions there."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """A channel option."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """Only channels the bot posts stories in."""
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        """The resolved channel as Discord sent it (`AppCommandChannel`)."""
        return value


class RouterTranslator(app_commands.Translator):
    """Indonesian for Discord's `id` locale, from the texts each `locale_str` carries."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The text in `locale`'s language, or None to let Discord show the English one."""
        language = LOCALES.get(locale)
        text = string.extras.get(language) if language else None
        return str(text) if text else None


def _localized(describe: Callable[[str], str]) -> locale_str:
    """A text in English, with its Indonesian as an extra for the translator."""
    translations = {language: describe(language) for language in LOCALES.values()}
    return locale_str(describe(DEFAULT_LANGUAGE), **translations)


def _annotation(param: Param) -> Any:
    """The Python type discord.py turns into the option's type."""
    if param.kind in (ParamKind.INTEGER, ParamKind.STORY):
        return app_commands.Range[int, 1, None]
    if param.kind is ParamKind.CHAT:
        return app_commands.Transform[discord.app_commands.AppCommandChannel, TextChannelOption]
    return str


def build_command(
    spec: CommandSpec, run: CommandCallback, suggest: SuggestCallback
) -> app_commands.Command[Any, ..., None]:
    """One slash command for `spec`: its options in declared order (Discord puts required
    ones first), their descriptions, fixed choices, and suggestions for sections and stories."""

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await run(interaction, spec, values)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    parameters += [
        inspect.Parameter(
            param.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_annotation(param),
            default=inspect.Parameter.empty if param.required else None,
        )
        for param in spec.params
    ]
    # discord.py reads a callback's options from its signature; this one is built from the spec.
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    descriptions = {param.name: _param_description(spec, param) for param in spec.params}
    described = app_commands.describe(**descriptions)(callback)
    fixed = {
        param.name: [Choice(name=value, value=value) for value in param.choices]
        for param in spec.params
        if param.choices and param.kind is ParamKind.TEXT
    }
    if fixed:
        described = app_commands.choices(**fixed)(described)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name,
        description=_localized(spec.description),
        callback=described,
    )
    if spec.permission is Permission.CHAT_MANAGER:
        command.default_permissions = CHAT_SETTINGS_DEFAULT_PERMISSIONS
    elif spec.permission is Permission.BOT_ADMIN:
        command.default_permissions = DESK_DEFAULT_PERMISSIONS
    for param in spec.params:
        if param.kind in (ParamKind.SECTION, ParamKind.STORY):
            # discord.py types suggestions as text; a story's are numbers, which it sends as is.
            autocomplete = cast(Any, _suggester(spec, param, suggest))
            command.autocomplete(param.name)(autocomplete)
    return command


def _param_description(spec: CommandSpec, param: Param) -> locale_str:
    return _localized(lambda language: spec.param_description(param, language))


def _suggester(
    spec: CommandSpec, param: Param, suggest: SuggestCallback
) -> Callable[[discord.Interaction, str], Awaitable[list[Choice[Any]]]]:
    async def autocomplete(interaction: discord.Interaction, current: str) -> list[Choice[Any]]:
        return await suggest(interaction, spec, param, current)

    return autocomplete


async def sync_commands(
    tree: app_commands.CommandTree[Any],
    *,
    application_id: int,
    guild: int | None,
    syncs: CommandSyncRepository,
    now: datetime,
) -> bool:
    """Send the tree's commands to Discord (to `guild` alone, else globally) unless the same
    definitions were sent last time; whether they were sent.

    Discord limits how often commands may be created, and a global change takes a while to
    reach every client: an unchanged set is not sent again.
    """
    target = discord.Object(guild) if guild is not None else None
    translator = tree.translator
    commands = tree.get_commands(guild=target)
    payload = [
        await command.get_translated_payload(tree, translator)
        if translator
        else command.to_dict(tree)
        for command in commands
    ]
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    scope = f"{application_id}:" + (f"guild:{guild}" if guild is not None else "global")
    if await syncs.last_digest(Platform.DISCORD, scope) == digest:
        # The same definitions as last time, as far as this database knows. Another database
        # on the same token, or commands deleted in the portal, leave Discord with others:
        # the names it has tell (one read, which Discord's daily limit on creating commands
        # does not count).
        known = {command.name for command in await tree.fetch_commands(guild=target)}
        if known == {command.name for command in commands}:
            logger.info(
                "Discord commands unchanged (%s): not synced",
                scope,
                extra=platform_fields(Platform.DISCORD),
            )
            return False
    await tree.sync(guild=target)
    await syncs.record(Platform.DISCORD, scope, digest, now=now)
    logger.info(
        "synced %d Discord commands (%s)",
        len(commands),
        scope,
        extra=platform_fields(Platform.DISCORD),
    )
    return True
