"""Fixtures: settings on a real SQLite file per test, the wired app, a fake platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.settings import Settings
from tests.support import FakeClock, FakePlatform


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh database file, ignoring the developer's .env and environment."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        database=str(tmp_path / "newsbot.db"),
        admins=frozenset({"telegram:1"}),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    async with open_app(settings, clock=clock) as opened:
        yield opened


@pytest.fixture
def platform(app: App) -> FakePlatform:
    return FakePlatform(app)
