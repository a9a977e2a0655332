"""`newsbot feeds`: the registry as an operator manages it, mistakes included; OPML both ways;
the TOML sources file."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.newsroom.feed_registry import FeedSpec, RegistryError, parse_interval, read_sources_file
from bot.settings import Settings
from storage.models import PollOutcome
from tests.feeds.feed_server import FeedServer, Item, Route
from tests.support import FakeClock, Newsbot

# Feeds on this host (nothing listens there: registering a feed fetches nothing), which
# the operator allows; names would need a name server, which tests may not ask.
DUNIA = "http://127.0.0.1:9/rss/dunia.xml"
BOLA = "http://127.0.0.2:9/feed"
PRIVATE_ALLOWED = {"NEWSBOT_ALLOW_PRIVATE_SOURCES": "true"}


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    bot = Newsbot(tmp_path)
    bot.env.update(PRIVATE_ALLOWED)
    return bot


def test_an_operator_adds_lists_disables_and_removes_feeds(newsbot: Newsbot) -> None:
    added = newsbot("feeds", "add", DUNIA, "--section", "international", "--interval", "5m")
    assert added.returncode == 0, added.stderr
    assert "feed 1 added" in added.stdout
    assert "internasional, every 5m" in added.stdout
    assert newsbot("feeds", "add", BOLA, "--section", "olahraga", "--full-text").returncode == 0

    listed = newsbot("feeds", "list").stdout.splitlines()
    assert listed[0].split()[:3] == ["#", "section", "status"]
    assert DUNIA in listed[1]
    assert "internasional" in listed[1]
    assert "due now" in listed[1]

    disabled = newsbot("feeds", "disable", BOLA)
    assert disabled.returncode == 0
    assert "feed 2 disabled" in disabled.stdout
    assert "disabled" in newsbot("feeds", "list").stdout.splitlines()[2]
    removed = newsbot("feeds", "remove", "#1")
    assert removed.returncode == 0
    assert "its stories stay" in removed.stdout
    assert DUNIA not in newsbot("feeds", "list").stdout


async def test_feeds_list_shows_times_in_the_display_time_zone_and_names_it(
    app: App, clock: FakeClock
) -> None:
    # 03:00 UTC is 10:00 in Jakarta (NEWSBOT_TIMEZONE's default), as the chats show times.
    feed = await app.storage.feeds.add(
        DUNIA, "internasional", interval=timedelta(minutes=10), full_text=False, now=clock()
    )
    assert feed is not None
    await app.storage.feeds.record(
        feed.id, PollOutcome(next_poll_at=clock() + timedelta(hours=1), new=2), now=clock()
    )

    [header, row] = app.feed_registry().table(await app.feed_registry().all(), clock()).split("\n")

    assert "24 Nov 2026 10:00 WIB" in row  # last poll, and last new story
    assert "24 Nov 2026 11:00 WIB" in row  # next poll
    assert "03:00" not in row
    assert header.index("last poll") == row.index("24 Nov 2026 10:00 WIB")


async def test_loading_feeds_registers_one_whose_name_does_not_resolve_now(
    app: App, no_network_beyond_loopback: list[object]
) -> None:
    # The tests' guard answers any lookup of a public name as a failing name server does
    # (socket.gaierror): what a DNS hiccup at boot looks like to the bot.
    elsewhere = "https://kabar-jauh.example/rss/dunia.xml"
    private = "http://10.1.2.3/rss"

    report = await app.feed_registry().load(
        [FeedSpec(elsewhere, "internasional"), FeedSpec(private, "nasional")]
    )

    assert no_network_beyond_loopback == ["kabar-jauh.example"]
    no_network_beyond_loopback.clear()  # the lookup was the point, and it was refused
    # A passing failure: registered, and its polls check the address (and report) from now on.
    assert [feed.url for feed in report.added] == [elsewhere]
    assert report.unchecked == (
        f"{elsewhere}: cannot fetch: cannot resolve kabar-jauh.example: tests may not look up "
        "kabar-jauh.example",
    )
    # A lasting one: refused, as before, the URL said once.
    assert report.refused == (
        f"{private}: refused: 10.1.2.3 is a private address (allowed only with "
        "NEWSBOT_ALLOW_PRIVATE_SOURCES=true)",
    )
    assert report.line() == "1 added, 0 updated, 0 unchanged, 1 refused, 1 not checked now"
    assert [feed.url for feed in await app.feed_registry().all()] == [elsewhere]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("add", DUNIA, "--section", "cuaca"), "unknown section 'cuaca'; sections: "),
        (("add", "ftp://kabar.example/x", "--section", "nasional"), "unsupported URL scheme"),
        (("add", "kabar.example/rss", "--section", "nasional"), "unsupported URL scheme"),
        (("add", DUNIA, "--section", "nasional", "--interval", "2d"), "is not like 10m"),
        (("add", DUNIA, "--section", "nasional", "--interval", "5s"), "between 10 seconds"),
        (("remove", "7"), "no feed '7'"),
        (("enable", "https://tidak.example/ada"), "no feed"),
        (("import", "tidak-ada.opml"), "cannot read tidak-ada.opml"),
    ],
)
def test_a_mistake_is_one_clear_line_and_exit_code_2(
    newsbot: Newsbot, arguments: tuple[str, ...], message: str
) -> None:
    result = newsbot("feeds", *arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_feed_registered_twice_is_refused(newsbot: Newsbot) -> None:
    assert newsbot("feeds", "add", DUNIA, "--section", "internasional").returncode == 0
    again = newsbot("feeds", "add", DUNIA, "--section", "ekonomi")
    assert again.returncode == 2
    assert "already registered" in again.stderr


def test_opml_exported_and_imported_into_an_empty_database_gives_the_same_feeds(
    tmp_path: Path,
) -> None:
    first = Newsbot(tmp_path)
    first.env.update(PRIVATE_ALLOWED)
    first("feeds", "add", DUNIA, "--section", "internasional", "--interval", "5m")
    first("feeds", "add", BOLA, "--section", "olahraga", "--full-text")
    exported = first("feeds", "export")
    assert exported.returncode == 0
    opml = tmp_path / "feeds.opml"
    opml.write_text(exported.stdout, encoding="utf-8")

    elsewhere = tmp_path / "lain"
    elsewhere.mkdir()
    second = Newsbot(elsewhere)
    second.env.update(PRIVATE_ALLOWED)
    imported = second("feeds", "import", str(opml))
    assert imported.returncode == 0, imported.stderr
    assert "2 added, 0 updated, 0 unchanged" in imported.stdout
    assert second("feeds", "export").stdout == exported.stdout
    # Imported again, nothing changes.
    assert "0 added, 0 updated, 2 unchanged" in second("feeds", "import", str(opml)).stdout


def test_another_readers_opml_is_read_by_its_folders(newsbot: Newsbot, tmp_path: Path) -> None:
    opml = tmp_path / "pembaca.opml"
    opml.write_text(
        """<?xml version="1.0"?>
<opml version="1.0"><head><title>Langganan saya</title></head><body>
  <outline text="Ekonomi">
    <outline type="rss" text="Pasar" xmlUrl="http://127.0.0.3:9/rss"/>
  </outline>
  <outline text="Lain-lain">
    <outline type="rss" text="Blog" xmlUrl="http://127.0.0.4:9/atom"/>
    <outline type="rss" text="Salah" xmlUrl="gopher://kuno.example/"/>
  </outline>
</body></opml>""",
        encoding="utf-8",
    )
    result = newsbot("feeds", "import", str(opml))
    # The input partly failed: exit code 1, as for `newsbot ingest`; what could be, was done.
    assert result.returncode == 1
    assert "2 added" in result.stdout
    assert "1 refused" in result.stdout
    [refused] = [line for line in result.stderr.splitlines() if "refused" in line]
    assert refused == (
        "newsbot: refused: gopher://kuno.example/: refused: unsupported URL scheme 'gopher:' "
        "(only http and https)"
    )
    listed = newsbot("feeds", "list").stdout
    assert "ekonomi" in listed
    assert "umum" in listed  # no section named: the fallback section


def test_an_opml_file_with_entities_is_refused_unread(newsbot: Newsbot, tmp_path: Path) -> None:
    opml = tmp_path / "jahat.opml"
    opml.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x "xxxxxxxx">]>'
        '<opml version="2.0"><body><outline xmlUrl="https://a.example/&x;"/></body></opml>',
        encoding="utf-8",
    )
    result = newsbot("feeds", "import", str(opml))
    assert result.returncode == 2
    assert "not a readable OPML file" in result.stderr


def test_a_sources_file_declares_feeds_per_section(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        """
[sections.internasional]
feeds = [
    "https://kabar.example/rss/dunia.xml",
    { url = "https://berita.example/feed", interval = "5m", full_text = true },
]
""",
        encoding="utf-8",
    )
    specs = read_sources_file(sources)
    assert [(spec.url, spec.section, spec.full_text) for spec in specs] == [
        ("https://kabar.example/rss/dunia.xml", "internasional", False),
        ("https://berita.example/feed", "internasional", True),
    ]
    assert specs[1].interval == parse_interval("5m")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sections.nasional\n", "is not valid TOML"),
        ('title = "x"\n', "no [sections.<slug>] tables"),
        ('[sections.nasional]\nfeeds = "https://a.example/"\n', "needs feeds = [...]"),
        ('[sections.nasional]\nfeeds = [{ interval = "5m" }]\n', "feed 1: a URL"),
        (
            '[sections.nasional]\nfeeds = [{ url = "https://a.example/", interval = "sering" }]\n',
            "feed 1: interval 'sering'",
        ),
    ],
)
def test_a_bad_sources_file_says_where(tmp_path: Path, text: str, message: str) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_sources_file(sources)


def test_intervals_read_as_operators_write_them() -> None:
    assert parse_interval("10m").total_seconds() == 600
    assert parse_interval("1h30m").total_seconds() == 5400
    assert parse_interval("90s").total_seconds() == 90
    assert parse_interval("15").total_seconds() == 900


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost/", "localhost resolves to"),
        ("http://10.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]/", "loopback"),
        ("http://2130706433/", "unusual spelling"),
        ("http://0x7f.1/", "unusual spelling"),
        ("file:///etc/passwd", "unsupported URL scheme"),
    ],
)
def test_a_feed_on_a_private_address_is_not_registered(
    tmp_path: Path, url: str, reason: str
) -> None:
    result = Newsbot(tmp_path)("feeds", "add", url, "--section", "nasional")
    assert result.returncode == 2
    assert "refused" in result.stderr or "unsupported" in result.stderr
    assert reason in result.stderr
    assert "no feeds registered" in Newsbot(tmp_path)("feeds", "list").stdout


def test_the_commented_example_sources_file_reads_and_its_example_reads_when_uncommented(
    tmp_path: Path,
) -> None:
    example = Path(__file__).resolve().parents[2] / "bot" / "sample_news" / "sources.example.toml"
    with pytest.raises(RegistryError, match="no \\[sections"):
        read_sources_file(example)  # all commented out: nothing is declared
    uncommented = tmp_path / "sources.toml"
    declarations = example.read_text(encoding="utf-8").split("\n\n", 1)[1]
    uncommented.write_text(
        "\n".join(line.removeprefix("#").removeprefix(" ") for line in declarations.splitlines()),
        encoding="utf-8",
    )
    specs = read_sources_file(uncommented)
    assert [spec.section for spec in specs] == ["internasional", "internasional", "ekonomi"]
    assert specs[1].full_text


def test_poll_all_polls_every_enabled_feed_now_and_exits(tmp_path: Path) -> None:
    newsbot = Newsbot(tmp_path)
    newsbot.env.update(PRIVATE_ALLOWED)
    with FeedServer() as server:
        server.routes["/dunia.xml"] = Route(items=[Item(title="Kabar dari Jenewa")])
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
            database=newsbot.env["NEWSBOT_DATABASE"],
            allow_private_sources=True,
        )
        asyncio.run(_register_and_poll(settings, server.url("/dunia.xml")))
        assert len(server.requests_to("/dunia.xml")) == 1  # polled: next due in ten minutes

        # No --once: --all polls once and exits (it says so in --help).
        result = newsbot("poll", "--all")

        assert len(server.requests_to("/dunia.xml")) == 2
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert server.url("/dunia.xml") in line


async def _register_and_poll(settings: Settings, url: str) -> None:
    async with open_app(settings) as app:
        await app.feed_registry().add(FeedSpec(url, "internasional"))
        async with app.fetcher() as fetcher:
            assert len(await app.poller(fetcher).poll_due()) == 1


@pytest.mark.parametrize(
    ("stop", "code"),
    [
        (signal.SIGINT, 130),  # Ctrl-C: what a shell reports for any program it interrupts
        (signal.SIGTERM, 0),  # a supervisor's stop: a clean end, as for `newsbot run`
    ],
)
def test_polling_until_stopped_ends_cleanly_with_the_signals_exit_code(
    newsbot: Newsbot, stop: signal.Signals, code: int
) -> None:
    polling = newsbot.start("poll")
    assert polling.stderr is not None
    said = []
    while not said or "Ctrl-C stops" not in said[-1]:
        line = polling.stderr.readline()
        assert line, f"newsbot poll ended before polling: {''.join(said)}"
        said.append(line)

    polling.send_signal(stop)

    _out, rest = polling.communicate(timeout=30)
    assert polling.returncode == code, rest
    assert "Traceback" not in rest
