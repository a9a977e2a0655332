"""Bot admins manage sources from chat: /feeds, /addfeed, /removefeed, and /post of an article
page served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.adapters.console import ConsoleIdentity
from bot.app import App, open_app
from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import FakeBotApi, wait_until
from tests.adapters.telegram_harness import running_bot, telegram_settings
from tests.support import FakeClock, FakePlatform, until

ADMIN = "1"  # telegram:1 is the tests' bot admin
READER = ChatRef(Platform.TELEGRAM, "500")


def _page(published: datetime) -> bytes:
    return f"""<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>Kapal Feri Baru Layani Rute Malam - Warta Pesisir</title>
<meta property="og:title" content="Kapal Feri Baru Layani Rute Malam">
<meta property="og:image" content="https://cdn.wartapesisir.example/feri.jpg">
<meta property="article:section" content="Nasional">
<meta property="article:published_time" content="{published.isoformat()}">
<meta name="author" content="Laras Wening">
</head><body>
<nav><a href="/">Beranda</a> <a href="/nasional">Nasional</a>
<a href="/olahraga">Olahraga</a></nav>
<article><h1>Kapal Feri Baru Layani Rute Malam</h1>
<p>Sebuah kapal feri baru mulai melayani penyeberangan malam antara dua pelabuhan utama.</p>
<p>Kapal itu mampu membawa tiga ratus penumpang dan empat puluh kendaraan sekali jalan.</p>
<p>Pengelola pelabuhan berharap antrean kendaraan pada akhir pekan berkurang.</p>
<div class="baca-juga"><p>Baca juga: Tarif Penyeberangan Naik Mulai Januari</p></div>
</article>
<aside class="terkait"><ul><li>Dermaga Lama Direnovasi</li>
<li>Nelayan Minta Solar</li></ul></aside>
<footer><p>Warta Pesisir, berita contoh untuk pengujian.</p></footer>
</body></html>""".encode()


class _Pages:
    """Article pages on 127.0.0.1, counting the connections made to it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.connections = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                owner.connections += 1
                super().setup()

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A shutdown is looked for every 20 ms, not 0.5 s: closing is quick.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/nasional/feri-malam"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _HeldPage:
    """An article page on 127.0.0.1 that is answered only once the test releases it: a
    publisher's slow server, in the test's own event loop."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.asked = asyncio.Event()
        self.release = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> _HeldPage:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/nasional/feri-malam"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.asked.set()
        await self.release.wait()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + self.body)
        await writer.drain()
        writer.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def pages(clock: FakeClock) -> Iterator[_Pages]:
    served = _Pages(_page(clock() - timedelta(minutes=10)))
    yield served
    served.close()


@pytest.fixture
async def allowed(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    configured = settings.model_copy(update={"allow_private_sources": True})
    async with open_app(configured, clock=clock) as opened:
        yield opened


async def test_post_stores_the_article_without_its_furniture_and_pushes_it(
    allowed: App, pages: _Pages, clock: FakeClock
) -> None:
    platform = FakePlatform(allowed)
    await allowed.storage.subscriptions.subscribe(READER, ["nasional"], now=clock())
    answer = await platform.final_text(f"/post {pages.url}", user=ADMIN)
    assert answer.startswith("Disimpan sebagai #1: Kapal Feri Baru Layani Rute Malam.")
    assert "Dikirim ke 1 chat" in answer
    article = await allowed.storage.articles.get(1)
    assert article is not None
    assert article.section == "nasional"
    assert article.author == "Laras Wening"
    assert article.image_url == "https://cdn.wartapesisir.example/feri.jpg"
    assert article.published_at == clock() - timedelta(minutes=10)
    assert "tiga ratus penumpang" in article.body
    for furniture in ("Beranda", "Baca juga", "Dermaga Lama", "Warta Pesisir, berita contoh"):
        assert furniture not in article.body
    await allowed.delivery_worker(platform).deliver_due()
    assert [sent.chat for sent in platform.sent] == [READER]


async def test_a_post_whose_first_answer_could_not_be_shown_is_posted_all_the_same(
    allowed: App, pages: _Pages, clock: FakeClock
) -> None:
    """A platform refusing the "fetching" answer (a long 429, a Discord error) never shows it,
    so nothing is told the answer is shown: the page is stored and pushed regardless."""
    platform = FakePlatform(allowed)
    await allowed.storage.subscriptions.subscribe(READER, ["nasional"], now=clock())
    fetching = await platform.say(f"/post {pages.url}", user=ADMIN)
    assert fetching.follow_up is not None  # and the adapter never calls its `shown`
    await allowed.deps.desk.finish()  # what stopping the app waits for
    article = await allowed.storage.articles.get(1)
    assert article is not None
    assert article.title == "Kapal Feri Baru Layani Rute Malam"
    await allowed.delivery_worker(platform).deliver_due()
    assert [sent.chat for sent in platform.sent] == [READER]


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ("http://127.0.0.1:{port}/", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/", "localhost resolves to"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://2130706433:{port}/", "unusual spelling"),
        ("http://0x7f.1:{port}/", "unusual spelling"),
        ("file:///etc/passwd", "unsupported URL scheme"),
    ],
)
async def test_post_of_a_private_address_is_refused_and_connects_nowhere(
    app: App, pages: _Pages, form: str, reason: str
) -> None:
    platform = FakePlatform(app)
    url = form.format(port=pages.server.server_address[1])
    fetching = await platform.say(f"/post {url}", user=ADMIN)
    assert fetching.private  # an admin's answer, here and when it is replaced
    assert reason in await platform.final_text(f"/post {url}", user=ADMIN)
    assert pages.connections == 0
    assert await app.storage.articles.count() == 0


async def test_admins_add_list_and_remove_feeds_from_chat(allowed: App) -> None:
    platform = FakePlatform(allowed)
    added = await platform.say_text("/addfeed http://127.0.0.1:9/rss internasional", user=ADMIN)
    assert added.startswith("Feed 1 ditambahkan: http://127.0.0.1:9/rss (Internasional).")
    listed = await platform.say_text("/feeds", user=ADMIN)
    assert "1. http://127.0.0.1:9/rss — Internasional, 10m, berjalan" in listed
    refused = await platform.say("/addfeed ftp://kabar.example/x internasional", user=ADMIN)
    assert refused.private
    assert "unsupported URL scheme" in refused.plain_text()
    removed = await platform.say_text("/removefeed 1", user=ADMIN)
    assert removed == "Feed 1 dihapus: http://127.0.0.1:9/rss. Beritanya tetap tersimpan."
    assert "Belum ada sumber berita" in await platform.say_text("/feeds", user=ADMIN)


async def test_a_reader_may_not_manage_sources(app: App) -> None:
    platform = FakePlatform(app)
    for command in (
        "/feeds",
        "/addfeed http://127.0.0.1:9/rss nasional",
        "/post http://x.example/",
    ):
        answer = await platform.say(command, user="77")
        assert answer.private
        assert "Hanya admin bot" in answer.plain_text()
    assert await app.storage.feeds.all() == []


async def test_post_of_a_page_older_than_the_push_window_says_why_it_was_not_pushed(
    allowed: App, clock: FakeClock
) -> None:
    platform = FakePlatform(allowed)
    await allowed.storage.subscriptions.subscribe(READER, ["nasional"], now=clock())
    old = _Pages(_page(clock() - timedelta(days=3)))
    try:
        answer = await platform.final_text(f"/post {old.url}", user=ADMIN)
    finally:
        old.close()

    published = allowed.deps.renderer.time_label(clock() - timedelta(days=3), "id")
    assert answer == (
        "Disimpan sebagai #1: Kapal Feri Baru Layani Rute Malam. Tidak dikirim ke chat mana "
        f"pun karena terbit {published}, lebih dari 48 jam lalu (NEWSBOT_PUSH_MAX_AGE_HOURS)."
    )
    assert await allowed.storage.outbox.status_counts() == {}


async def test_post_of_a_page_whose_date_cannot_be_read_says_why_it_was_not_pushed(
    allowed: App, clock: FakeClock
) -> None:
    platform = FakePlatform(allowed)
    await allowed.storage.subscriptions.subscribe(READER, ["nasional"], now=clock())
    page = _page(clock()).replace(clock().isoformat().encode(), b"Kamis pagi, entah kapan")
    undated = _Pages(page)
    try:
        answer = await platform.final_text(f"/post {undated.url}", user=ADMIN)
    finally:
        undated.close()

    assert answer == (
        "Disimpan sebagai #1: Kapal Feri Baru Layani Rute Malam. Tidak dikirim ke chat mana "
        "pun: tanggal terbitnya tidak terbaca, jadi tidak bisa disebut berita baru."
    )
    assert await allowed.storage.outbox.status_counts() == {}


async def test_post_in_english_of_an_old_page_and_of_a_page_nobody_receives(
    settings: Settings, clock: FakeClock
) -> None:
    configured = settings.model_copy(
        update={"allow_private_sources": True, "push_max_age_hours": 1.5, "language": "en"}
    )
    old = _Pages(_page(clock() - timedelta(hours=2)))
    try:
        async with open_app(configured, clock=clock) as app:
            platform = FakePlatform(app)
            await app.storage.subscriptions.subscribe(READER, ["nasional"], now=clock())
            too_old = await platform.final_text(f"/post {old.url}", user=ADMIN)
            await app.storage.subscriptions.unsubscribe(READER, None)
            old.body = _page(clock() - timedelta(minutes=5)).replace(b"Feri", b"Cepat")
            nobody = await platform.final_text(f"/post {old.url}?baru=1", user=ADMIN)
    finally:
        old.close()
    published = app.deps.renderer.time_label(clock() - timedelta(hours=2), "en")
    assert too_old == (
        "Stored as #1: Kapal Feri Baru Layani Rute Malam. Not pushed to any chat: it was "
        f"published {published}, more than 1.5 hours ago (NEWSBOT_PUSH_MAX_AGE_HOURS)."
    )
    assert nobody == (
        "Stored as #2: Kapal Cepat Baru Layani Rute Malam. No chat subscribes to its section "
        "or follows its words yet, so it was pushed nowhere."
    )


async def test_a_slow_post_on_a_console_says_at_once_that_it_fetches_and_answers_in_order(
    settings: Settings, clock: FakeClock
) -> None:
    configured = settings.model_copy(
        update={"allow_private_sources": True, "admins": frozenset({"console:local"})}
    )
    output = io.StringIO()
    held = _HeldPage(_page(clock() - timedelta(minutes=10)))
    async with open_app(configured, clock=clock) as app, held as page:
        url = page.url
        lines = io.StringIO(f"/post {url}\n/latest feri\n")
        chat = asyncio.create_task(
            app.chat(ConsoleIdentity(), stdin=lines, stdout=output, interactive=False)
        )
        await asyncio.wait_for(page.asked.wait(), 10)
        # While the publisher's server keeps the page: what is being done, and no more (the
        # fetch begins as the command is answered, the line is printed right after).
        await until(lambda: output.getvalue() != "")
        assert output.getvalue() == f"Memuat {url} …\n\n"
        page.release.set()
        await asyncio.wait_for(chat, 10)

    fetching, answer, searched = output.getvalue().split("\n\n", 2)
    assert fetching == f"Memuat {url} …"
    assert answer.startswith("Disimpan sebagai #1: Kapal Feri Baru Layani Rute Malam.")
    # The next line was read only once the answer was in: /latest finds the story.
    assert "#1 Kapal Feri Baru Layani Rute Malam" in searched


async def test_a_slow_post_on_telegram_answers_at_once_then_edits_the_answer_in(
    settings: Settings, clock: FakeClock
) -> None:
    admin = int(ADMIN)
    configured = telegram_settings(settings, allow_private_sources=True)
    held = _HeldPage(_page(clock() - timedelta(minutes=10)))
    async with running_bot(configured, FakeBotApi(), clock=clock) as tg, held as page:
        fetching = await tg.ask(admin, f"/post {page.url}", user_id=admin)
        assert fetching == f"Memuat {page.url} …"
        [shown] = tg.api.sent(admin)
        await asyncio.wait_for(page.asked.wait(), 10)
        assert not tg.api.of_method("editMessageText")  # nothing more while it waits
        page.release.set()

        def edits() -> list[str]:
            return [
                call.params["text"]
                for call in tg.api.of_method("editMessageText")
                if call.params["message_id"] == shown.params["_message_id"]
            ]

        await wait_until(lambda: bool(edits()))
    [answer] = edits()
    assert answer.startswith("Disimpan sebagai #1: Kapal Feri Baru Layani Rute Malam.")
    assert len(tg.api.sent(admin)) == 1  # the same message, edited
