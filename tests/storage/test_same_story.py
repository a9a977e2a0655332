"""One story through several doors: the same publisher's other URL, or another outlet's copy of
the same wire story, is kept as a source of the stored story, not stored and pushed again."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from storage.models import ChatRef, Platform, PublishOutcome
from tests.support import draft

HEADLINE = "Gempa Magnitudo 6,1 Guncang Perairan Maluku Tengah"
LEAD = (
    "Gempa bermagnitudo 6,1 mengguncang perairan Maluku Tengah pada Senin pagi. Badan "
    "Meteorologi menyatakan gempa tidak berpotensi tsunami dan warga diminta tetap tenang."
)
CHAT = ChatRef(Platform.TELEGRAM, "300")
SECOND_DOOR = "url:https://koran-b.example/berita/gempa-maluku"


async def test_another_outlets_copy_of_a_wire_story_is_one_story_pushed_once(app: App) -> None:
    await app.storage.subscriptions.subscribe(CHAT, ["nasional"], now=app.clock())
    [first] = await app.deps.newsroom.publish(
        [draft(HEADLINE, body=LEAD, url="https://koran-a.example/gempa", source="Koran A")]
    )
    [second] = await app.deps.newsroom.publish(
        [
            draft(
                HEADLINE + ".",
                body=LEAD + " Tambahan dari koran kedua.",
                url="https://koran-b.example/berita/gempa-maluku",
                source="Koran B",
                identity=SECOND_DOOR,
            )
        ]
    )
    assert first.outcome is PublishOutcome.NEW
    assert first.queued == 1
    assert (second.outcome, second.article_id, second.queued) == (
        PublishOutcome.DUPLICATE,
        first.article_id,
        0,
    )
    assert await app.storage.articles.count() == 1
    stored = await app.storage.articles.get(first.article_id)
    assert stored is not None
    assert stored.also_reported_by == ("Koran B",)
    # Read again, the second door changes nothing.
    [again] = await app.deps.newsroom.publish(
        [
            draft(
                HEADLINE,
                body="Teks yang berubah sama sekali, tetapi pintunya sama.",
                url="https://koran-b.example/berita/gempa-maluku",
                source="Koran B",
                identity=SECOND_DOOR,
            )
        ]
    )
    assert (again.outcome, again.article_id) == (PublishOutcome.DUPLICATE, first.article_id)


async def test_the_same_publishers_other_address_is_the_same_story(app: App) -> None:
    [first] = await app.deps.newsroom.publish(
        [draft(HEADLINE, body=LEAD, url="https://koran-a.example/gempa", source="Koran A")]
    )
    [other] = await app.deps.newsroom.publish(
        [
            draft(
                HEADLINE,
                body="Teks yang sama sekali lain.",
                url="https://m.koran-a.example/gempa?utm=x",
                source="Koran A",
            )
        ]
    )
    assert (other.outcome, other.article_id) == (PublishOutcome.DUPLICATE, first.article_id)


async def test_stories_that_only_share_a_headline_stay_apart(app: App) -> None:
    now = app.clock()
    await app.deps.newsroom.publish(
        [draft(HEADLINE, body=LEAD, url="https://koran-a.example/1", source="Koran A")]
    )
    different_lead = draft(
        HEADLINE,
        body="Liputan khusus tentang kesiapan warga pesisir menghadapi bencana.",
        url="https://koran-b.example/2",
        source="Koran B",
    )
    a_day_later = draft(
        HEADLINE,
        body=LEAD,
        url="https://koran-a.example/3",
        source="Koran A",
        published_at=now + timedelta(days=1, hours=1),
    )
    short = draft("Gempa Lagi", body=LEAD, url="https://koran-b.example/4", source="Koran B")
    results = await app.deps.newsroom.publish([different_lead, a_day_later, short])
    assert [result.outcome for result in results] == [PublishOutcome.NEW] * 3


async def test_breaking_news_from_the_desk_is_never_folded_into_another_story(
    app: App,
) -> None:
    await app.deps.newsroom.publish(
        [draft(HEADLINE, body=LEAD, url="https://koran-a.example/1", source="Koran A")]
    )
    [breaking] = await app.deps.newsroom.publish(
        [draft(HEADLINE, body=LEAD, breaking=True, section="breaking")]
    )
    assert breaking.outcome is PublishOutcome.NEW
