"""Replies as Telegram messages: escaping, Telegram's own length rules, photos and buttons."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    ButtonStyle,
    command_suffix_form,
    render_reply,
    utf16_length,
)
from bot.chat import ArticleCard, Button, Reply, Text
from tests.adapters.fake_bot_api import parse_html

PRIVATE = ButtonStyle(private_chat=True, bot_username="berita_test_bot")
CHANNEL = ButtonStyle(private_chat=False, bot_username="berita_test_bot")


def card(**changes: object) -> ArticleCard:
    fields: dict[str, object] = {
        "article_id": 42,
        "title": "Sekjen NATO kunjungi Tokyo",
        "section_name": "Internasional",
        "time_label": "24 Nov 2026 10:05 WIB",
        "url": "https://berita.example/nato",
        "summary": "Ringkasan singkat.",
    }
    fields.update(changes)
    return ArticleCard(**fields)  # type: ignore[arg-type]  # test builder


def test_utf16_length_counts_like_telegram() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("é") == 1
    assert utf16_length("🇮🇩") == 4  # two regional indicators, each a surrogate pair
    assert utf16_length("👍🏽") == 4


def test_a_card_escapes_its_title_and_links_it() -> None:
    [message] = render_reply(
        Reply(
            parts=(
                card(title='<b>Rapat</b> & "Diplomasi" 🇮🇩', url='https://x.example/?a=1&b="2"'),
            )
        ),
        PRIVATE,
    )

    assert '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">' in message.html
    shown = parse_html(message.html)
    assert '<b>Rapat</b> & "Diplomasi" 🇮🇩' in shown
    assert "Internasional · 24 Nov 2026 10:05 WIB" in shown


def test_a_card_without_a_web_url_is_not_a_link() -> None:
    [message] = render_reply(Reply(parts=(card(url="javascript:alert(1)"),)), PRIVATE)

    assert "<a " not in message.html


def test_breaking_news_is_marked_first() -> None:
    [message] = render_reply(Reply(parts=(card(badge="BERITA TERKINI"),)), PRIVATE)

    assert parse_html(message.html).startswith("🔴 BERITA TERKINI\nSekjen NATO")


def test_cards_in_a_list_show_a_tappable_read_command() -> None:
    [message] = render_reply(Reply(parts=(Text("Hasil:"), card(), card(article_id=7))), PRIVATE)

    shown = parse_html(message.html)
    assert "#42 · /read_42" in shown
    assert "#7 · /read_7" in shown
    assert not message.link_preview  # two links: no preview of just the first


def test_a_push_has_a_read_button_instead_of_the_command() -> None:
    reply = Reply(parts=(card(),), buttons=(Button("Baca", "/read 42"),))

    [private] = render_reply(reply, PRIVATE)
    [channel] = render_reply(reply, CHANNEL)

    assert "/read_42" not in private.html
    assert private.buttons[0].callback_data == "/read 42"
    assert channel.buttons[0].url == "https://t.me/berita_test_bot?start=read_42"
    assert channel.buttons[0].callback_data is None


def test_command_suffix_form() -> None:
    assert command_suffix_form("/read 42") == "read_42"
    assert command_suffix_form("/latest nato jepang") is None
    assert command_suffix_form("/help") is None


def test_a_story_with_an_image_is_a_photo_with_a_caption_that_fits() -> None:
    long_summary = "Kalimat ringkasan yang cukup panjang untuk diuji. " * 60
    [message] = render_reply(
        Reply(
            parts=(card(image_url="https://x.example/foto.jpg", summary=long_summary),),
            buttons=(Button("Baca", "/read 42"),),
        ),
        PRIVATE,
    )

    assert message.photo_url == "https://x.example/foto.jpg"
    assert utf16_length(message.html) <= CAPTION_LIMIT
    assert parse_html(message.html).startswith("Sekjen NATO kunjungi Tokyo")
    assert "…" in message.html
    assert message.buttons


def test_a_list_of_cards_never_becomes_a_photo() -> None:
    messages = render_reply(
        Reply(parts=(card(image_url="https://x.example/a.jpg"), card(article_id=7))), PRIVATE
    )

    assert [message.photo_url for message in messages] == [None]


def test_a_long_reply_splits_between_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraf {n}. " + "Kata & <tanda> 🇮🇩 " * 60 for n in range(12)]
    messages = render_reply(
        Reply(
            parts=(card(), Text("\n\n".join(paragraphs))), buttons=(Button("Baca", "/read 42"),)
        ),
        PRIVATE,
    )

    assert len(messages) > 1
    assert all(utf16_length(message.html) <= TEXT_LIMIT for message in messages)
    shown = "\n\n".join(parse_html(message.html) for message in messages)
    for paragraph in paragraphs:
        assert paragraph.strip() in shown  # none was cut in two
    assert [bool(message.buttons) for message in messages] == [False] * (len(messages) - 1) + [
        True
    ]


def test_a_paragraph_longer_than_a_message_is_cut_at_sentences() -> None:
    sentence = "Ini kalimat panjang tentang anggaran & pajak 🇮🇩. "
    paragraph = sentence * 200  # about 10,000 characters, no blank line
    messages = render_reply(Reply.text(paragraph), PRIVATE)

    assert len(messages) >= 3
    for message in messages:
        assert utf16_length(message.html) <= TEXT_LIMIT
        assert parse_html(message.html).endswith(".")
    assert "".join(parse_html(m.html) + " " for m in messages).split() == paragraph.split()


def test_a_word_longer_than_a_message_is_cut_without_breaking_an_entity() -> None:
    word = "&" * 5000  # escapes to 25,000 characters of &amp;
    messages = render_reply(Reply.text(word), PRIVATE)

    assert all(utf16_length(message.html) <= TEXT_LIMIT for message in messages)
    assert "".join(parse_html(message.html) for message in messages) == word


def test_a_huge_title_is_cut_to_fit() -> None:
    [message] = render_reply(Reply(parts=(card(title="Judul " * 2000),)), PRIVATE)

    assert utf16_length(message.html) <= TEXT_LIMIT
    parse_html(message.html)


def test_a_button_command_too_long_for_a_callback_is_dropped_not_the_message() -> None:
    buttons = (Button("x", "/read " + "9" * 80), Button("y", "/help"))
    [message] = render_reply(Reply(parts=(Text("x"),), buttons=buttons), PRIVATE)

    assert [button.callback_data for button in message.buttons] == ["/help"]


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(min_size=1, max_size=300),
    body=st.text(max_size=9000),
)
def test_any_text_renders_to_valid_messages_within_limits(title: str, body: str) -> None:
    messages = render_reply(
        Reply(parts=(card(title=title, summary=body[:300]), Text(body))), PRIVATE
    )

    for message in messages:
        limit = CAPTION_LIMIT if message.photo_url else TEXT_LIMIT
        assert utf16_length(message.html) <= limit
        parse_html(message.html)  # raises where Telegram would answer "can't parse entities"
