"""The `newsbot` command line end to end: separate processes sharing one real database file."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.support import Newsbot

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
FEED = FIXTURES / "feed.xml"
NATO_TITLE = "Sekjen NATO Kunjungi Tokyo, Bahas Kerja Sama dengan Menteri Pertahanan Jepang"


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def _fresh_feed(path: Path, items: list[tuple[str, str, str]]) -> Path:
    """An RSS file of (guid, title, category) items published a minute ago."""
    published = format_datetime(datetime.now(UTC) - timedelta(minutes=1))
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><category>{category}</category>"
        f"<description>{title}. Berita lengkap menyusul.</description>"
        f"<pubDate>{published}</pubDate></item>"
        for guid, title, category in items
    )
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Uji</title>'
        f"{entries}</channel></rss>",
        encoding="utf-8",
    )
    return path


def test_ingested_feed_answers_latest_in_a_chat(newsbot: Newsbot) -> None:
    # End to end through real processes, as an operator and a reader type it.
    result = newsbot("ingest", str(FEED), process=True)
    assert result.returncode == 0, result.stderr
    # The report is the command's output; the database it filled is named in full.
    assert "feed.xml: rss, 4 new" in result.stdout
    assert "feed.xml" not in result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"{newsbot.directory / 'newsbot.db'}: 4 new, 0 duplicate, 0 updated, 0 rejected, "
        "0 skipped (1 input)"
    )
    # One reader's session, one answer per question, each headed "Berita terbaru ...".
    queries = ("nato", "jepang", "Jepang", "pertahanan", "internasional")
    out = newsbot.chat("".join(f"/latest {query}\n" for query in queries), process=True)
    answers = re.split(r"(?m)^(?=Berita terbaru )", out)[1:]
    assert len(answers) == len(queries), out
    assert "Internasional · 25 Nov 2024 09:15 WIB" in answers[0]
    for query, answer in zip(queries, answers, strict=True):
        assert NATO_TITLE in answer, query
    internasional = answers[-1]
    assert internasional.startswith("Berita terbaru di rubrik Internasional:")
    assert "Nasional ·" not in internasional
    assert "Ekonomi ·" not in internasional


def test_ingesting_the_same_feed_twice_adds_nothing(newsbot: Newsbot) -> None:
    feed = _fresh_feed(
        newsbot.directory / "fresh.xml", [("a1", "Sekjen NATO ke Tokyo", "Internasional")]
    )
    newsbot.chat("/subscribe internasional\n", "--chat", "a")
    first = newsbot("ingest", str(feed))
    second = newsbot("ingest", str(feed))
    assert "1 new" in first.stdout
    assert "0 new, 1 duplicate" in second.stdout
    assert newsbot.chat("") == ""  # the chat "local" subscribes to nothing
    pushed = newsbot.chat("", "--chat", "a")
    assert pushed.count("#1 Sekjen NATO ke Tokyo") == 1
    assert pushed.count("[Baca: /read 1]") == 1


def test_a_story_ingested_elsewhere_reaches_subscribed_chats_exactly_once(
    newsbot: Newsbot,
) -> None:
    assert "Berlangganan rubrik Internasional" in newsbot.chat(
        "/subscribe internasional\n", "--chat", "dunia"
    )
    assert "Berlangganan rubrik Nasional" in newsbot.chat(
        "/subscribe nasional\n", "--chat", "negeri"
    )
    feed = _fresh_feed(
        newsbot.directory / "fresh.xml",
        [("n1", "NATO Gelar Latihan Bersama di Laut Baltik", "Internasional")],
    )
    assert newsbot("ingest", str(feed)).returncode == 0
    first = newsbot.chat("", "--chat", "dunia")
    assert first.count("#1 NATO Gelar Latihan Bersama di Laut Baltik") == 1
    assert first.count("[Baca: /read 1]") == 1
    assert newsbot.chat("", "--chat", "dunia") == ""
    assert newsbot.chat("", "--chat", "negeri") == ""


def test_breaking_news_from_the_console(newsbot: Newsbot) -> None:
    newsbot.chat("/subscribe breaking\n", "--chat", "redaksi")
    refused = newsbot.chat("/breaking Gempa | Gempa M6 di Palu.\n")
    assert "Hanya admin bot" in refused
    _preview, stored = newsbot.post_breaking("#nasional Gempa | Gempa M6 di Palu.")
    assert "disimpan di rubrik Nasional dan akan dikirim ke 1 chat" in stored
    pushed = newsbot.chat("", "--chat", "redaksi")
    assert "[BERITA TERKINI] Gempa" in pushed


def test_group_member_cannot_subscribe_from_the_console(newsbot: Newsbot) -> None:
    out = newsbot.chat("/subscribe nasional\n", "--chat", "grup", "--kind", "group", "--member")
    assert "Hanya pengelola chat ini" in out


def test_hostile_inputs_each_get_a_line_and_do_not_stop_the_rest(newsbot: Newsbot) -> None:
    inputs = [
        FIXTURES / "billion_laughs.xml",
        FIXTURES / "external_entity.xml",
        FIXTURES / "truncated.xml",
        FEED,
        newsbot.directory / "missing.xml",
    ]
    result = newsbot("ingest", *map(str, inputs))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(FIXTURES))]
    assert len([line for line in lines if "FAILED" in line]) == 3
    assert "missing.xml: FAILED" in result.stdout
    assert "feed.xml: rss, 4 new" in result.stdout
    assert "(5 inputs, 4 failed)" in result.stdout
    assert "root:" not in result.stderr + result.stdout  # /etc/passwd never read
    assert NATO_TITLE in newsbot.chat("/latest nato\n")


def test_sample_news_loads_once_and_answers(newsbot: Newsbot) -> None:
    first = newsbot("sample-news")
    assert first.returncode == 0, first.stderr
    assert "berita.jsonl: jsonl, 18 new" in first.stdout
    again = newsbot("sample-news")
    assert "already has stories" in again.stderr
    assert "Sekjen NATO Kunjungi Tokyo" in newsbot.chat("/latest nato\n")


def test_run_without_tokens_is_the_console_chat(newsbot: Newsbot) -> None:
    result = newsbot("run", stdin="/help\n", process=True)
    assert result.returncode == 0, result.stderr
    assert "newsbot: no platform token is set, so this is the console chat" in result.stderr
    assert "/latest [rubrik] [kata kunci]" in result.stdout


def test_run_without_tokens_or_input_stops_with_exit_code_2(newsbot: Newsbot) -> None:
    # A service started without its token (systemd gives stdin /dev/null): no clean stop.
    result = newsbot("run", stdin="", process=True)

    assert result.returncode == 2
    said = [line for line in result.stderr.splitlines() if line.startswith("newsbot:")]
    assert said == [
        "newsbot: no platform is configured: set NEWSBOT_TELEGRAM_TOKEN for Telegram or "
        "NEWSBOT_DISCORD_TOKEN for Discord (standard input is not a terminal and gave no "
        "command, so there is no console chat either)"
    ]


# A Bot API URL on a 127.0.0.1 port nothing listens on: `closed_port` holds it bound, without
# listening, while the test runs, so that no other test (another xdist worker's server) can
# take it meanwhile.
_NOWHERE = "http://127.0.0.1:{closed_port}/bot"


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"NEWSBOT_TIMEZONE": "Mars/Olympus"},
            "newsbot: NEWSBOT_TIMEZONE: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"NEWSBOT_DATABASE": "postgresql://localhost/news"},
            "newsbot: NEWSBOT_DATABASE: 'postgresql://localhost/news' is a PostgreSQL URL: "
            "PostgreSQL is not supported",
        ),
        (
            {"NEWSBOT_TELEGRAM_TOKEN": "123:abc", "NEWSBOT_TELEGRAM_API_URL": _NOWHERE},
            f"newsbot: cannot reach the Bot API at {_NOWHERE}",
        ),
        (
            {"NEWSBOT_TELEGRAM_API_URL": "ftp://x"},
            "newsbot: NEWSBOT_TELEGRAM_API_URL: 'ftp://x' must be an http:// or https:// URL",
        ),
        (
            {"NEWSBOT_TELEGRAM_WEBHOOK_SECRET": "a b"},
            "newsbot: NEWSBOT_TELEGRAM_WEBHOOK_SECRET: the webhook secret must be",
        ),
        (
            # Nothing listens on the discard port of this host.
            {
                "NEWSBOT_DISCORD_TOKEN": "abc",
                "NEWSBOT_DISCORD_API_URL": "http://127.0.0.1:9/api/v10",
            },
            "newsbot: cannot reach Discord at http://127.0.0.1:9/api/v10",
        ),
    ],
    # Named, not numbered by their values: the same in every process of a parallel run, which
    # must all collect the same tests.
    ids=[
        "bad-timezone",
        "postgresql",
        "bot-api-unreachable",
        "bad-api-url",
        "bad-webhook-secret",
        "discord-unreachable",
    ],
)
def test_configuration_errors_are_clear(
    newsbot: Newsbot, env: dict[str, str], message: str, closed_port: int
) -> None:
    port = str(closed_port)
    env = {name: value.replace("{closed_port}", port) for name, value in env.items()}
    message = message.replace("{closed_port}", port)
    result = newsbot("run", env=env)
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith(message)]
    assert "Traceback" not in result.stderr
    assert "123:abc" not in result.stderr


def test_unknown_ingest_section_is_refused(newsbot: Newsbot) -> None:
    result = newsbot("ingest", "--section", "sihir", str(FEED))
    assert result.returncode == 2
    assert "unknown section 'sihir'" in result.stderr
