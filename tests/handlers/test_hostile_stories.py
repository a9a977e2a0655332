"""Nothing a stored story holds can break an answer or a push: extreme dates, invisible text."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest

from bot.app import App
from bot.render import ArticleRenderer
from bot.sections import SectionCatalog
from bot.settings import DEFAULT_SECTIONS
from storage.models import Article
from tests.support import START, FakePlatform, draft

EXTREMES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", EXTREMES)
@pytest.mark.parametrize(
    "zone", ["Asia/Jakarta", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
)
def test_the_renderer_shows_any_date_in_any_zone(moment: datetime, zone: str) -> None:
    catalog = SectionCatalog([s.to_section() for s in DEFAULT_SECTIONS], fallback="umum")
    renderer = ArticleRenderer(catalog, zoneinfo.ZoneInfo(zone))
    article = Article(
        id=1,
        identity="x",
        title="Judul",
        body="Isi.",
        section="umum",
        published_at=moment,
        url=None,
        summary="",
        author=None,
        image_url=None,
        source=None,
        breaking=False,
        revised_at=moment,
    )
    for language in ("id", "en"):
        card = renderer.card(article, language, with_summary=True)
        assert str(moment.year) in card.time_label or str(moment.year + 1) in card.time_label
        assert renderer.full(article, language).parts


@pytest.mark.parametrize("moment", EXTREMES)
async def test_latest_read_and_a_push_work_for_a_story_stored_with_an_extreme_date(
    app: App, platform: FakePlatform, moment: datetime
) -> None:
    """Stored straight through the repository, past every ingest rule, as an old database
    or another writer might hold it."""
    await platform.say("/subscribe nasional", chat="9")
    await app.storage.articles.publish(
        [draft("Tanggal ekstrem", published_at=moment)],
        now=START,
        push_since=None,
        breaking_section="breaking",
    )
    await platform.say("/lang en", chat="9")
    for text in ("/latest", "/latest ekstrem", "/latest nasional", "/read 1"):
        for chat in ("9", "10"):
            answer = await platform.say_text(text, chat=chat)
            assert "Tanggal ekstrem" in answer, (text, answer)
    worker = app.delivery_worker(platform)
    await worker.deliver_due()
    if moment > START:
        [push] = platform.sent
        assert "Tanggal ekstrem" in push.reply.plain_text()
    else:
        # Queued past the push window's rule, it is older than any push is sent for: dropped
        # with the reason, not sent (and nothing broke on the way).
        assert platform.sent == []
        status = await platform.say_text("/status 1", user="1")
        assert status.endswith("terkirim 0 · antre 0 · gagal 0 · dibatalkan 1"), status


async def test_invisible_characters_do_not_hide_a_word_from_search_or_follows(
    app: App, platform: FakePlatform
) -> None:
    await platform.say("/follow nato", chat="5")
    zero_width = "Sekjen na\u200bto kunjungi Tokyo"
    soft_hyphen = "Pengu\u00admuman NA\u2060TO di Brussel"
    bidi = "Latihan \u202enato\u202c bersama"
    await app.deps.newsroom.publish(
        [draft(title, published_at=START) for title in (zero_width, soft_hyphen, bidi)]
    )
    found = await platform.say_text("/latest nato")
    for title in (zero_width, soft_hyphen, bidi):
        assert title in found
    assert soft_hyphen in await platform.say_text("/latest pengumuman")
    worker = app.delivery_worker(platform)
    assert await worker.deliver_due() == 3
    assert len(platform.sent_to("5")) == 3
