"""`newsbot db upgrade` and `newsbot db backup`, as an operator runs them on a real file.

The verbs run in this process through `bot.cli.main` (settings from the environment, output
on stdout and stderr); only the writer that a backup races against is another process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_app
from bot.settings import Settings
from storage.models import ChatRef, Platform
from storage.sqlite.migrations import SCHEMA_VERSION
from tests.feeds.feed_server import FeedServer, Item, Route, feeds_polled_every_second
from tests.support import FakePlatform, Newsbot, run_in_this_process

SCHEMA_1 = Path(__file__).parent / "fixtures" / "database" / "schema-1.sql"
# The stories in the schema-1 fixture, by id.
FIXTURE_TITLES = {
    1: "Sekjen NATO Tiba di Tokyo untuk Pembicaraan Pertahanan",
    2: "Harga Cabai di Pasar Induk Turun Menjelang Akhir Tahun",
    3: "Timnas Putri Menang Tipis atas Vietnam",
    4: "Bandara Baru di Kalimantan Mulai Melayani Penerbangan Komersial",
    5: "Gempa Magnitudo 5,1 Guncang Sulawesi Tengah",
    6: "Bank Sentral Tahan Suku Bunga Acuan",
}

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "newsbot.db"


@pytest.fixture
def newsbot(database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`newsbot ARGS...` run in this process on `database` (`tests.support.Newsbot`'s way,
    with its check that no thread is left to keep a process alive): its exit code, stdout and
    stderr. The environment is read at each call, so a test may change it with monkeypatch."""
    for name in [name for name in os.environ if name.startswith("NEWSBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSBOT_DATABASE", str(database))

    def run(*arguments: str) -> tuple[int, str, str]:
        result = run_in_this_process(
            list(arguments), stdin="", env=dict(os.environ), cwd=tmp_path, timeout=60
        )
        return result.returncode, result.stdout, result.stderr

    return run


def _schema_1_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA_1.read_text(encoding="utf-8"))
    connection.close()


def _checked(path: Path) -> sqlite3.Connection:
    """A connection to the file at `path`, after checking that SQLite finds it whole."""
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    return connection


# db upgrade ------------------------------------------------------------------------------


def test_a_schema_1_database_is_upgraded_and_still_answers(newsbot: Run, database: Path) -> None:
    _schema_1_database(database)

    code, out, err = newsbot("db", "upgrade")

    assert (code, out, err) == (0, f"{database}: schema 1 → {SCHEMA_VERSION}\n", "")
    connection = _checked(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        stored = dict(connection.execute("SELECT id, title FROM articles").fetchall())
        assert stored == FIXTURE_TITLES
    finally:
        connection.close()
    asyncio.run(_assert_the_schema_1_stories_answer(database))


async def _assert_the_schema_1_stories_answer(database: Path) -> None:
    settings = Settings(_env_file=None, database=str(database))  # type: ignore[call-arg]  # pydantic-settings' init-only option
    async with open_app(settings) as app:
        redaksi = FakePlatform(app, platform=Platform.CONSOLE)
        # The index rebuilt by the upgrade finds the words as typed first, then their stems.
        found = await redaksi.say_text("/latest tahan", chat="redaksi")
        assert found.index(FIXTURE_TITLES[6]) < found.index(FIXTURE_TITLES[1])
        assert FIXTURE_TITLES[4] in await redaksi.say_text("/latest bandara", chat="redaksi")
        assert FIXTURE_TITLES[3] in await redaksi.say_text("/latest olahraga", chat="pembaca")
        assert "BMKG" in await redaksi.say_text("/read 5", chat="redaksi")
        # The chats' settings came through: redaksi reads English, and its subscriptions.
        subscriptions = await redaksi.say_text("/subscriptions", chat="redaksi")
        assert "Economy" in subscriptions
        assert "International" in subscriptions
        assert "bandara" in subscriptions
        assert await app.storage.subscriptions.sections_of(
            ChatRef(Platform.CONSOLE, "pembaca")
        ) == ["olahraga"]
        # The breaking story is found by its flag; the push that was waiting still waits.
        assert FIXTURE_TITLES[5] in await redaksi.say_text("/latest breaking", chat="x")
        assert await app.storage.outbox.status_counts() == {"pending": 1}


def test_upgrading_a_current_database_changes_nothing(newsbot: Run, database: Path) -> None:
    _schema_1_database(database)
    newsbot("db", "upgrade")
    before = database.read_bytes()

    code, out, err = newsbot("db", "upgrade")

    assert (code, out, err) == (0, f"{database}: already at schema {SCHEMA_VERSION}\n", "")
    assert database.read_bytes() == before


def _not_sqlite(path: Path) -> None:
    path.write_text("Catatan redaksi: rapat jam 9 pagi.\n", encoding="utf-8")


def _damaged(path: Path) -> None:
    _schema_1_database(path)
    content = bytearray(path.read_bytes())
    content[100:300] = b"\xff" * 200  # page 1's b-tree header and cell pointers
    path.write_bytes(bytes(content))


def _newer(path: Path) -> None:
    """A database a newer newsbot made (in WAL mode, as every newsbot database is)."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1:d}")
    connection.close()


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_not_sqlite, "is not an SQLite database"),
        (_damaged, "is damaged (SQLite: database disk image is malformed); restore a backup"),
        (
            _newer,
            f"has schema version {SCHEMA_VERSION + 1}, newer than this newsbot knows "
            f"({SCHEMA_VERSION}); upgrade newsbot to use it",
        ),
    ],
    ids=["not sqlite", "damaged", "newer"],
)
def test_an_unusable_database_is_refused_and_left_as_it_was(
    newsbot: Run, database: Path, make: Callable[[Path], None], problem: str
) -> None:
    make(database)
    before = database.read_bytes()

    code, out, err = newsbot("db", "upgrade")

    assert (code, out) == (2, "")
    assert err.splitlines() == [f"newsbot: NEWSBOT_DATABASE: {str(database)!r} {problem}"]
    assert database.read_bytes() == before


def test_upgrading_a_missing_database_creates_nothing(newsbot: Run, database: Path) -> None:
    code, out, err = newsbot("db", "upgrade")

    assert (code, out) == (2, "")
    assert err.startswith(f"newsbot: NEWSBOT_DATABASE: {str(database)!r} does not exist; ")
    assert list(database.parent.iterdir()) == []


def test_a_new_database_is_announced_in_one_log_line_and_an_open_one_in_none(
    newsbot: Run, database: Path
) -> None:
    code, _out, err = newsbot("feeds", "list")
    assert code == 0
    [line] = err.splitlines()
    assert line.endswith(f" INFO storage.sqlite: database {database}: created at schema 10")

    code, _out, err = newsbot("feeds", "list")
    assert (code, err) == (0, "")


def test_migrating_at_start_is_one_log_line(newsbot: Run, database: Path) -> None:
    _schema_1_database(database)

    code, _out, err = newsbot("feeds", "list")

    assert code == 0
    [line] = err.splitlines()
    assert line.endswith(f" INFO storage.sqlite: database {database}: schema 1 → 10")


# db backup -------------------------------------------------------------------------------


def _story_files(directory: Path, files: int, per_file: int) -> list[str]:
    """JSON Lines files of short stories published three days ago (stored, not pushed). An
    ingest commits each input's stories as it reads them: many small files make a writer that
    commits every few milliseconds."""
    published = datetime.now(UTC) - timedelta(days=3)
    directory.mkdir()
    paths = []
    for file in range(files):
        path = directory / f"arus-{file}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for number in range(file * per_file, (file + 1) * per_file):
                story = {
                    "id": f"arus-{number}",
                    "title": f"Arus mudik di jalur pantura, laporan ke-{number}",
                    "section": "nasional",
                    "published_at": (published + timedelta(seconds=number)).isoformat(),
                    "body": f"Petugas mencatat kepadatan kendaraan di gerbang tol ({number}).",
                }
                out.write(json.dumps(story) + "\n")
        paths.append(str(path))
    return paths


def _identities(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {identity for (identity,) in connection.execute("SELECT identity FROM articles")}
    finally:
        connection.close()


def _identities_once_stored(path: Path, within: float = 30.0) -> set[str]:
    """The stories committed so far, once the writer has committed some."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if found := _identities(path):
                return found
        except sqlite3.OperationalError:
            pass  # the writer has not made the file or its schema yet
        time.sleep(0.02)
    raise AssertionError(f"no story was committed to {path} within {within} s")


def _stories_in_whole_copy(copy: Path) -> set[str]:
    """The stories of a backup, once SQLite finds it whole and at the current schema."""
    connection = _checked(copy)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        return {identity for (identity,) in connection.execute("SELECT identity FROM articles")}
    finally:
        connection.close()


def _identities_once_grown(path: Path, *, beyond: set[str], within: float = 30.0) -> set[str]:
    """The stories committed after those in `beyond`, once there are some."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if grown := _identities(path) - beyond:
            return grown
        time.sleep(0.02)
    raise AssertionError(f"no story was committed to {path} within {within} s")


def test_a_backup_during_an_ingest_holds_every_story_committed_before_it(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "cadangan" / "newsbot-copy.db"
    copy.parent.mkdir()
    stories = _story_files(tmp_path / "arus", files=1000, per_file=5)
    writer = Newsbot(tmp_path).start("ingest", *stories, env={"NEWSBOT_DATABASE": str(database)})
    try:
        committed = _identities_once_stored(database)
        code, out, err = newsbot("db", "backup", str(copy))
        still_writing = writer.poll() is None
        stored_since = _identities(database) - committed
    finally:
        writer.terminate()
        writer.communicate(timeout=30)

    assert (code, err) == (0, ""), err
    # The ingest went on around the backup: the copy was taken of a file being written.
    assert still_writing
    assert stored_since
    copied = _stories_in_whole_copy(copy)
    assert committed <= copied
    assert out.startswith(f"{copy}: schema {SCHEMA_VERSION}, {len(copied)} stories, ")
    assert out.endswith(f" (a copy of {database})\n")
    assert sorted(path.name for path in copy.parent.iterdir()) == ["newsbot-copy.db"]


def test_a_backup_while_newsbot_run_polls_holds_every_story_committed_before_it(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    """The writer is the bot itself: `newsbot run` polling its feeds, which gain stories all
    the time, storing what each poll finds while the backup is taken."""
    copy = tmp_path / "cadangan-run.db"
    with FeedServer() as server:
        paths = feeds_polled_every_second(server)
        for path in paths:
            server.routes[path] = Route(items=[])
        sources = tmp_path / "sources.toml"
        listed = ", ".join(f'{{ url = "{server.url(path)}", interval = "10s" }}' for path in paths)
        sources.write_text(f"[sections.nasional]\nfeeds = [{listed}]\n", encoding="utf-8")
        publishing = threading.Event()

        def publish_all_the_time() -> None:
            number = 0
            while not publishing.wait(0.05):
                number += 1
                for path in paths:
                    server.routes[path].items.append(
                        Item(
                            f"Laporan banjir ke-{number}", f"https://kabar.example/{path}/{number}"
                        )
                    )

        publisher = threading.Thread(target=publish_all_the_time, daemon=True)
        publisher.start()
        bot = Newsbot(tmp_path).start(
            "run",
            env={
                "NEWSBOT_DATABASE": str(database),
                "NEWSBOT_SOURCES": str(sources),
                "NEWSBOT_ALLOW_PRIVATE_SOURCES": "true",
            },
            output=tmp_path / "run.log",
            stdin=True,  # the console chat's input, left open: the bot runs until it closes
        )
        try:
            assert bot.stdin is not None
            bot.stdin.write("/sections\n")  # a console chat with no command yet is not started
            bot.stdin.flush()
            committed = _identities_once_stored(database)
            code, out, err = newsbot("db", "backup", str(copy))
            stored_since = _identities_once_grown(database, beyond=_identities(database))
            still_running = bot.poll() is None
        finally:
            publishing.set()
            bot.communicate(timeout=30)

    assert (code, err) == (0, ""), err
    # The bot went on storing around the backup: the copy was taken of a file being written.
    assert still_running
    assert stored_since
    copied = _stories_in_whole_copy(copy)
    assert committed <= copied
    assert out.startswith(f"{copy}: schema {SCHEMA_VERSION}, {len(copied)} stories, ")
    assert bot.returncode == 0, (tmp_path / "run.log").read_text(encoding="utf-8")


def test_a_backup_copies_the_file_as_it_is_without_upgrading_it(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    _schema_1_database(database)
    copy = tmp_path / "lama-copy.db"

    code, out, err = newsbot("db", "backup", str(copy))

    assert (code, err) == (0, "")
    assert out.startswith(f"{copy}: schema 1, 6 stories, ")
    assert out.endswith(f" KB (a copy of {database})\n")
    for path in (database, copy):
        connection = _checked(path)
        try:
            assert connection.execute("PRAGMA user_version").fetchone() == (1,)
            assert connection.execute("SELECT count(*) FROM articles").fetchone() == (6,)
        finally:
            connection.close()


def test_an_existing_file_is_kept_unless_forced(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    _schema_1_database(database)
    earlier = tmp_path / "kemarin.db"
    earlier.write_text("cadangan kemarin", encoding="utf-8")

    code, out, err = newsbot("db", "backup", str(earlier))

    assert (code, out) == (1, "")
    assert err == f"newsbot: backup: {earlier} exists; pass --force to replace it\n"
    assert earlier.read_text(encoding="utf-8") == "cadangan kemarin"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kemarin.db", "newsbot.db"]

    code, out, err = newsbot("db", "backup", "--force", str(earlier))

    assert (code, err) == (0, "")
    connection = _checked(earlier)
    try:
        assert connection.execute("SELECT count(*) FROM articles").fetchone() == (6,)
    finally:
        connection.close()


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_the_database_itself_is_never_a_backup_target(
    newsbot: Run, database: Path, suffix: str
) -> None:
    _schema_1_database(database)
    before = database.read_bytes()
    target = database.with_name(database.name + suffix)

    code, out, err = newsbot("db", "backup", "--force", str(target))

    assert (code, out) == (1, "")
    assert err == f"newsbot: backup: {target} is the database itself; name another file\n"
    assert database.read_bytes() == before


def test_a_directory_or_a_missing_one_is_refused(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    _schema_1_database(database)
    folder = tmp_path / "cadangan"
    folder.mkdir()

    assert newsbot("db", "backup", str(folder)) == (
        1,
        "",
        f"newsbot: backup: {folder} is a directory; name a file in it, such as "
        f"{folder / 'newsbot-backup.db'}\n",
    )
    missing = tmp_path / "tidak-ada" / "newsbot.db"
    assert newsbot("db", "backup", str(missing)) == (
        1,
        "",
        f"newsbot: backup: {missing} cannot be written: its directory {missing.parent} is "
        "missing\n",
    )
    assert list(folder.iterdir()) == []


def _damaged_stories(path: Path) -> None:
    """A schema-1 database whose articles table is damaged, its first page intact."""
    _schema_1_database(path)
    connection = sqlite3.connect(path)
    [(page_size,)] = connection.execute("PRAGMA page_size").fetchall()
    [(root,)] = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'articles'")
    connection.close()
    content = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    content[start : start + page_size] = b"\xff" * page_size
    path.write_bytes(bytes(content))


def test_a_damaged_database_is_refused_and_no_partial_copy_is_left(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    _damaged_stories(database)
    copy = tmp_path / "cadangan.db"

    code, out, err = newsbot("db", "backup", str(copy))

    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith(
        f"newsbot: NEWSBOT_DATABASE: {str(database)!r} is damaged (SQLite's quick_check: Page "
    )
    assert line.endswith("); restore a backup")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["newsbot.db"]


def test_a_missing_database_is_not_created_by_a_backup(
    newsbot: Run, database: Path, tmp_path: Path
) -> None:
    code, out, err = newsbot("db", "backup", str(tmp_path / "cadangan.db"))

    assert (code, out) == (2, "")
    assert err == (
        f"newsbot: NEWSBOT_DATABASE: {str(database)!r} does not exist; nothing to back up\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_postgresql_database_is_pointed_to_pg_dump(
    newsbot: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE", "postgresql://redaksi:rahasia-sekali@127.0.0.1/berita")

    code, out, err = newsbot("db", "backup", str(tmp_path / "cadangan.db"))

    assert (code, out) == (2, "")
    assert err == (
        "newsbot: NEWSBOT_DATABASE: 'postgresql://redaksi:***@127.0.0.1/berita' is a "
        "PostgreSQL URL: newsbot db backup copies a SQLite file; back up a PostgreSQL database "
        "with pg_dump (pg_dump --format=custom --file=newsbot.dump URL)\n"
    )
    assert list(tmp_path.iterdir()) == []
