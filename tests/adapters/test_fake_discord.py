"""The fake Discord itself: a real discord.py client logs in to it, connects to its gateway,
sends messages, is rate limited and refused, reconnects, and answers interactions, as it would
with Discord. The Discord adapter's tests rely on all of this."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import discord
import pytest
from discord import app_commands

from tests.adapters.fake_discord import (
    DEFAULT_EDITOR_ID,
    DEFAULT_GUILD_ID,
    DEFAULT_NEWS_CHANNEL_ID,
    DEFAULT_TOKEN,
    FLAG_EPHEMERAL,
    FakeDiscord,
    FakeDiscordProcess,
    Perm,
    point_discord_at,
)

GUILD = 900_000_000_000_000_001
OWNER = 900_000_000_000_000_002
EDITOR = 900_000_000_000_000_003
READER = 900_000_000_000_000_004
NEWS = 900_000_000_000_000_010  # an announcement channel
GENERAL = 900_000_000_000_000_011
LOCKED = 900_000_000_000_000_012  # the bot may read but not send
PLAIN = 900_000_000_000_000_013  # the bot may send but not embed links
HIDDEN = 900_000_000_000_000_014  # the bot cannot see it
DM_CHANNEL = 900_000_000_000_000_099


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        guild = server.add_guild(GUILD, "Redaksi", owner_id=OWNER)
        guild.add_text_channel(NEWS, "berita", news=True)
        guild.add_text_channel(GENERAL, "umum")
        guild.add_text_channel(LOCKED, "arsip", bot_deny=Perm.SEND_MESSAGES)
        guild.add_text_channel(PLAIN, "teks", bot_deny=Perm.EMBED_LINKS)
        guild.add_text_channel(HIDDEN, "rahasia", bot_deny=Perm.VIEW_CHANNEL)
        guild.add_member(EDITOR, "editor", permissions=Perm.MANAGE_CHANNELS)
        guild.add_member(READER, "pembaca")
        with point_discord_at(server):
            yield server


def make_client(intents: discord.Intents | None = None) -> discord.Client:
    """A client asking for the guilds intent only (by default); ready 0.05 s after the last
    GUILD_CREATE rather than discord.py's 2 s."""
    return discord.Client(
        intents=intents or discord.Intents(guilds=True), guild_ready_timeout=0.05
    )


@contextlib.asynccontextmanager
async def running(
    client: discord.Client, token: str = DEFAULT_TOKEN
) -> AsyncIterator[discord.Client]:
    """`client.start(token)` in the background until the client is ready; closed afterwards."""
    task = asyncio.create_task(client.start(token))
    try:
        async with asyncio.timeout(5):
            while not client.is_ready():
                if task.done():
                    task.result()
                    raise AssertionError("the client stopped before it was ready")
                await asyncio.sleep(0.01)
        yield client
    finally:
        await client.close()
        await asyncio.wait({task}, timeout=5)
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()  # retrieved; the test's own failure, if any, is what counts


async def eventually(condition: Callable[[], object], within: float = 3.0) -> None:
    """Wait until `condition()` is true (AssertionError after `within` seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"still false after {within}s: {condition}")


def text_channel(client: discord.Client, channel_id: int) -> discord.TextChannel:
    """A text (or announcement) channel from the client's cache."""
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel), channel
    return channel


async def test_a_client_logs_in_connects_and_caches_the_guild(fake: FakeDiscord) -> None:
    client = make_client()
    async with running(client):
        guild = client.get_guild(GUILD)
        assert guild is not None
        assert guild.name == "Redaksi"
        assert guild.preferred_locale is discord.Locale.indonesian
        assert {channel.name for channel in guild.text_channels} == {
            "berita",
            "umum",
            "arsip",
            "teks",
            "rahasia",
        }
        news = text_channel(client, NEWS)
        assert news.is_news()
        me = guild.me
        assert me is not None
        assert me.id == fake.bot_user_id
        assert news.permissions_for(me).send_messages
        assert news.permissions_for(me).embed_links
        locked = text_channel(client, LOCKED)
        plain = text_channel(client, PLAIN)
        hidden = text_channel(client, HIDDEN)
        assert locked.permissions_for(me).view_channel
        assert not locked.permissions_for(me).send_messages
        assert plain.permissions_for(me).send_messages
        assert not plain.permissions_for(me).embed_links
        assert not hidden.permissions_for(me).view_channel
        # Without the members intent, Discord sends only the bot's own member.
        assert guild.get_member(EDITOR) is None

    assert [(c.method, c.path) for c in fake.calls] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    assert all(c.headers["Authorization"] == f"Bot {DEFAULT_TOKEN}" for c in fake.calls)
    assert fake.unexpected_calls == []
    [connection] = fake.connections
    assert connection.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert connection.compressed
    assert connection.identify is not None
    assert connection.identify["intents"] == discord.Intents(guilds=True).value
    assert connection.events[:2] == ["READY", "GUILD_CREATE"]
    assert connection.heartbeats >= 1  # discord.py beats at once after HELLO
    # Client.close() sends 1000, but its reader, woken by the close, sends 4000 first.
    assert connection.close_code in (1000, 4000)


async def test_a_wrong_token_fails_login(fake: FakeDiscord) -> None:
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert [(c.path, c.status) for c in fake.calls] == [("/users/@me", 401)]
    assert fake.connections == []


async def test_a_message_sent_twice_with_one_nonce_is_created_once(fake: FakeDiscord) -> None:
    client = make_client()
    async with running(client):
        channel = text_channel(client, NEWS)
        embed = discord.Embed(title="Banjir di Jakarta", description="Hujan deras semalam.")
        first = await channel.send("Berita terbaru", embed=embed, nonce="delivery-1")
        second = await channel.send("Berita terbaru", embed=embed, nonce="delivery-1")
        third = await channel.send("Berita lain")  # discord.py puts a random nonce on each send

    assert first.id == second.id
    assert third.id != first.id
    assert first.embeds[0].title == "Banjir di Jakarta"
    assert first.author.id == fake.bot_user_id
    messages = fake.messages(NEWS)
    assert [m["content"] for m in messages] == ["Berita terbaru", "Berita lain"]
    assert messages[0]["nonce"] == "delivery-1"
    assert messages[0]["embeds"][0]["description"] == "Hujan deras semalam."
    sends = fake.calls_to("POST", rf"/channels/{NEWS}/messages")
    assert len(sends) == 3
    assert sends[0].json["enforce_nonce"] is True


async def test_a_429_is_waited_out_and_the_message_arrives_once(fake: FakeDiscord) -> None:
    fake.fail_channel(NEWS, 429, retry_after=0.5, times=1)
    client = make_client()
    async with running(client):
        channel = text_channel(client, NEWS)
        started = time.monotonic()
        await channel.send("Gempa", nonce="delivery-2")
        waited = time.monotonic() - started

    assert waited >= 0.5
    assert fake.rate_limited == 1
    assert [c.status for c in fake.calls_to("POST", rf"/channels/{NEWS}/messages")] == [429, 200]
    assert [m["content"] for m in fake.messages(NEWS)] == ["Gempa"]


async def test_refusals_come_as_discord_sends_them(fake: FakeDiscord) -> None:
    client = make_client()
    async with running(client):
        locked = text_channel(client, LOCKED)
        hidden = text_channel(client, HIDDEN)
        general = text_channel(client, GENERAL)
        plain = text_channel(client, PLAIN)

        with pytest.raises(discord.Forbidden) as refused:
            await locked.send("x")
        assert refused.value.code == 50013
        with pytest.raises(discord.Forbidden) as refused:
            await hidden.send("x")
        assert refused.value.code == 50001
        with pytest.raises(discord.HTTPException) as invalid:
            await general.send("x" * 2001)
        assert (invalid.value.status, invalid.value.code) == (400, 50035)
        assert "content" in invalid.value.text
        with pytest.raises(discord.HTTPException) as invalid:
            await general.send(embed=discord.Embed(title="t" * 257))
        assert invalid.value.code == 50035
        with pytest.raises(discord.HTTPException) as invalid:
            await general.send(embeds=[discord.Embed(description="d" * 4000)] * 2)
        assert invalid.value.code == 50035  # over 6000 characters in all
        with pytest.raises(discord.HTTPException) as empty:
            await general.send()
        assert empty.value.code == 50006

        # Without Embed Links the embed is dropped; with nothing else to show, it is empty.
        sent = await plain.send("Judul", embed=discord.Embed(title="Kartu"))
        assert sent.embeds == []
        with pytest.raises(discord.HTTPException) as empty:
            await plain.send(embed=discord.Embed(title="Kartu"))
        assert empty.value.code == 50006

        fake.fail_channel(GENERAL, 403, code=50001, times=1)
        with pytest.raises(discord.Forbidden) as refused:
            await general.send("x")
        assert refused.value.code == 50001
        await general.send("sesudahnya")  # `times` used up

        await fake.delete_channel(GENERAL)
        await eventually(lambda: client.get_channel(GENERAL) is None)
        with pytest.raises(discord.NotFound) as gone:
            await general.send("x")
        assert gone.value.code == 10003

    assert fake.dropped_embeds == 2
    assert [m["content"] for m in fake.messages(PLAIN)] == ["Judul"]
    assert [m["content"] for m in fake.messages(GENERAL)] == ["sesudahnya"]
    assert fake.unexpected_calls == []


async def test_edits_deletes_and_crossposts(fake: FakeDiscord) -> None:
    client = make_client()
    async with running(client):
        news = text_channel(client, NEWS)
        general = text_channel(client, GENERAL)
        card = await news.send("Pertama")
        await card.edit(content="Pertama (diperbarui)")
        await card.publish()
        with pytest.raises(discord.HTTPException) as twice:
            await card.publish()
        assert twice.value.code == 40033
        other = await general.send("Bukan pengumuman")
        with pytest.raises(discord.HTTPException) as not_news:
            await other.publish()
        assert not_news.value.code == 50024
        await other.delete()

    [stored] = fake.messages(NEWS)
    assert stored["content"] == "Pertama (diperbarui)"
    assert stored["edited_timestamp"] is not None
    assert fake.crossposts == [(NEWS, card.id)]
    assert fake.messages(GENERAL) == []
    assert [m["content"] for m in fake.deleted_messages(GENERAL)] == ["Bukan pengumuman"]


async def test_the_channel_limit_is_announced_in_headers_and_kept(fake: FakeDiscord) -> None:
    fake.channel_limit = (2, 0.3)
    client = make_client()
    async with running(client):
        channel = text_channel(client, NEWS)
        started = time.monotonic()
        await asyncio.gather(*(channel.send(f"berita {n}") for n in range(5)))
        elapsed = time.monotonic() - started

    sends = fake.calls_to("POST", rf"/channels/{NEWS}/messages")
    assert len(fake.messages(NEWS)) == 5
    # discord.py reads X-RateLimit-Remaining / Reset-After and waits instead of being refused.
    assert [c.status for c in sends] == [200] * 5
    assert elapsed >= 0.6
    # Two go at once, then discord.py waits for the window to reset before the next ones.
    assert fake.peak_requests_per_second(method="POST", window=0.05) == 2


async def test_the_global_limit_answers_429_global_and_is_waited_out(fake: FakeDiscord) -> None:
    client = make_client()
    async with running(client):
        fake.global_limit_per_second = 3
        channels = [text_channel(client, c) for c in (NEWS, GENERAL, PLAIN) * 2]
        await asyncio.gather(*(c.send(f"berita {n}") for n, c in enumerate(channels)))

    assert fake.global_rate_limited >= 1
    assert fake.rate_limited == fake.global_rate_limited
    refused = [c for c in fake.calls if c.status == 429]
    assert refused
    total = sum(len(fake.messages(c)) for c in (NEWS, GENERAL, PLAIN))
    assert total == 6


async def test_a_dropped_gateway_is_resumed_with_the_missed_events(fake: FakeDiscord) -> None:
    client = make_client()
    resumed = asyncio.Event()

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    async with running(client):
        session = client.ws.session_id
        await fake.drop_gateway()
        # An event while the bot is away is kept for the session and replayed on RESUME.
        await fake.delete_channel(GENERAL)
        connection = await fake.wait_gateway(count=2)
        await asyncio.wait_for(resumed.wait(), 3)
        await eventually(lambda: client.get_channel(GENERAL) is None)
        assert client.ws.session_id == session

    assert connection.resume is not None
    assert connection.resume["session_id"] == session
    assert connection.identify is None
    assert "CHANNEL_DELETE" in connection.events
    assert connection.events[-1] == "RESUMED"
    assert len(fake.identifies) == 1


class PromptClient(discord.Client):
    """discord.py waits 5 s before any IDENTIFY but the first; this client does not."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_an_invalidated_session_identifies_again(fake: FakeDiscord) -> None:
    fake.resume_mode = "invalidate"
    client = PromptClient(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    async with running(client):
        first = client.ws.session_id
        await fake.drop_gateway(code=4000)
        await fake.wait_gateway(count=2)
        await eventually(lambda: client.ws is not None and client.ws.session_id != first)
        await eventually(client.is_ready)
        assert client.get_guild(GUILD) is not None

    assert len(fake.identifies) == 2
    assert [c.invalidated for c in fake.connections] == [False, True, False]


async def test_privileged_intents_are_refused_unless_enabled(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents(guilds=True, members=True))
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(client.start(DEFAULT_TOKEN), 5)
    await client.close()
    assert fake.connections[0].close_code == 4014


async def test_a_client_with_the_messages_intent_sees_its_own_messages(
    fake: FakeDiscord,
) -> None:
    client = make_client(intents=discord.Intents(guilds=True, guild_messages=True))
    seen: list[str] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    async with running(client):
        await text_channel(client, NEWS).send("Terbit")
        await eventually(lambda: seen == ["Terbit"])
    assert fake.requested_intents == discord.Intents(guilds=True, guild_messages=True).value


async def test_guild_and_channel_deletions_reach_the_client(fake: FakeDiscord) -> None:
    client = make_client()
    removed: list[int] = []
    deleted: list[int] = []

    @client.event
    async def on_guild_remove(guild: discord.Guild) -> None:
        removed.append(guild.id)

    @client.event
    async def on_guild_channel_delete(channel: discord.abc.GuildChannel) -> None:
        deleted.append(channel.id)

    async with running(client):
        await fake.delete_channel(PLAIN)
        await eventually(lambda: deleted == [PLAIN])
        channel = text_channel(client, NEWS)
        await fake.remove_bot_from_guild(GUILD)
        await eventually(lambda: removed == [GUILD])
        assert client.get_guild(GUILD) is None
        with pytest.raises(discord.Forbidden) as refused:
            await channel.send("x")
        assert refused.value.code == 50001


async def test_a_hung_channel_never_answers(fake: FakeDiscord) -> None:
    fake.hang_channel(NEWS)
    client = make_client()
    async with running(client):
        news = text_channel(client, NEWS)
        general = text_channel(client, GENERAL)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(news.send("x"), 0.3)
        assert fake.held_requests(NEWS) == 1
        await general.send("lain")  # other channels are answered meanwhile
        fake.release_channel(NEWS)
        await eventually(lambda: fake.held_requests(NEWS) == 0)

    # Discord took the held message; the client had given up on the answer.
    assert [m["content"] for m in fake.messages(NEWS)] == ["x"]


async def test_an_unknown_route_is_a_404_recorded_as_unexpected(fake: FakeDiscord) -> None:
    client = make_client()
    async with running(client):
        with pytest.raises(discord.NotFound):
            await client.fetch_sticker(READER)
    assert [(c.method, c.path) for c in fake.unexpected_calls] == [("GET", f"/stickers/{READER}")]


def _tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    @tree.command(name="ikuti", description="Ikuti berita di sebuah kanal")
    @app_commands.describe(kanal="Kanal tujuan", rubrik="Rubrik")
    @app_commands.default_permissions(manage_channels=True)
    async def ikuti(
        interaction: discord.Interaction, kanal: discord.TextChannel, rubrik: str
    ) -> None:
        await interaction.response.send_message(
            f"{kanal.name}:{rubrik}:{interaction.permissions.manage_channels}:"
            f"{interaction.app_permissions.send_messages}:{interaction.locale.value}",
            ephemeral=True,
        )

    @ikuti.autocomplete("rubrik")
    async def rubrik_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = ["ekonomi", "olahraga", "politik"]
        return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

    @tree.command(name="ringkas", description="Ringkasan hari ini")
    async def ringkas(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("Ringkasan: tiga berita")
        await interaction.edit_original_response(content="Selesai")

    @tree.command(name="lambat", description="Menjawab terlambat")
    async def lambat(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("terlambat")
        except discord.NotFound as error:
            interaction.extras["error"] = error.code

    return tree


async def test_slash_commands_reach_the_tree_and_responses_are_recorded(
    fake: FakeDiscord,
) -> None:
    client = make_client()
    tree = _tree(client)
    async with running(client):
        synced = await tree.sync()
        assert {c.name for c in synced} == {"ikuti", "ringkas", "lambat"}
        by_name = {c["name"]: c for c in fake.commands()}
        assert by_name["ikuti"]["id"] == str(next(c.id for c in synced if c.name == "ikuti"))
        assert by_name["ikuti"]["default_member_permissions"] == str(int(Perm.MANAGE_CHANNELS))

        record = await fake.interaction(
            channel_id=GENERAL,
            user_id=EDITOR,
            command="ikuti",
            options={"kanal": NEWS, "rubrik": "ekonomi"},
        )
        callback = await record.wait_response()
        assert callback.type == 4
        assert callback.ephemeral
        assert callback.flags == FLAG_EPHEMERAL
        assert callback.data["content"] == "berita:ekonomi:True:True:id"
        assert callback.delay < 3
        assert record.original is not None
        assert record.original["flags"] & FLAG_EPHEMERAL
        # Ephemeral answers are not in the channel.
        assert fake.messages(GENERAL, interactions=True) == []
        assert record.payload["data"]["resolved"]["channels"][str(NEWS)]["name"] == "berita"

        # Discord offers the command only to members with Manage Channels.
        with pytest.raises(PermissionError):
            await fake.interaction(
                channel_id=GENERAL, user_id=READER, command="ikuti", options={"kanal": NEWS}
            )

        choices = await fake.interaction(
            channel_id=GENERAL,
            user_id=EDITOR,
            command="ikuti",
            kind="autocomplete",
            options={"kanal": NEWS, "rubrik": "o"},
            focused="rubrik",
        )
        answer = await choices.wait_response()
        assert answer.type == 8
        assert answer.data["choices"] == [{"name": "olahraga", "value": "olahraga"}]

        deferred = await fake.interaction(channel_id=NEWS, user_id=READER, command="ringkas")
        await deferred.wait_edits(1)
        assert deferred.callback is not None
        assert deferred.callback.type == 5
        assert [m["content"] for m in deferred.followups] == ["Ringkasan: tiga berita"]
        assert deferred.original is not None
        assert deferred.original["content"] == "Selesai"
        assert not deferred.original["flags"] & 128  # no longer "thinking"
        in_channel = [m["content"] for m in fake.messages(NEWS, interactions=True)]
        assert in_channel == ["Selesai", "Ringkasan: tiga berita"]
        assert fake.messages(NEWS) == []

        fake.interaction_deadline = 0.2
        late = await fake.interaction(channel_id=NEWS, user_id=READER, command="lambat")
        await late.wait_until(lambda r: bool(r.rejected))
        assert late.callback is None
        assert late.rejected[0]["code"] == 10062

    assert fake.unexpected_calls == []


async def test_guild_commands_buttons_and_dms(fake: FakeDiscord) -> None:
    client = make_client()
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    clicked: list[str] = []

    @tree.command(name="halo", description="Sapa", guild=discord.Object(GUILD))
    async def halo(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"halo {interaction.user.name}")

    @tree.command(name="bantuan", description="Bantuan")
    @app_commands.allowed_contexts(guilds=True, dms=True)
    async def bantuan(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ini bantuan", ephemeral=True)

    class Menu(discord.ui.View):
        @discord.ui.button(label="Baca", custom_id="menu:baca")
        async def baca(
            self, interaction: discord.Interaction, button: discord.ui.Button[Menu]
        ) -> None:
            clicked.append(interaction.user.name)
            await interaction.response.edit_message(content="Sudah dibaca", view=None)

    async with running(client):
        await tree.sync(guild=discord.Object(GUILD))
        await tree.sync()
        assert [c["name"] for c in fake.commands(GUILD)] == ["halo"]
        assert fake.commands(GUILD)[0]["guild_id"] == str(GUILD)

        record = await fake.interaction(channel_id=NEWS, user_id=READER, command="halo")
        callback = await record.wait_response()
        assert callback.data["content"] == "halo pembaca"
        assert record.payload["data"]["guild_id"] == str(GUILD)
        assert [m["content"] for m in fake.messages(NEWS, interactions=True)] == ["halo pembaca"]

        channel = text_channel(client, GENERAL)
        menu = await channel.send("Menu", view=Menu(timeout=None))
        click = await fake.interaction(
            channel_id=GENERAL, user_id=READER, kind="component", custom_id="menu:baca"
        )
        update = await click.wait_response()
        assert update.type == 7
        assert clicked == ["pembaca"]
        [stored] = fake.messages(GENERAL)
        assert stored["id"] == str(menu.id)
        assert (stored["content"], stored["components"]) == ("Sudah dibaca", [])

        private = await fake.interaction(channel_id=DM_CHANNEL, user_id=READER, command="bantuan")
        answer = await private.wait_response()
        assert answer.ephemeral
        assert "member" not in private.payload
        assert private.payload["user"]["id"] == str(READER)
        assert private.payload["context"] == 1


def test_the_fake_runs_in_its_own_process(tmp_path: Path) -> None:
    async def bot(process: FakeDiscordProcess) -> None:
        client = make_client()
        tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

        @tree.command(name="status", description="Status bot")
        async def status(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("aktif", ephemeral=True)

        with point_discord_at(process):
            async with running(client):
                await tree.sync()
                channel = text_channel(client, DEFAULT_NEWS_CHANNEL_ID)
                await channel.send("Dari bot", nonce="n-1")
                record = await asyncio.to_thread(
                    process.interaction,
                    channel_id=DEFAULT_NEWS_CHANNEL_ID,
                    user_id=DEFAULT_EDITOR_ID,
                    command="status",
                )
                assert record["callback"]["type"] == 4
                assert record["callback"]["ephemeral"] is True
                assert record["callback"]["data"]["content"] == "aktif"

    with FakeDiscordProcess(tmp_path) as process:
        asyncio.run(bot(process))
        state = process.state()
        assert str(DEFAULT_GUILD_ID) in state["guilds"]
        assert state["identifies"][0]["intents"] == discord.Intents(guilds=True).value
        assert [m["content"] for m in process.messages(DEFAULT_NEWS_CHANNEL_ID)] == ["Dari bot"]
        assert process.unexpected_calls() == []
        assert any(c["path"] == "/users/@me" for c in process.calls())
