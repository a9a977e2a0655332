"""Everything a handler may use, in one typed object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.desk import Desk
from bot.newsroom import Newsroom
from bot.render import ArticleRenderer
from bot.router import CommandSpec
from bot.sections import SectionCatalog
from bot.settings import Settings
from bot.source_desk import SourceDesk
from storage import Storage


@dataclass(frozen=True)
class Deps:
    """What handlers receive besides the command: no module globals anywhere."""

    settings: Settings
    storage: Storage
    sections: SectionCatalog
    renderer: ArticleRenderer
    newsroom: Newsroom
    desk: Desk
    sources: SourceDesk
    commands: tuple[CommandSpec, ...]
    clock: Callable[[], datetime]
