"""The app: opens every resource in one place, wires the core together, and runs it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.adapters.console import ConsoleAdapter, ConsoleIdentity, LineSource, StreamLines
from bot.chat import parse_command_text
from bot.delivery.outage import Outage, duration_text
from bot.delivery.policy import ChatDeliveryPolicy
from bot.delivery.scheduler import DeliveryScheduler
from bot.i18n import translate
from bot.ingest.errors import IngestError
from bot.ingest.poller import FeedPoller, Fetcher, PollReport
from bot.ingest.progress import ProgressSink
from bot.ingest.runner import IngestLimits, InputReport, ingest_all
from bot.ingest.safe_fetch import AddressNotChecked, AddressPolicy, SafeFetcher
from bot.newsroom import Newsroom
from bot.newsroom.admin_notices import AdminNotices
from bot.newsroom.desk import Desk
from bot.newsroom.feed_registry import (
    AddressNotCheckedError,
    FeedRegistry,
    RegistryError,
    read_sources_file,
)
from bot.newsroom.source_desk import SourceDesk
from bot.newsroom.suggestions import Suggester
from bot.platform import ConnectedPlatform, PlatformAdapter, PlatformStartError
from bot.render import ArticleRenderer
from bot.router import Deps, Dispatcher, offered_commands
from bot.sections import SectionCatalog, SectionChoice
from bot.settings import Settings
from bot.stop_signals import stop_signals_handled
from handlers import build_router
from storage import Storage, open_storage

if TYPE_CHECKING:
    from bot.adapters.discord import DiscordAdapter
    from bot.adapters.telegram import TelegramAdapter

logger = logging.getLogger(__name__)

SAMPLE_NEWS = "berita.jsonl"
# What `newsbot run` says on stderr (in English, as every line of the command line) when it
# serves no platform: on a terminal, or with commands piped in, it is the console chat; with
# input that holds no command (stdin /dev/null, as systemd gives), it stops with exit code 2.
CONSOLE_INSTEAD_OF_A_PLATFORM = (
    "newsbot: no platform token is set, so this is the console chat; set "
    "NEWSBOT_TELEGRAM_TOKEN or NEWSBOT_DISCORD_TOKEN (in .env) to connect to Telegram or Discord"
)
NO_PLATFORM_NOR_COMMAND = (
    "no platform is configured: set NEWSBOT_TELEGRAM_TOKEN for Telegram or "
    "NEWSBOT_DISCORD_TOKEN for Discord (standard input is not a terminal and gave no command, "
    "so there is no console chat either)"
)
# Processes that parse inputs while this one stores them (`newsbot ingest` of several inputs).
# Parsing a story takes about as long as storing it: with one process this one waited for it
# (3,200-3,500 stories/s against 3,750-3,850 with two, on 2 cores); beyond two, parsing
# outruns storing.
PARSE_PROCESSES = min(2, os.cpu_count() or 1)


def utc_now() -> datetime:
    """The current time, aware, in UTC: the clock of the running bot."""
    return datetime.now(UTC)


def _is_process_terminal(stdin: TextIO, stdout: TextIO) -> bool:
    """Both streams are this process's own, and a terminal: what prompt_toolkit draws on."""
    return stdin is sys.stdin and stdout is sys.stdout and stdin.isatty() and stdout.isatty()


class _LinesFromTheFirstCommand:
    """Piped input to a console chat, read up to its first command before the chat starts;
    then every line, those read already first."""

    def __init__(self, source: LineSource) -> None:
        self._source = source
        self._read: collections.deque[str] = collections.deque()

    async def wait_for_a_command(self) -> bool:
        """Read until a command comes (True) or the input ends without one (False)."""
        while (line := await self._source.read_line()) is not None:
            self._read.append(line)
            if parse_command_text(line) is not None:
                return True
        return False

    async def read_line(self) -> str | None:
        """The next line; None once the input has ended."""
        if self._read:
            return self._read.popleft()
        return await self._source.read_line()


@dataclass(frozen=True)
class App:
    """The wired core over one open database."""

    settings: Settings
    storage: Storage
    deps: Deps
    dispatcher: Dispatcher
    clock: Callable[[], datetime]

    def delivery_worker(
        self,
        adapter: PlatformAdapter,
        *,
        chat_id: str | None = None,
        notices: AdminNotices | None = None,
    ) -> DeliveryScheduler:
        """The delivery of `adapter`'s platform (and, for the console, of one chat); `notices`
        tell the bot admins of a long outage."""
        settings = self.settings

        async def outage_over(outage: Outage) -> None:
            long_enough = timedelta(minutes=settings.delivery_outage_notice_minutes)
            if notices is None or outage.length < long_enough:
                return
            started = outage.started_at.astimezone(settings.tz()).strftime("%H:%M %Z")
            await notices.outage_over(
                translate(settings.language, f"platform.{adapter.platform.value}"),
                started,
                duration_text(outage.length),
            )

        return DeliveryScheduler(
            storage=self.storage,
            adapter=adapter,
            renderer=self.deps.renderer,
            policy=ChatDeliveryPolicy(self.storage.chats, self.settings.tz()),
            default_language=self.settings.language,
            lease_seconds=self.settings.delivery_lease_seconds,
            platform_lease_seconds=self.settings.delivery_platform_lease_seconds,
            max_attempts=self.settings.delivery_max_attempts,
            late_answer_seconds=self.settings.delivery_late_answer_seconds,
            poll_seconds=self.settings.delivery_poll_seconds,
            overdue_seconds=self.settings.delivery_overdue_seconds,
            give_up_seconds=self.settings.delivery_give_up_hours * 3600,
            coalesce_after_seconds=self.settings.delivery_coalesce_after_seconds,
            push_max_age_seconds=self.settings.push_max_age_hours * 3600,
            outage_over=outage_over,
            clock=self.clock,
            chat_id=chat_id,
            wake=self.deps.newsroom.pushes_queued,
        )

    async def chat(
        self, identity: ConsoleIdentity, *, stdin: TextIO, stdout: TextIO, interactive: bool
    ) -> None:
        """A console chat: answers each line; pushes for the chat appear as they are delivered.

        Interactive, pushes appear while the user types; on a terminal that is a prompt with
        line editing and history, and log records go to a file. Piped, the answers come first,
        then what is due for the chat, and the chat ends: output that a script can rely on.
        """
        if interactive and _is_process_terminal(stdin, stdout):
            await self._terminal_chat(identity, stdout)
            return
        adapter = ConsoleAdapter(
            sink=self.dispatcher,
            identity=identity,
            lines=StreamLines(stdin),
            output_stream=stdout,
        )
        if not interactive:
            await adapter.run(asyncio.Event())
            await self.delivery_worker(adapter, chat_id=identity.chat_id).deliver_due()
            # A console cannot change what it printed: a story sent here shows its counters
            # once, last.
            await self.deps.desk.finish()
            return
        await self._live_chat(adapter, asyncio.Event())

    async def _terminal_chat(self, identity: ConsoleIdentity, terminal: TextIO) -> None:
        """The console chat on a terminal: a banner, then a prompt until Ctrl-D or a signal."""
        # Imported here: only a chat on a terminal loads prompt_toolkit.
        from bot.adapters.terminal import terminal_console  # noqa: PLC0415 - see above

        async with terminal_console(
            sink=self.dispatcher,
            identity=identity,
            settings=self.settings,
            commands=[
                f"/{spec.name}"
                for spec in offered_commands(
                    self.deps.commands, bot_admin=identity.actor in self.settings.admins
                )
            ],
            terminal=terminal,
        ) as adapter:
            stop = asyncio.Event()
            with stop_signals_handled(stop.set):
                await self._live_chat(adapter, stop)

    async def _live_chat(self, adapter: ConsoleAdapter, stop: asyncio.Event) -> None:
        """Answer the adapter's lines while its chat's pushes and digests are delivered, until
        either ends."""
        chat_id = adapter.chat.chat_id
        delivery = asyncio.ensure_future(self.delivery_worker(adapter, chat_id=chat_id).run(stop))
        try:
            await adapter.run(stop)
        finally:
            stop.set()
            await delivery
            # Counters of a story sent here that were still running: printed as they stand.
            await self.deps.desk.finish()

    async def run(
        self,
        *,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
    ) -> None:
        """Every configured platform with its delivery; the console chat when none is.

        With a platform, SIGINT and SIGTERM end it cleanly: updates already
        received are answered and sends under way finish before the process exits.

        Raises:
            PlatformStartError: a platform cannot start; or none is configured and standard
                input, not a terminal, ends without a command (nobody is there to chat with).
        """
        adapters: list[ConnectedPlatform] = []
        if self.settings.telegram_token is not None:
            adapters.append(self.telegram_adapter())
        if self.settings.discord_token is not None:
            adapters.append(self.discord_adapter())
        piped: _LinesFromTheFirstCommand | None = None
        if not adapters:
            if not stdin.isatty():
                # Read before anything is said or started: input with no command means nobody
                # is there to chat with (a service started without its token).
                piped = _LinesFromTheFirstCommand(StreamLines(stdin))
                if not await piped.wait_for_a_command():
                    raise PlatformStartError(NO_PLATFORM_NOR_COMMAND)
            stderr.write(CONSOLE_INSTEAD_OF_A_PLATFORM + "\n")
            stderr.flush()
        if self.settings.sources is not None:
            loaded = await self.feed_registry().load(
                read_sources_file(Path(self.settings.sources))
            )
            stderr.write(f"newsbot: {self.settings.sources}: {loaded.line()}\n")
            for note in loaded.notes():
                stderr.write(f"newsbot: {note}\n")
        stop = asyncio.Event()
        async with self.fetcher() as fetcher:
            notices = self.admin_notices(adapters)
            polling = asyncio.create_task(
                self.poller(fetcher, notices).run(stop), name="feed polling"
            )
            try:
                if piped is not None:
                    console = ConsoleAdapter(
                        sink=self.dispatcher,
                        identity=ConsoleIdentity(),
                        lines=piped,
                        output_stream=stdout,
                    )
                    await self._live_chat(console, asyncio.Event())
                    return
                if not adapters:
                    await self.chat(
                        ConsoleIdentity(), stdin=stdin, stdout=stdout, interactive=True
                    )
                    return
                # Which file this process fills, wherever it was started from.
                names = " and ".join(
                    translate("en", f"platform.{adapter.platform.value}") for adapter in adapters
                )
                stderr.write(
                    f"newsbot: connecting to {names}; database {self.settings.database}\n"
                )
                stderr.flush()
                with stop_signals_handled(stop.set):
                    await self.serve(*adapters, stop=stop)
            finally:
                stop.set()
                await polling

    def admin_notices(self, adapters: Sequence[PlatformAdapter]) -> AdminNotices:
        """What tells the bot admins, in their private chats on `adapters`."""
        return AdminNotices(
            adapters,
            admins=self.settings.admins,
            chats=self.storage.chats,
            default_language=self.settings.language,
        )

    def fetcher(self) -> SafeFetcher:
        """The one client that fetches publishers' URLs, under the safety rules; one host is
        asked one thing at a time."""
        return SafeFetcher(
            AddressPolicy(allow_private=self.settings.allow_private_sources), per_host_limit=1
        )

    def poller(self, fetcher: Fetcher, notices: AdminNotices | None = None) -> FeedPoller:
        """The feed poller, over `fetcher` (the app's `SafeFetcher`); `notices` tells the
        admins of a feed given up on, and back."""
        return FeedPoller(
            on_disabled=notices.feed_disabled if notices else None,
            on_recovered=notices.feed_recovered if notices else None,
            feeds=self.storage.feeds,
            articles=self.storage.articles,
            fetcher=fetcher,
            publish=self.deps.newsroom.publish,
            limits=IngestLimits.from_settings(self.settings),
            clock=self.clock,
            timeout=self.settings.ingest_timeout_seconds,
            max_failures=self.settings.feed_max_failures,
        )

    async def poll_once(self, *, every_feed: bool) -> list[PollReport]:
        """`newsbot poll --once`: the feeds due now (`every_feed`: every enabled feed, whatever
        its schedule) polled once; a report each."""
        async with self.fetcher() as fetcher:
            return await self.poller(fetcher).poll_due(every_feed=every_feed)

    async def poll_until_stopped(self, *, stderr: TextIO) -> signal.Signals | None:
        """`newsbot poll`: the feeds, each when due, until SIGINT or SIGTERM; which one came."""
        async with self.fetcher() as fetcher:
            stop = asyncio.Event()
            with stop_signals_handled(stop.set) as stopped_by:
                # Said once a signal stops polling cleanly, not before.
                stderr.write("newsbot: polling the feeds; Ctrl-C stops\n")
                stderr.flush()
                await self.poller(fetcher).run(stop)
            return stopped_by.received

    def telegram_adapter(self) -> TelegramAdapter:
        """The Telegram platform of this app."""
        # Imported here: the console and the CLI's other verbs never load PTB.
        from bot.adapters.telegram import TelegramAdapter  # noqa: PLC0415 - see above

        return TelegramAdapter(
            settings=self.settings,
            sink=self.dispatcher,
            commands=self.deps.commands,
            chats=self.storage.chats,
            clock=self.clock,
        )

    def discord_adapter(self) -> DiscordAdapter:
        """The Discord platform of this app."""
        # Imported here: the console and the CLI's other verbs never load discord.py.
        from bot.adapters.discord import DiscordAdapter  # noqa: PLC0415 - see above

        return DiscordAdapter(
            settings=self.settings,
            sink=self.dispatcher,
            commands=self.deps.commands,
            chats=self.storage.chats,
            syncs=self.storage.command_syncs,
            suggester=Suggester(self.deps.sections, self.storage.articles),
            clock=self.clock,
        )

    async def serve(self, *adapters: ConnectedPlatform, stop: asyncio.Event) -> None:
        """Connect every adapter, then receive and deliver on each until `stop` is set.

        One platform that stops for good (a revoked token) stops the others cleanly too: the
        process ends so that it can be restarted, and says why.
        """
        async with contextlib.AsyncExitStack() as connected:
            for adapter in adapters:
                await connected.enter_async_context(adapter)
            notices = self.admin_notices(adapters)
            delivery = asyncio.gather(
                *(self.delivery_worker(adapter, notices=notices).run(stop) for adapter in adapters)
            )
            runs = [asyncio.ensure_future(adapter.run(stop)) for adapter in adapters]
            try:
                await asyncio.wait(runs, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.set()
                ended = await asyncio.gather(*runs, return_exceptions=True)
                await delivery
                # Live counters edit through the adapters: stopped while they are connected.
                await self.deps.desk.close()
            for outcome in ended:
                if isinstance(outcome, BaseException):
                    raise outcome

    async def ingest(
        self, locations: Sequence[str], *, section: str | None, progress: ProgressSink
    ) -> list[InputReport]:
        """Read, store and fan out every input; one report per input. Several inputs are
        parsed in other processes while this one stores."""
        return await ingest_all(
            locations,
            publish=self.deps.newsroom.publish,
            resolve_section=SectionChoice(self.deps.sections, section),
            now=self.clock,
            progress=progress,
            limits=IngestLimits.from_settings(self.settings),
            timeout=self.settings.ingest_timeout_seconds,
            parse_processes=PARSE_PROCESSES,
        )

    def feed_registry(self) -> FeedRegistry:
        """The feed registry (the one the chat's admin commands use too)."""
        return self.deps.sources.registry

    async def load_sample_news(self, progress: ProgressSink) -> InputReport | None:
        """Load the project's sample stories into an empty archive; None if it has stories."""
        if await self.storage.articles.count():
            return None
        sample = resources.files("bot") / "sample_news" / SAMPLE_NEWS
        with resources.as_file(sample) as path:
            [report] = await self.ingest([str(path)], section=None, progress=progress)
        return report


def _feed_registry(
    storage: Storage,
    catalog: SectionCatalog,
    settings: Settings,
    *,
    policy: AddressPolicy,
    clock: Callable[[], datetime],
    renderer: ArticleRenderer,
) -> FeedRegistry:
    """The feed registry, under the settings' default interval and the fetching rules: a feed
    that could not be fetched (a private address, say) is not registered; one whose address
    cannot be checked now (its name does not resolve) is `AddressNotCheckedError`."""
    checker = SafeFetcher(policy)  # checks addresses only; it opens no connection

    async def check_url(url: str) -> str:
        try:
            return await checker.check(url, timeout=settings.ingest_timeout_seconds)
        except AddressNotChecked as error:
            raise AddressNotCheckedError(error.url, str(error)) from error
        except IngestError as error:
            raise RegistryError(str(error)) from error

    return FeedRegistry(
        storage.feeds,
        catalog,
        default_interval=timedelta(minutes=settings.feed_interval_minutes),
        check_url=check_url,
        clock=clock,
        # In English, as every line of the command line; in the zone the chats show.
        time_label=lambda moment: renderer.time_label(moment, "en"),
    )


@contextlib.asynccontextmanager
async def open_app(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[App]:
    """Open the database and wire the core; everything is closed again on exit."""
    storage = await open_storage(
        settings.database, busy_timeout=settings.database_busy_timeout_seconds
    )
    try:
        catalog = SectionCatalog(
            [section.to_section() for section in settings.sections],
            fallback=settings.fallback_section,
        )
        await storage.sections.sync(catalog.all())
        table = build_router()
        renderer = ArticleRenderer(catalog, settings.tz())
        newsroom = Newsroom(storage.articles, settings, clock)
        desk = Desk(
            storage=storage, newsroom=newsroom, renderer=renderer, settings=settings, clock=clock
        )
        policy = AddressPolicy(allow_private=settings.allow_private_sources)
        sources = SourceDesk(
            registry=_feed_registry(
                storage, catalog, settings, policy=policy, clock=clock, renderer=renderer
            ),
            newsroom=newsroom,
            sections=catalog,
            policy=policy,
            limits=IngestLimits.from_settings(settings),
            timeout=settings.ingest_timeout_seconds,
            clock=clock,
        )
        deps = Deps(
            settings=settings,
            storage=storage,
            sections=catalog,
            renderer=renderer,
            newsroom=newsroom,
            desk=desk,
            sources=sources,
            commands=table.specs(),
            clock=clock,
        )
        try:
            yield App(
                settings=settings,
                storage=storage,
                deps=deps,
                dispatcher=Dispatcher(table, deps),
                clock=clock,
            )
        finally:
            # Before the database closes: live counters read it.
            await desk.close()
    finally:
        await storage.close()
