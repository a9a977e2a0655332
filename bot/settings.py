"""The one Settings class: environment variables prefixed NEWSBOT_, and `.env`."""

from __future__ import annotations

import json
import os
import re
import zoneinfo
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.models import BUSY_TIMEOUT_SECONDS, Platform, Section

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# The ports Telegram posts webhook updates to (its setWebhook refuses any other).
_WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})

BREAKING_SLUG = "breaking"


class SectionSetting(BaseModel):
    """One configured section."""

    # A misspelt key ("alias") is an error, not a setting silently ignored.
    model_config = ConfigDict(extra="forbid")

    slug: str
    name_id: str
    name_en: str
    aliases: tuple[str, ...] = ()

    @field_validator("slug")
    @classmethod
    def _slug_is_plain(cls, slug: str) -> str:
        if not _SLUG.match(slug):
            raise ValueError(
                f"slug {slug!r} must be lower-case letters, digits and '-' (e.g. dalam-negeri)"
            )
        return slug

    def to_section(self) -> Section:
        """The storage record of this section."""
        return Section(self.slug, self.name_id, self.name_en, self.aliases)


DEFAULT_SECTIONS: tuple[SectionSetting, ...] = (
    SectionSetting(
        slug="internasional",
        name_id="Internasional",
        name_en="International",
        aliases=("dunia", "world", "luar negeri"),
    ),
    SectionSetting(
        slug="nasional",
        name_id="Nasional",
        name_en="National",
        aliases=("indonesia", "dalam negeri"),
    ),
    SectionSetting(
        slug="ekonomi",
        name_id="Ekonomi",
        name_en="Economy",
        aliases=("bisnis", "business", "keuangan", "finance"),
    ),
    SectionSetting(
        slug="olahraga",
        name_id="Olahraga",
        name_en="Sports",
        aliases=("sport", "bola", "sepak bola"),
    ),
    SectionSetting(
        slug="teknologi",
        name_id="Teknologi",
        name_en="Technology",
        aliases=("tekno", "tech"),
    ),
    SectionSetting(
        slug="hiburan",
        name_id="Hiburan",
        name_en="Entertainment",
        aliases=("seleb", "budaya", "culture"),
    ),
    SectionSetting(
        slug="kesehatan",
        name_id="Kesehatan",
        name_en="Health",
        aliases=("sehat",),
    ),
    SectionSetting(slug="umum", name_id="Umum", name_en="General", aliases=("general",)),
    SectionSetting(
        slug=BREAKING_SLUG,
        name_id="Berita Terkini",
        name_en="Breaking News",
        aliases=("terkini", "breaking news"),
    ),
)


# Telegram and Discord know a user by a number; a @username or a display name never matches
# the id a command arrives with, so it would make no one an admin, silently.
_NUMERIC_USER_ID = re.compile(r"[0-9]+")
# A console user is the name given to `newsbot chat --user`; a comma would split the entry.
_CONSOLE_USER = re.compile(r"[^\s,]+")


def admin_entry_problem(entry: str) -> str | None:
    """What is wrong with one `NEWSBOT_ADMINS` entry, in one sentence; None when it is right.

    An entry is `telegram:` or `discord:` and the user's numeric id, or `console:` and a name
    without spaces. The user learns theirs by sending /whoami to the bot.
    """
    platform, _, user_id = entry.partition(":")
    if platform in (Platform.TELEGRAM.value, Platform.DISCORD.value):
        if not _NUMERIC_USER_ID.fullmatch(user_id):
            return (
                f"admin {entry!r} must be {platform}: and the user's numeric id (e.g. "
                f"{platform}:123456789), not a @username or a name; send /whoami to the bot "
                "to learn the id"
            )
        return None
    if platform == Platform.CONSOLE.value:
        if not _CONSOLE_USER.fullmatch(user_id):
            return (
                f"admin {entry!r} must be console: and a name without spaces (e.g. console:local)"
            )
        return None
    platforms = ", ".join(sorted(platform.value for platform in Platform))
    return (
        f"admin {entry!r} must be platform:user_id with platform one of {platforms} (e.g. "
        "telegram:123456789); send /whoami to the bot to learn the id"
    )


class Settings(BaseSettings):
    """Every setting of the process; read once at start and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database: str = "newsbot.db"
    # How long a write waits for another process's transaction (a backup, an ingest elsewhere)
    # before the database counts as locked: delivery then tries again later, and a command that
    # must write says the database is locked. Tests shorten it to hold a lock past it quickly.
    database_busy_timeout_seconds: float = Field(default=BUSY_TIMEOUT_SECONDS, gt=0)
    telegram_token: SecretStr | None = None
    telegram_api_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8080, ge=1, le=65535)
    # Telegram allows 30 messages in any one second. At 29/s the send budget never starts 31
    # within 1.017 s, which leaves room for the time a request takes to vary (no 429 in
    # bench/telegram_broadcast.py; at 30/s, some).
    telegram_sends_per_second: float = Field(default=29.0, gt=0)
    telegram_private_sends_per_second: float = Field(default=1.0, gt=0)
    telegram_group_sends_per_minute: float = Field(default=20.0, gt=0)
    # How long a send waits for Telegram's answer. Telegram may take long (it fetches a photo
    # first, or is overloaded); a send given up too early may have arrived, and is then not
    # simply sent again. An answer 40 s late is still recorded.
    telegram_send_timeout_seconds: float = Field(default=60.0, gt=0)
    discord_token: SecretStr | None = None
    # Discord's REST base URL (`.../api/v10`); the gateway's address comes from it. For a proxy
    # or a test server; unset means Discord's own.
    discord_api_url: str | None = None
    # A guild (server) id: commands are synced to it alone, which is instant (for development);
    # unset, they are synced globally.
    discord_guild: int | None = Field(default=None, gt=0)
    # Publish pushes in announcement channels to the servers that follow them.
    discord_crosspost: bool = False
    # Under Discord's 50 requests/s for a bot, leaving room for its own calls (interactions,
    # gateway-related REST), and its 5 messages per 5 s in one channel.
    discord_sends_per_second: float = Field(default=25.0, gt=0)
    discord_channel_sends_per_second: float = Field(default=1.0, gt=0)
    # How long a send waits for Discord's answer; a timed-out send is sent again with the
    # same nonce, which Discord de-duplicates.
    discord_send_timeout_seconds: float = Field(default=60.0, gt=0)
    # NoDecode: a comma-separated list, not JSON.
    admins: Annotated[frozenset[str], NoDecode] = frozenset()
    language: Literal["id", "en"] = "id"
    timezone: str = "Asia/Jakarta"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # One record per line either way; json for a log collector (bot/logging_config.py).
    log_format: Literal["text", "json"] = "text"

    # NoDecode: parsed by _sections_from_json, so that bad JSON names the setting.
    sections: Annotated[tuple[SectionSetting, ...], NoDecode] = DEFAULT_SECTIONS
    # After `sections`: their validators check against the sections validated before them.
    breaking_default_section: str = "nasional"
    fallback_section: str = "umum"
    push_max_age_hours: float = Field(default=48.0, gt=0)
    draft_ttl_minutes: float = Field(default=10.0, gt=0)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    # Delivery learns of pushes queued by other processes (an ingest, a chat, another run) by
    # looking this often; a push queued in this process goes at once.
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    # One process delivers for a platform at a time, under a lease renewed four times per
    # lease: a process standing by takes over within a quarter of it after a clean stop, and
    # once it lapses after a crash elsewhere (a dead process on this host is seen at once).
    delivery_platform_lease_seconds: float = Field(default=20.0, gt=0)
    delivery_max_attempts: int = Field(default=12, ge=1)
    # A send whose answer never came (a time-out once the request was written) may have
    # arrived: it is tried once more this much later, marked a possible duplicate.
    delivery_late_answer_seconds: float = Field(default=5.0, ge=0)
    # A send unanswered this long is overdue (its answer is still awaited, up to the platform's
    # send timeout): overdue or failed sends to three chats within a minute mean the platform
    # is down. Delivery then waits, probing it, and resumes when it answers; nothing counts as
    # a failed attempt until it has been down this many hours.
    delivery_overdue_seconds: float = Field(default=10.0, gt=0)
    delivery_give_up_hours: float = Field(default=24.0, gt=0)
    # The bot admins are told of an outage that lasted longer than this, when it ends.
    delivery_outage_notice_minutes: float = Field(default=3.0, ge=0)
    # A chat with more regular pushes waiting than it can take one by one in this long (at
    # its platform's interval: 1 s a private chat, 3 s a group) gets them as one message.
    # 0: never.
    delivery_coalesce_after_seconds: float = Field(default=60.0, ge=0)
    ingest_timeout_seconds: float = Field(default=20.0, gt=0)
    ingest_max_bytes: int = Field(default=10_000_000, gt=0)
    ingest_max_items: int = Field(default=2_000, gt=0)
    ingest_max_body_chars: int = Field(default=100_000, ge=1_000)
    # Fetching from loopback, private, CGNAT and unique-local addresses (intranet feeds, tests
    # on 127.0.0.1); off, every address a fetch connects to must be public (safe_fetch.py).
    allow_private_sources: bool = False
    max_future_minutes: int = Field(default=15, ge=0)
    # The feed registry: a TOML file of sections and their feeds that `newsbot run` loads at
    # start; how often a feed is polled unless it says otherwise; how many failures in a row
    # disable a feed.
    sources: str | None = None
    feed_interval_minutes: float = Field(default=10.0, ge=1)
    feed_max_failures: int = Field(default=10, ge=1)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object, info: ValidationInfo) -> object:
        """An empty value (`NEWSBOT_TELEGRAM_TOKEN=`) unsets a setting that can be unset."""
        if not isinstance(value, str) or value.strip() or info.field_name is None:
            return value
        default = cls.model_fields[info.field_name].default
        if default is None or (isinstance(default, frozenset) and not default):
            return default
        shown = f" ({default})" if isinstance(default, str | int | float) else ""
        raise PydanticCustomError(
            "empty_setting",
            "is empty; remove the line to use the default{shown}",
            {"shown": shown},
        )

    @field_validator("database")
    @classmethod
    def _database_path_is_absolute(cls, database: str) -> str:
        # Resolved once, here, so that every later message names the file actually used,
        # whichever directory the command ran from.
        if database == ":memory:" or "://" in database:
            return database
        return os.path.abspath(os.path.expanduser(database))

    @field_validator("sections", mode="before")
    @classmethod
    def _sections_from_json(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            return value  # an empty value is _empty_means_unset's to refuse
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise PydanticCustomError(
                "invalid_json", "is not valid JSON ({detail})", {"detail": str(error)}
            ) from error

    @field_validator("sections")
    @classmethod
    def _sections_are_coherent(
        cls, sections: tuple[SectionSetting, ...]
    ) -> tuple[SectionSetting, ...]:
        slugs = [section.slug for section in sections]
        for slug in slugs:
            if slugs.count(slug) > 1:
                raise ValueError(f"two sections have the slug {slug!r}; each needs its own")
        if BREAKING_SLUG not in slugs:
            raise ValueError(
                f"has no section with the slug {BREAKING_SLUG!r}, which /breaking stories go to"
            )
        return sections

    @field_validator("breaking_default_section", "fallback_section")
    @classmethod
    def _is_a_configured_section(cls, slug: str, info: ValidationInfo) -> str:
        sections = info.data.get("sections")
        if sections is None:
            return slug  # NEWSBOT_SECTIONS itself is wrong, and has its own message
        slugs = [section.slug for section in sections]
        if slug not in slugs:
            raise ValueError(
                f"{slug!r} is not one of the sections in NEWSBOT_SECTIONS ({', '.join(slugs)})"
            )
        return slug

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("admins")
    @classmethod
    def _admins_name_a_platform(cls, admins: frozenset[str]) -> frozenset[str]:
        # Sorted, so that of several bad entries the same one is named at every start.
        for admin in sorted(admins):
            problem = admin_entry_problem(admin)
            if problem is not None:
                raise ValueError(problem)
        return admins

    @field_validator("telegram_api_url", "discord_api_url")
    @classmethod
    def _url_is_http(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"{url!r} must be an http:// or https:// URL")
        return url

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url_fits_telegram(cls, url: str | None) -> str | None:
        # Telegram's own rule for setWebhook; checked here so that a URL it would refuse
        # stops the bot before it starts, as one line naming the setting.
        if url is None:
            return url
        parts = urlsplit(url)
        try:
            port = 443 if parts.port is None else parts.port
        except ValueError:  # not a number, or not a port
            port = None
        if parts.scheme != "https" or not parts.hostname or port not in _WEBHOOK_PORTS:
            raise ValueError(
                f"{url!r} must be an https:// URL on port 443, 80, 88 or 8443, the only ones "
                "Telegram posts to (no port means 443)"
            )
        return url

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_fits_telegram(cls, secret: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token; checked here so a bad one fails at start.
        if secret is not None and not _WEBHOOK_SECRET.match(secret.get_secret_value()):
            raise ValueError("the webhook secret must be 1-256 of A-Z, a-z, 0-9, '_' and '-'")
        return secret

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r} (try Asia/Jakarta)") from error
        return name

    def tz(self) -> zoneinfo.ZoneInfo:
        """The display time zone."""
        return zoneinfo.ZoneInfo(self.timezone)
