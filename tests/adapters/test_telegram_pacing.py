"""Pacing exact to Telegram's rules, in real (unscaled) seconds: a strict server that refuses
a second message to a private chat within 1.000 s answers no 429, and a chat told to retry
after 3 s is tried again 3 s later, not after the queue that built up meanwhile.

The real PTB adapter and scheduler at the default pacing (29/s overall, 1/s per private chat)
against `RateLimitedBotApi` at `speed=1`: the margin is milliseconds and a retry_after whole
seconds, so neither would show at the broadcast tests' tenfold speed. Each test takes 3-4 s,
most of it the seconds that Telegram's limits and the retry_after take.
"""

from __future__ import annotations

from bot.settings import Settings
from storage.models import ChatRef, Platform
from tests.adapters.fake_bot_api import wait_until
from tests.adapters.rate_limited_bot_api import RateLimitedBotApi
from tests.adapters.telegram_harness import running_bot, telegram_settings


def _default_pacing(settings: Settings) -> Settings:
    return telegram_settings(
        settings,
        telegram_sends_per_second=29.0,
        telegram_private_sends_per_second=1.0,
        telegram_group_sends_per_minute=20.0,
    )


async def test_a_server_strict_to_the_millisecond_answers_no_429(settings: Settings) -> None:
    """Three stories to each of 20 private chats: 40 pairs of messages paced a second apart,
    each of which a send the slightest bit early would have refused."""
    api = RateLimitedBotApi()  # a second message to a private chat within 1.000 s: 429
    chats = [70_000 + n for n in range(20)]
    stories = 3
    async with running_bot(_default_pacing(settings), api) as tg:
        for chat in chats:
            await tg.app.storage.subscriptions.subscribe(
                ChatRef(Platform.TELEGRAM, str(chat)), ["nasional"], now=tg.app.clock()
            )
        for number in range(stories):
            await tg.publish(f"Kabar ke-{number + 1} dari Jakarta")
        await wait_until(
            lambda: len(api.taken) >= stories * len(chats) or api.refused > 0,
            within=30,
        )
    assert api.refused == 0
    assert all(len(api.sent(chat)) == stories for chat in chats)


async def test_a_chat_told_to_retry_after_3_s_is_tried_again_3_s_later(
    settings: Settings,
) -> None:
    """Mid-broadcast, with a full queue of sends waiting for the budget (at 29/s, the 63 ahead
    of a send that queues anew are 2.2 s): the retry takes the next slot."""
    api = RateLimitedBotApi()
    chats = [70_000 + n for n in range(250)]
    told = chats[0]
    api.flood[told] = 3
    async with running_bot(_default_pacing(settings), api) as tg:
        for chat in chats:
            await tg.app.storage.subscriptions.subscribe(
                ChatRef(Platform.TELEGRAM, str(chat)), ["nasional"], now=tg.app.clock()
            )
        await tg.publish("Harga cabai naik menjelang Lebaran")
        await wait_until(lambda: bool(api.sent(told)), within=30)
        # The broadcast was far from done: the retry had a full queue to wait behind.
        assert len(api.taken) < len(chats) - 64
    refused, retried = [call for call in api.calls if call.params.get("chat_id") == told][:2]
    assert refused.params.get("_refused")
    assert 3.0 <= retried.at - refused.at <= 3.5, retried.at - refused.at
    assert api.refused == 0
