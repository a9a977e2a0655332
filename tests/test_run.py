"""`newsbot run` in this process (`App.run`): what it says at start and when it has nothing to
run. Exit codes and real standard input are in tests/test_cli.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.platform import PlatformStartError
from bot.settings import Settings


async def _run(app: App, typed: str) -> tuple[str, str]:
    """`newsbot run` with `typed` piped in: what it printed to stdout and to stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    await app.run(stdin=io.StringIO(typed), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("typed", ["", "\n  \n\n"])
async def test_piped_input_with_no_command_and_no_platform_is_a_start_error(
    app: App, typed: str
) -> None:
    # As under systemd without a token: stdin is /dev/null. Stopping "cleanly" would hide it.
    stderr = io.StringIO()
    with pytest.raises(PlatformStartError) as refused:
        await app.run(stdin=io.StringIO(typed), stdout=io.StringIO(), stderr=stderr)

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("no platform is configured")
    assert "NEWSBOT_TELEGRAM_TOKEN" in message
    assert "NEWSBOT_DISCORD_TOKEN" in message
    # Nothing said that it runs a console chat: it does not.
    assert stderr.getvalue() == ""


async def test_piped_commands_without_a_platform_are_answered_after_an_english_notice(
    app: App,
) -> None:
    stdout, stderr = await _run(app, "halo\n/sections\n")

    assert "Internasional" in stdout  # the /sections answer, in the chat's language
    # The operator's line is English like every other line newsbot writes on stderr; the
    # chat's own words stay in the chat's language (Indonesian here).
    assert stderr.splitlines() == [
        "newsbot: no platform token is set, so this is the console chat; set "
        "NEWSBOT_TELEGRAM_TOKEN or NEWSBOT_DISCORD_TOKEN (in .env) to connect to Telegram "
        "or Discord"
    ]


async def test_the_sources_file_is_loaded_at_start_and_each_refusal_names_its_url_once(
    settings: Settings, tmp_path: Path, no_network_beyond_loopback: list[object]
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "[sections.internasional]\n"
        'feeds = ["https://kabar-jauh.example/dunia.xml", "http://192.168.7.7/rss"]\n',
        encoding="utf-8",
    )
    configured = settings.model_copy(update={"sources": str(sources)})

    async with open_app(configured) as app:
        _stdout, stderr = await _run(app, "/help\n")
        registered = [feed.url for feed in await app.feed_registry().all()]

    # The name that did not resolve (the tests' guard refuses any public lookup) is
    # registered; its polls try again and report. The lookups were the point here.
    assert set(no_network_beyond_loopback) == {"kabar-jauh.example"}
    no_network_beyond_loopback.clear()
    assert registered == ["https://kabar-jauh.example/dunia.xml"]
    assert stderr.splitlines()[1:] == [
        f"newsbot: {sources}: 1 added, 0 updated, 0 unchanged, 1 refused, 1 not checked now",
        "newsbot: refused: http://192.168.7.7/rss: refused: 192.168.7.7 is a private address "
        "(allowed only with NEWSBOT_ALLOW_PRIVATE_SOURCES=true)",
        "newsbot: warning: https://kabar-jauh.example/dunia.xml: cannot fetch: cannot resolve "
        "kabar-jauh.example: tests may not look up kabar-jauh.example; registered all the "
        "same, and each poll checks it again",
    ]
