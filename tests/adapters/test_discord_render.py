"""Replies as Discord messages: embeds for stories, escaped markdown, Discord's limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord.render import (
    BREAKING_COLOUR,
    CONTENT_LIMIT,
    NEWS_COLOUR,
    DiscordMessage,
    button_custom_id,
    command_from_custom_id,
    escape,
    render_reply,
)
from bot.chat import ArticleCard, Button, Reply, StoryLine, StoryList, Text

WIB = timezone(timedelta(hours=7))
# What a client would show as a ping, were mentions allowed.
PING = re.compile(r"@(everyone|here)|<@[!&]?\d{17,20}>")
HOSTILE = [
    "@everyone",
    "@here",
    "<@&123456789012345678>",
    "<@!123456789012345678>",
    "<@123>",
    "**bold**",
    "`code`",
    "```py\nx\n```",
    "||spoiler||",
    "__under__",
    "~~strike~~",
    "# heading",
    "\n- item",
    "\n> quote",
    "\n\n-# small",
    "[masked](https://evil.example)",
    "\\",
    "🇮🇩👍🏽",
    "Sekjen NATO",
    ". ",
    "\n\n",
]
hostile_text = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=40), max_size=40).map("".join)


def card(**changes: object) -> ArticleCard:
    fields: dict[str, object] = {
        "article_id": 42,
        "title": "Sekjen NATO kunjungi Tokyo",
        "section_name": "Internasional",
        "time_label": "24 Nov 2026 10:05 WIB",
        "url": "https://berita.example/nato",
        "summary": "Ringkasan singkat.",
        "published_at": datetime(2026, 11, 24, 10, 5, tzinfo=WIB),
    }
    fields.update(changes)
    return ArticleCard(**fields)  # type: ignore[arg-type]  # test builder


def shown(markdown: str) -> str:
    """The text a Discord client shows for escaped `markdown`: escapes, the zero-width spaces
    that break mentions and the `<…>` around links taken away (a link's text is verbatim)."""
    return re.sub(
        r"<(https?://[^\s>]+)>|\\([^0-9A-Za-z\s])",
        lambda match: match.group(1) or match.group(2),
        markdown.replace("\u200b", ""),
    )


def embed_texts(embed: discord.Embed) -> list[str]:
    texts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    texts.append(embed.author.name or "")
    for embed_field in embed.fields:
        texts += [embed_field.name or "", embed_field.value or ""]
    return texts


def assert_within_discord_limits(messages: list[DiscordMessage]) -> None:
    """Every limit Discord checks on a message, and no ping in anything it would show."""
    for message in messages:
        assert message.content or message.embeds or message.buttons  # never an empty message
        if message.content is not None:
            assert 0 < len(message.content) <= CONTENT_LIMIT
            assert not PING.search(message.content)
        assert len(message.embeds) <= 10
        assert sum(len(embed) for embed in message.embeds) <= 6000
        for embed in message.embeds:
            assert len(embed) > 0  # Discord refuses an empty embed
            assert len(embed.title or "") <= 256
            assert len(embed.description or "") <= 4096
            assert len(embed.footer.text or "") <= 2048
            assert len(embed.author.name or "") <= 256
            assert len(embed.fields) <= 25
            for embed_field in embed.fields:
                assert len(embed_field.name or "") <= 256
                assert len(embed_field.value or "") <= 1024
            for text in embed_texts(embed):
                assert not PING.search(text)
            json.dumps(embed.to_dict())  # what discord.py sends: a timestamp must convert
        assert len(message.buttons) <= 25
        custom_ids = [button_custom_id(button) for button in message.buttons]
        assert len(set(custom_ids)) == len(custom_ids)  # Discord refuses a duplicate
        for button, custom_id in zip(message.buttons, custom_ids, strict=True):
            assert 0 < len(button.label) <= 80
            assert len(custom_id) <= 100
    for message in messages[:-1]:
        assert not message.buttons


# Cards.


def test_a_card_is_an_embed_with_its_title_linked_and_its_summary() -> None:
    [message] = render_reply(Reply(parts=(card(),)))

    assert message.content is None
    [embed] = message.embeds
    assert embed.title == "Sekjen NATO kunjungi Tokyo"
    assert embed.url == "https://berita.example/nato"
    assert embed.description == "Ringkasan singkat."
    assert embed.colour == NEWS_COLOUR


def test_the_footer_has_section_time_number_and_how_to_read_it() -> None:
    [message] = render_reply(Reply(parts=(card(),)))

    assert (
        message.embeds[0].footer.text == "Internasional · 24 Nov 2026 10:05 WIB · #42 · /read 42"
    )


def test_a_push_has_a_read_button_instead_of_the_command() -> None:
    [message] = render_reply(Reply(parts=(card(),), buttons=(Button("Baca", "/read 42"),)))

    assert message.embeds[0].footer.text == "Internasional · 24 Nov 2026 10:05 WIB · #42"
    assert message.buttons == (Button("Baca", "/read 42"),)


def test_a_preview_has_no_number_and_nothing_to_read() -> None:
    [message] = render_reply(Reply(parts=(card(article_id=0, preview=True),)))

    assert message.embeds[0].footer.text == "Internasional · 24 Nov 2026 10:05 WIB"


def test_breaking_news_is_marked_above_the_title_and_red() -> None:
    [message] = render_reply(Reply(parts=(card(badge="BERITA TERKINI"),)))

    [embed] = message.embeds
    assert embed.author.name == "🔴 BERITA TERKINI"
    assert embed.colour == BREAKING_COLOUR
    assert embed.colour != NEWS_COLOUR
    assert embed.title == "Sekjen NATO kunjungi Tokyo"


def test_the_publication_time_is_the_embeds_timestamp_in_utc() -> None:
    [message] = render_reply(Reply(parts=(card(),)))

    assert message.embeds[0].timestamp == datetime(2026, 11, 24, 3, 5, tzinfo=UTC)
    assert message.embeds[0].to_dict()["timestamp"] == "2026-11-24T03:05:00+00:00"


@pytest.mark.parametrize(
    "published_at",
    [
        None,
        datetime(2026, 11, 24, 10, 5),  # naive: discord.py would take it as the machine's time
        datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # past year 9999
        datetime(1, 1, 1, 3, 0, tzinfo=WIB),  # before year 1 in UTC
    ],
)
def test_a_time_discord_cannot_take_is_no_timestamp(published_at: datetime | None) -> None:
    [message] = render_reply(Reply(parts=(card(published_at=published_at),)))

    assert message.embeds[0].timestamp is None
    assert "timestamp" not in message.embeds[0].to_dict()
    assert "24 Nov 2026 10:05 WIB" in (message.embeds[0].footer.text or "")


def test_the_last_representable_moment_is_a_timestamp() -> None:
    last = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    [message] = render_reply(Reply(parts=(card(published_at=last),)))

    assert message.embeds[0].to_dict()["timestamp"] == "9999-12-31T23:59:00+00:00"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://berita.example/nato",
        "https://",
        "https:///path-without-host",
        "https://[::1/broken",
        "https://berita.example:99999/nato",
        "https://berita.example/a b",
        "https://berita.example/\x00",
        "https://berita.example/" + "a" * 3000,
        "",
    ],
)
def test_a_card_without_a_usable_web_url_is_not_linked(url: str) -> None:
    [message] = render_reply(Reply(parts=(card(url=url, image_url=url),)))

    [embed] = message.embeds
    assert embed.url is None
    assert not embed.image
    assert not embed.thumbnail


def test_one_story_shows_its_picture_large() -> None:
    [message] = render_reply(Reply(parts=(card(image_url="https://berita.example/foto.jpg"),)))

    assert message.embeds[0].image.url == "https://berita.example/foto.jpg"


def test_a_list_of_stories_shows_thumbnails() -> None:
    [message] = render_reply(
        Reply(
            parts=(
                card(image_url="https://berita.example/a.jpg"),
                card(article_id=7, image_url="https://berita.example/b.jpg"),
            )
        )
    )

    assert [embed.thumbnail.url for embed in message.embeds] == [
        "https://berita.example/a.jpg",
        "https://berita.example/b.jpg",
    ]
    assert not any(embed.image for embed in message.embeds)


def test_a_long_title_and_summary_are_cut_at_a_word_with_an_ellipsis() -> None:
    title = "Sekjen NATO kunjungi Tokyo untuk membahas pertahanan " * 6  # about 320
    summary = "Kalimat ringkasan yang cukup panjang untuk diuji. " * 100  # about 5,000
    [message] = render_reply(Reply(parts=(card(title=title, summary=summary),)))

    [embed] = message.embeds
    assert embed.title is not None
    assert embed.description is not None
    assert len(embed.title) <= 256
    assert len(embed.description) <= 4096
    assert embed.title.endswith("…")
    assert embed.description.endswith("…")
    assert title.startswith(embed.title[:-1])  # cut between words, nothing else changed
    assert embed.title[:-1] + " " in title + " "
    assert_within_discord_limits([message])


def test_an_escaped_title_is_cut_to_fit_after_escaping() -> None:
    [message] = render_reply(Reply(parts=(card(title="*" * 300),)))

    title = message.embeds[0].title or ""
    assert len(title) <= 256
    assert shown(title).rstrip("…").strip("*") == ""


def test_a_headline_shows_markdown_literally_and_pings_nobody() -> None:
    headline = "**Rapat** `kode` _miring_ @everyone <@&123456789012345678> 🇮🇩"
    [message] = render_reply(Reply(parts=(card(title=headline, summary=headline),)))

    [embed] = message.embeds
    assert shown(embed.title or "") == headline
    assert shown(embed.description or "") == headline
    assert "**" not in (embed.title or "").replace("\\*", "")
    assert_within_discord_limits([message])


def test_five_stories_with_a_header_are_one_message() -> None:
    cards = tuple(card(article_id=n, url=f"https://berita.example/{n}") for n in range(5))
    [message] = render_reply(Reply(parts=(Text("Berita terbaru tentang nato:"), *cards)))

    assert message.content == "Berita terbaru tentang nato:"
    assert [embed.footer.text for embed in message.embeds] == [
        f"Internasional · 24 Nov 2026 10:05 WIB · #{n} · /read {n}" for n in range(5)
    ]


def test_more_than_ten_stories_go_on_in_the_next_message() -> None:
    cards = tuple(card(article_id=n) for n in range(12))
    messages = render_reply(Reply(parts=cards))

    assert [len(message.embeds) for message in messages] == [10, 2]
    assert_within_discord_limits(messages)


def test_stories_past_6000_characters_go_on_in_the_next_message() -> None:
    summary = "Ringkasan yang panjang sekali. " * 60  # about 1,800 characters each
    cards = tuple(card(article_id=n, summary=summary) for n in range(5))
    messages = render_reply(Reply(parts=cards))

    assert len(messages) == 2
    assert [len(message.embeds) for message in messages] == [3, 2]
    assert_within_discord_limits(messages)


# Text.


def test_text_is_content_with_markdown_shown_literally() -> None:
    text = "**tebal** `kode` _miring_ ~~coret~~ ||rahasia|| \\ [tautan](https://x.example)"
    [message] = render_reply(Reply.text(text))

    assert message.content is not None
    assert shown(message.content) == text
    assert message.content.startswith("\\*\\*tebal\\*\\* \\`kode\\`")


def test_line_starts_that_would_be_formatting_are_escaped() -> None:
    text = "Judul\n# bukan judul\n- bukan daftar\n  - bukan daftar juga\n> bukan kutipan"
    [message] = render_reply(Reply.text(text + "\n\n- setelah baris kosong\n\n-# kecil"))

    content = message.content or ""
    for line in content.split("\n"):
        assert not re.match(r"^\s*(#|-|>)", line), line
    assert shown(content) == text + "\n\n- setelah baris kosong\n\n-# kecil"


def test_escape_breaks_mentions_and_keeps_links_working() -> None:
    escaped = escape("@everyone @here <@123456789012345678> https://x.example/a_b_c")

    assert not PING.search(escaped)
    assert "https://x.example/a_b_c" in escaped  # an escaped underscore would break the link


def test_links_in_text_are_not_unfurled() -> None:
    [message] = render_reply(Reply.text("Sumber: https://berita.example/nato_jepang."))

    assert message.content == "Sumber: <https://berita.example/nato_jepang>."


def test_text_after_a_card_is_a_message_after_it() -> None:
    messages = render_reply(Reply(parts=(card(), Text("Isi berita."), Text("Sumber: x"))))

    assert [(message.content, len(message.embeds)) for message in messages] == [
        (None, 1),
        ("Isi berita.\n\nSumber: x", 0),
    ]


def test_a_long_story_splits_between_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraf {n}. " + "Kata *penting* & @everyone 🇮🇩 " * 20 for n in range(40)]
    body = "\n\n".join(paragraphs)  # about 24,000 characters
    messages = render_reply(
        Reply(parts=(card(summary=""), Text(body)), buttons=(Button("Lagi", "/latest"),))
    )

    assert len(messages) > 10
    assert_within_discord_limits(messages)
    assert messages[0].embeds
    shown_paragraphs = [
        paragraph
        for message in messages[1:]
        for paragraph in shown(message.content or "").split("\n\n")
    ]
    assert shown_paragraphs == [paragraph.strip() for paragraph in paragraphs]  # none cut


def test_a_paragraph_longer_than_a_message_is_cut_at_sentences() -> None:
    sentence = "Ini kalimat panjang tentang anggaran & *pajak* 🇮🇩. "
    paragraph = sentence * 400  # about 20,000 characters, no blank line
    messages = render_reply(Reply.text(paragraph))

    assert len(messages) >= 10
    assert_within_discord_limits(messages)
    for message in messages:
        assert shown(message.content or "").endswith(".")
    for message in messages[:-1]:
        assert len(message.content or "") > CONTENT_LIMIT // 2  # full messages, not slivers
    assert " ".join(shown(m.content or "") for m in messages).split() == paragraph.split()


def test_a_sentence_longer_than_a_message_is_cut_between_words() -> None:
    words = [f"kata{n}" for n in range(2000)]
    messages = render_reply(Reply.text(" ".join(words)))

    assert len(messages) > 1
    assert_within_discord_limits(messages)
    assert " ".join(shown(m.content or "") for m in messages).split() == words


def test_a_word_longer_than_a_message_is_cut_where_it_must_be() -> None:
    word = "*_" * 3000  # escapes to 12,000 characters
    messages = render_reply(Reply.text(word))

    assert_within_discord_limits(messages)
    assert "".join(shown(message.content or "") for message in messages) == word


# Story lists (a digest).


def story(article_id: int, **changes: object) -> StoryLine:
    fields: dict[str, object] = {
        "article_id": article_id,
        "title": f"Berita nomor {article_id}",
        "time_label": "06:10",
        "url": f"https://berita.example/{article_id}",
    }
    fields.update(changes)
    return StoryLine(**fields)  # type: ignore[arg-type]  # test builder


def test_a_story_list_is_an_embed_with_a_line_per_story() -> None:
    stories = StoryList("Internasional", (story(1), story(2)), footer="3 berita lebih lama")
    [message] = render_reply(Reply(parts=(Text("Ringkasan pagi"), stories)))

    assert message.content == "Ringkasan pagi"
    [embed] = message.embeds
    assert embed.title == "Internasional"
    assert embed.description == (
        "• 06:10 [Berita nomor 1](https://berita.example/1) · `/read 1`\n"
        "• 06:10 [Berita nomor 2](https://berita.example/2) · `/read 2`"
    )
    assert embed.footer.text == "3 berita lebih lama"


def test_a_story_line_never_breaks_its_link() -> None:
    stories = StoryList(
        "Dunia",
        (
            story(1, title="Judul [dengan] kurung", url="https://x.example/a"),
            story(2, url="https://x.example/Wiki_(disambiguasi)"),
            story(3, url="javascript:alert(1)"),
        ),
    )
    [message] = render_reply(Reply(parts=(stories,)))

    lines = (message.embeds[0].description or "").split("\n")
    assert lines[0] == "• 06:10 Judul \\[dengan] kurung · `/read 1`"
    assert lines[1] == (
        "• 06:10 [Berita nomor 2](https://x.example/Wiki_%28disambiguasi%29) · `/read 2`"
    )
    assert lines[2] == "• 06:10 Berita nomor 3 · `/read 3`"


def test_a_long_story_list_is_cut_between_lines_each_part_with_its_heading() -> None:
    stories = tuple(story(n, title="Judul berita yang cukup panjang " * 3) for n in range(60))
    messages = render_reply(Reply(parts=(StoryList("Ekonomi", stories, footer="lagi"),)))

    assert_within_discord_limits(messages)
    embeds = [embed for message in messages for embed in message.embeds]
    assert len(embeds) > 1
    assert {embed.title for embed in embeds} == {"Ekonomi"}
    lines = [line for embed in embeds for line in (embed.description or "").split("\n")]
    assert [line.rsplit("/read ", 1)[1] for line in lines] == [f"{n}`" for n in range(60)]
    assert [embed.footer.text for embed in embeds][-1] == "lagi"
    assert not any(embed.footer.text for embed in embeds[:-1])


# Buttons.


def test_buttons_hang_under_the_last_message() -> None:
    messages = render_reply(
        Reply(
            parts=(card(), Text("Isi. " * 1000)),
            buttons=(Button("Kirim", "/confirm 7f3a"), Button("Batal", "/cancel 7f3a")),
        )
    )

    assert len(messages) > 2
    assert [bool(message.buttons) for message in messages] == [False] * (len(messages) - 1) + [
        True
    ]
    assert [button_custom_id(b) for b in messages[-1].buttons] == [
        "nb:/confirm 7f3a",
        "nb:/cancel 7f3a",
    ]


def test_buttons_are_cut_to_discords_limits() -> None:
    buttons = (
        Button("x" * 100, "/read 1"),
        Button("lagi", "/read 1"),  # the same command twice: custom_ids must differ
        Button("panjang", "/read " + "9" * 100),  # no custom_id can carry it
        Button("", "/help"),
        *(Button(f"b{n}", f"/read {n + 10}") for n in range(30)),
    )
    [message] = render_reply(Reply(parts=(Text("x"),), buttons=buttons))

    assert len(message.buttons) == 25
    assert message.buttons[0].label == "x" * 79 + "…"
    assert [button.command for button in message.buttons[:3]] == ["/read 1", "/help", "/read 10"]
    assert message.buttons[1].label == "/help"
    assert_within_discord_limits([message])


def test_custom_ids_carry_commands_and_refuse_what_is_not_ours() -> None:
    assert button_custom_id(Button("Baca", "/read 42")) == "nb:/read 42"
    assert command_from_custom_id("nb:/read 42") == "/read 42"
    assert command_from_custom_id("nb:/latest nato jepang") == "/latest nato jepang"
    assert command_from_custom_id("/read 42") is None
    assert command_from_custom_id("other-bot:/read 42") is None
    assert command_from_custom_id("nb:read 42") is None
    assert command_from_custom_id("nb:") is None
    assert command_from_custom_id("nb:/" + "x" * 100) is None


def test_a_command_no_custom_id_can_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        button_custom_id(Button("x", "/read " + "9" * 100))
    with pytest.raises(ValueError, match="not a command"):
        button_custom_id(Button("x", "read 42"))


# Empty replies.


def test_a_reply_with_nothing_to_show_is_no_message() -> None:
    assert render_reply(Reply()) == []
    assert render_reply(Reply(parts=(Text(""), Text("  \n\n "), StoryList("", ())))) == []


def test_a_reply_of_buttons_alone_is_a_message_of_buttons() -> None:
    [message] = render_reply(Reply(buttons=(Button("Bantuan", "/help"),)))

    assert message == DiscordMessage(
        content=None, embeds=(), buttons=(Button("Bantuan", "/help"),)
    )


# Anything at all.


@settings(max_examples=150, deadline=None)
@given(
    title=hostile_text,
    summary=hostile_text,
    # A paragraph repeated: up to tens of thousands of characters.
    body=st.builds(lambda text, repeat: (text + " ") * repeat, hostile_text, st.integers(1, 60)),
    badge=st.sampled_from(["", "BERITA TERKINI", "@everyone"]),
    url=st.sampled_from([None, "https://berita.example/x_(y)", "javascript:x", "https://[x"]),
)
def test_any_story_renders_within_every_limit(
    title: str, summary: str, body: str, badge: str, url: str | None
) -> None:
    reply = Reply(
        parts=(
            card(title=title * 8, summary=summary * 4, badge=badge, url=url, image_url=url),
            card(article_id=7, title=title, summary=summary, preview=True),
            Text(body),
            StoryList(title, (story(1, title=title, url=url), story(2, time_label=summary))),
        ),
        buttons=(Button(title, "/read 42"), Button(summary, "/help")),
    )
    messages = render_reply(reply)

    assert_within_discord_limits(messages)
    texts = [message.content for message in messages if message.content]
    assert "".join(shown("".join(texts)).split()) == "".join(body.replace("\u200b", "").split())


@settings(max_examples=50, deadline=None)
@given(chunk=st.text(min_size=1, max_size=600))
def test_any_20000_character_body_renders_within_every_limit(chunk: str) -> None:
    body = (chunk * (20_000 // len(chunk) + 1))[:20_000]
    messages = render_reply(Reply(parts=(card(), Text(body))))

    assert_within_discord_limits(messages)
