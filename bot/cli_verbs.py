"""The verbs of the `newsbot` command line (`bot.cli` parses it): each runs over the wired app
and answers with an exit code, a known failure as one line on stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from bot.adapters.console import ConsoleFiles, ConsoleIdentity
from bot.app import App, open_app
from bot.chat import ChatKind
from bot.ingest.progress import KeepingProgress, progress_for
from bot.ingest.report import InputReport, interrupted_line, totals_line
from bot.ingest.stopping import IngestStoppedError, stopped_by_signals
from bot.logging_config import configure_logging, logging_redirected
from bot.newsroom.feed_registry import (
    FeedSpec,
    RegistryError,
    export_opml,
    interval_text,
    parse_interval,
    read_opml,
)
from bot.platform import PlatformLostError, PlatformStartError
from bot.settings import Settings
from bot.settings_loader import InvalidSettingsError, load_settings, unknown_setting_warnings
from storage import DatabaseUnusableError
from storage.maintenance import backup_database, upgrade_database
from storage.models import BackupError

EXIT_OK = 0
EXIT_INPUT_FAILED = 1
EXIT_FAILED = 1
EXIT_CONFIG = 2
# 128 + SIGPIPE: what a shell reports for any program whose reader went away (`yes | head`).
EXIT_OUTPUT_CLOSED = 141
# 128 + SIGINT: what a shell reports for any program stopped by Ctrl-C.
EXIT_INTERRUPTED = 130


async def _main(arguments: argparse.Namespace, settings: Settings) -> int:
    if arguments.verb == "db":
        # Not through the app: a backup copies the file as it is, an upgrade is the one
        # thing opening the app would do to it.
        return await _database(arguments, settings)
    async with open_app(settings) as app:
        return await _run_verb(app, arguments)


async def _run_verb(app: App, arguments: argparse.Namespace) -> int:
    verbs = {
        "run": _run_bot,
        "chat": _chat,
        "ingest": _ingest,
        "feeds": _feeds,
        "sample-news": _sample_news,
        "poll": _poll,
    }
    return await verbs[arguments.verb](app, arguments)


async def _run_bot(app: App, _arguments: argparse.Namespace) -> int:
    try:
        await app.run(stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
    except RegistryError as error:
        # The sources file (NEWSBOT_SOURCES) says something that cannot be used.
        print(f"newsbot: NEWSBOT_SOURCES: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


async def _chat(app: App, arguments: argparse.Namespace) -> int:
    kind = ChatKind(arguments.kind)
    identity = ConsoleIdentity(
        chat_id=arguments.chat,
        user_id=arguments.user,
        chat_kind=kind,
        can_manage_chat=kind is ChatKind.PRIVATE or not arguments.member,
    )
    await app.chat(identity, stdin=sys.stdin, stdout=sys.stdout, interactive=sys.stdin.isatty())
    return EXIT_OK


async def _ingest(app: App, arguments: argparse.Namespace) -> int:
    section = None
    if arguments.section is not None:
        found = app.deps.sections.find(arguments.section)
        if found is None:
            known = ", ".join(section.slug for section in app.deps.sections.all())
            print(
                f"newsbot: unknown section {arguments.section!r}; sections: {known}",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        section = found.slug
    progress = KeepingProgress(progress_for(sys.stdout, sys.stderr))
    try:
        with stopped_by_signals():
            reports = await app.ingest(arguments.inputs, section=section, progress=progress)
    except IngestStoppedError as stop:
        database, total = app.settings.database, len(arguments.inputs)
        print(interrupted_line(progress.reports, total, database, stop.signal.name))
        return stop.exit_code
    return _ingest_outcome(reports, app)


async def _poll(app: App, arguments: argparse.Namespace) -> int:
    """`newsbot poll [--once] [--all]`: once, a line per feed polled and exit 1 when a poll
    failed; else until a signal, and exit 130 after Ctrl-C."""
    if not (arguments.once or arguments.every_feed):
        stopped_by = await app.poll_until_stopped(stderr=sys.stderr)
        return EXIT_INTERRUPTED if stopped_by == signal.SIGINT else EXIT_OK
    reports = await app.poll_once(every_feed=arguments.every_feed)
    for report in reports:
        print(report.line)
    if not reports:
        print(
            "no feed is enabled; `newsbot feeds list` shows them"
            if arguments.every_feed
            else "no feed is due; `newsbot feeds list` says when each is"
        )
    return EXIT_INPUT_FAILED if any(r.outcome.error for r in reports) else EXIT_OK


async def _sample_news(app: App, _arguments: argparse.Namespace) -> int:
    report = await app.load_sample_news(progress_for(sys.stdout, sys.stderr))
    if report is None:
        print("newsbot: the database already has stories; sample news not loaded", file=sys.stderr)
        return EXIT_OK
    return _ingest_outcome([report], app)


async def _feeds(app: App, arguments: argparse.Namespace) -> int:
    """`newsbot feeds ACTION`; a refusal is one line on stderr and exit code 2 (1 when an
    import registered some feeds and refused others)."""
    registry = app.feed_registry()
    action = arguments.feeds_action
    try:
        if action == "add":
            interval = parse_interval(arguments.interval) if arguments.interval else None
            spec = FeedSpec(arguments.url, arguments.section, interval, arguments.full_text)
            feed = await registry.add(spec)
            print(
                f"feed {feed.id} added: {feed.url} ({feed.section}, every "
                f"{interval_text(feed.interval)}); its first poll stores its stories without "
                "pushing them"
            )
        elif action == "list":
            print(registry.table(await registry.all(), app.clock()))
        elif action == "remove":
            feed = await registry.remove(arguments.feed)
            print(f"feed {feed.id} removed: {feed.url} (its stories stay)")
        elif action in ("enable", "disable"):
            feed = await registry.set_enabled(arguments.feed, action == "enable")
            print(f"feed {feed.id} {action}d: {feed.url}")
        elif action == "import":
            fallback = arguments.section or app.settings.fallback_section
            try:
                data = arguments.file.read_bytes()
            except OSError as error:
                raise RegistryError(f"cannot read {arguments.file}: {error.strerror}") from error
            specs = read_opml(data, app.deps.sections, fallback_section=fallback)
            report = await registry.load(specs)
            for note in report.notes():
                print(f"newsbot: {note}", file=sys.stderr)
            print(f"{arguments.file}: {report.line()}")
            if report.refused:
                return EXIT_INPUT_FAILED  # what could be registered was
        else:  # export
            sys.stdout.write(
                export_opml(await registry.all(), app.deps.sections, title="newsbot feeds")
            )
    except RegistryError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


async def _database(arguments: argparse.Namespace, settings: Settings) -> int:
    """`newsbot db upgrade` and `newsbot db backup PATH [--force]`: one line each."""
    if arguments.db_action == "upgrade":
        change = await upgrade_database(
            settings.database, busy_timeout=settings.database_busy_timeout_seconds
        )
        print(f"{settings.database}: {change.text()}")
        return EXIT_OK
    try:
        report = backup_database(
            settings.database,
            arguments.path,
            replace=arguments.force,
            busy_timeout=settings.database_busy_timeout_seconds,
        )
    except BackupError as error:
        print(f"newsbot: backup: {error}", file=sys.stderr)
        return EXIT_FAILED
    stories = f"{report.stories} {'story' if report.stories == 1 else 'stories'}"
    print(
        f"{report.path}: schema {report.schema_version}, {stories}, "
        f"{_size_text(report.size_bytes)} (a copy of {report.source})"
    )
    return EXIT_OK


def _size_text(size: int) -> str:
    """A file size as an operator reads it: 740 KB, 12.4 MB, 3.1 GB (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            digits = 1 if size < 100 * scale else 0
            return f"{size / scale:.{digits}f} {unit}"
    return f"{size} bytes"


def _ingest_outcome(reports: list[InputReport], app: App) -> int:
    """Print the totals line (where the stories went); 0 only when every input was read whole,
    no story skipped for a limit."""
    print(totals_line(reports, app.settings.database))
    return EXIT_OK if all(report.complete for report in reports) else EXIT_INPUT_FAILED


def run_command_line(arguments: argparse.Namespace) -> int:
    """Read the settings once, set up logging, and run the verb `arguments` name."""
    settings = _read_settings()
    if settings is None:
        return EXIT_CONFIG
    if getattr(arguments, "admin", False):
        settings = settings.model_copy(
            update={"admins": settings.admins | {f"console:{arguments.user}"}}
        )
    configure_logging(settings, sys.stderr)
    with _logs_away_from_a_console(arguments, settings):
        return _run(arguments, settings)


def _logs_away_from_a_console(
    arguments: argparse.Namespace, settings: Settings
) -> contextlib.ExitStack:
    """For a console chat on this terminal, log records go to its log file from the start
    (opening the database may log, before the chat exists to say where records go)."""
    console = arguments.verb == "chat" or (
        arguments.verb == "run"
        and settings.telegram_token is None
        and settings.discord_token is None
    )
    on_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    redirected = contextlib.ExitStack()
    if console and on_terminal and settings.log_level != "DEBUG":
        # A file that cannot be opened leaves the records where they were; the chat's banner
        # says why.
        with contextlib.suppress(OSError):
            log = ConsoleFiles.beside(settings.database).log
            log.parent.mkdir(parents=True, exist_ok=True)  # as opening the database will
            redirected.enter_context(logging_redirected(settings, log))
    return redirected


def _read_settings() -> Settings | None:
    """The settings; None after saying on stderr what is wrong with them."""
    for warning in unknown_setting_warnings(os.environ):
        print(f"newsbot: warning: {warning}", file=sys.stderr)
    try:
        return load_settings()
    except InvalidSettingsError as error:
        for problem in error.problems:
            print(f"newsbot: {problem}", file=sys.stderr)
        return None


def _run(arguments: argparse.Namespace, settings: Settings) -> int:
    """Run the verb; a known failure is one line on stderr and an exit code."""
    try:
        code = asyncio.run(_main(arguments, settings))
        sys.stdout.flush()  # here, where a closed pipe can still be met quietly
    except DatabaseUnusableError as error:
        print(f"newsbot: NEWSBOT_DATABASE: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except PlatformStartError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except PlatformLostError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader of our output went away (`newsbot chat | head -1`): stop quietly. Output
        # still buffered would fail again at exit, so stdout now leads to /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OUTPUT_CLOSED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code
