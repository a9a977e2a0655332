"""`newsbot run` in this process (`App.run`): what it says at start and when it has nothing to
run. Exit codes and real standard input are in tests/test_cli.py."""

from __future__ import annotations

import io

import pytest

from bot.app import App
from bot.platform import PlatformStartError


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
