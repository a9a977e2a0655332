"""The `newsbot` command line: its verbs and options, and `main`.

This module loads only what parsing the command line needs, so that `newsbot --version` and
`newsbot --help` answer at once; the verbs (`bot.cli_verbs`) are loaded once one is run.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from bot.chat import ChatKind

# A command line that names no verb, as argparse exits for any other incomplete one.
EXIT_USAGE = 2


def _version() -> str:
    try:
        return metadata.version("newsbot")
    except metadata.PackageNotFoundError:
        return "unknown (not installed; run pip install -e .)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="An Indonesian-first news bot for Telegram and Discord. Settings come from "
        "NEWSBOT_* environment variables and .env (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"newsbot {_version()}")
    # Not required: a plain `newsbot` prints this help instead of a usage error.
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.add_parser(
        "run",
        help="every configured platform and delivery; the console chat when no token is set",
    )
    chat = verbs.add_parser(
        "chat",
        help="a console chat over stdin/stdout; piped, it answers, prints what is due, and exits",
    )
    chat.add_argument("--chat", default="local", help="the console chat's name (default: local)")
    chat.add_argument("--user", default="local", help="who is typing (default: local)")
    chat.add_argument(
        "--admin",
        action="store_true",
        help="treat the user as a bot admin (as if console:USER were in NEWSBOT_ADMINS)",
    )
    chat.add_argument(
        "--kind",
        choices=[kind.value for kind in ChatKind],
        default=ChatKind.PRIVATE.value,
        help="the kind of chat to act as (default: private)",
    )
    chat.add_argument(
        "--member",
        action="store_true",
        help="in a group or channel, act as a member who does not manage the chat",
    )
    ingest = verbs.add_parser(
        "ingest", help="read RSS/Atom feeds, article pages or JSON Lines from files or URLs"
    )
    ingest.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    ingest.add_argument("--section", help="store every story in this section")
    verbs.add_parser("sample-news", help="load the sample stories into an empty database")
    _feeds_parser(verbs)
    _database_parser(verbs)
    return parser


def _feeds_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`newsbot feeds ...`: the feed registry."""
    feeds = verbs.add_parser("feeds", help="the feeds newsbot run polls: add, list, remove, ...")
    actions = feeds.add_subparsers(dest="feeds_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a feed")
    add.add_argument("url")
    add.add_argument("--section", required=True, help="the section its stories go to")
    add.add_argument("--interval", help="how often to poll it: 10m, 1h, 90s (default: setting)")
    add.add_argument(
        "--full-text", action="store_true", help="fetch each new item's page for its whole text"
    )
    actions.add_parser("list", help="the feeds, how their polling goes, and why one fails")
    for action, text in (
        ("remove", "forget a feed (its stories stay)"),
        ("enable", "poll a feed again, at once"),
        ("disable", "stop polling a feed"),
    ):
        actions.add_parser(action, help=text).add_argument("feed", help="its number or URL")
    imported = actions.add_parser("import", help="register the feeds of an OPML file")
    imported.add_argument("file", type=Path)
    imported.add_argument(
        "--section", help="the section of feeds whose OPML names none (default: fallback)"
    )
    actions.add_parser("export", help="print the registry as OPML")
    poll = verbs.add_parser("poll", help="poll the registered feeds (what newsbot run does)")
    poll.add_argument("--once", action="store_true", help="poll the due feeds once and exit")
    poll.add_argument(
        "--all",
        dest="every_feed",
        action="store_true",
        help="poll every enabled feed now, whatever its schedule, and exit (implies --once): "
        "for trying a new feed",
    )


def _database_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`newsbot db ...`: the database as a whole."""
    database = verbs.add_parser("db", help="the database: a backup, a schema upgrade")
    actions = database.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    backup = actions.add_parser(
        "backup", help="a consistent copy of the database, safe while newsbot writes to it"
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="the file to write the copy to")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    actions.add_parser(
        "upgrade",
        help="apply the schema migrations the database lacks (every command does at start) and "
        "say what changed",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, then run the verb with the settings read once."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.verb is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        # Imported here: settings, the database and everything the verbs wire together.
        from bot.cli_verbs import run_command_line  # noqa: PLC0415 - see above
    except KeyboardInterrupt:
        # Ctrl-C while the program is still loading: a stop like any other, not a traceback.
        return 130

    return run_command_line(arguments)
