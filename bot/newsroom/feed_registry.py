"""The feed registry as operators manage it: add, list, remove, enable and disable feeds, and
exchange them as OPML (what every feed reader exports) or declare them in a TOML file.

Platform-free: the CLI's `newsbot feeds` verbs and the chat's admin commands call it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree  # writes OPML; reading goes through defusedxml

import defusedxml.ElementTree as SafeElementTree

from bot.sections import SectionCatalog
from storage.models import Feed
from storage.repositories import FeedRepository

# `10m`, `1h`, `90s`, `1h30m`, or a number of minutes.
_INTERVAL = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
# Ten seconds is for trying one's own feeds; publishers' feeds want minutes.
SHORTEST_INTERVAL = timedelta(seconds=10)
LONGEST_INTERVAL = timedelta(days=1)
# `feeds list`'s time columns: `24 Nov 2026 10:05 WIB` and most other zones' names fit.
_TIME_WIDTH = 22
# OPML attributes of our own beside the standard ones: feed readers ignore them.
_OPML_INTERVAL = "newsbotInterval"
_OPML_FULL_TEXT = "newsbotFullText"


class RegistryError(Exception):
    """An operator's request the registry cannot carry out; the message says why."""


class AddressNotCheckedError(RegistryError):
    """A feed's address cannot be checked now (its name does not resolve, the lookup timed
    out): a passing failure. `add` refuses such a feed (the operator is there to try again);
    `load` registers it, and its polls check the address each time, retry and report."""

    def __init__(self, url: str, reason: str) -> None:
        """`url`: the URL to register, normalised; `reason`: why it was not checked."""
        super().__init__(reason)
        self.url = url


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as an operator declares it: where, which section, how often, full text or not."""

    url: str
    section: str
    interval: timedelta | None = None
    full_text: bool = False


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What loading a list of feeds (OPML, TOML) did."""

    added: tuple[Feed, ...]
    updated: tuple[Feed, ...]
    unchanged: int
    refused: tuple[str, ...]  # one line each: the feed and why
    # Registered (added, updated or unchanged) though their address could not be checked now:
    # one line each, the feed and why.
    unchecked: tuple[str, ...] = ()

    def line(self) -> str:
        """One line for the operator."""
        refused = f", {len(self.refused)} refused" if self.refused else ""
        unchecked = f", {len(self.unchecked)} not checked now" if self.unchecked else ""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged{refused}{unchecked}"
        )

    def notes(self) -> list[str]:
        """A line for each feed refused or registered unchecked, to follow `line`."""
        return [f"refused: {refused}" for refused in self.refused] + [
            f"warning: {unchecked}; registered all the same, and each poll checks it again"
            for unchecked in self.unchecked
        ]


def parse_interval(text: str) -> timedelta:
    """`10m`, `1h`, `90s`, `1h30m`, or a bare number of minutes, between 1 minute and 1 day."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        interval = timedelta(minutes=int(cleaned))
    else:
        match = _INTERVAL.match(cleaned)
        if not cleaned or match is None:
            raise RegistryError(f"interval {text!r} is not like 10m, 1h or 90s")
        interval = timedelta(
            hours=int(match["h"] or 0), minutes=int(match["m"] or 0), seconds=int(match["s"] or 0)
        )
    if not SHORTEST_INTERVAL <= interval <= LONGEST_INTERVAL:
        raise RegistryError(f"interval {text!r} must be between 10 seconds and 1 day")
    return interval


def interval_text(interval: timedelta) -> str:
    """An interval as `parse_interval` reads it: `10m`, `1h`, `1h30m`, `90s`."""
    seconds = int(interval.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{seconds}s" if seconds else "")
    return "".join(parts) or "0s"


class FeedRegistry:
    """Checks operators' requests and carries them out on the feed repository."""

    def __init__(
        self,
        feeds: FeedRepository,
        sections: SectionCatalog,
        *,
        default_interval: timedelta,
        check_url: Callable[[str], Awaitable[str]],
        clock: Callable[[], datetime],
        time_label: Callable[[datetime], str],
    ) -> None:
        """`check_url` returns the URL to register (normalised) or raises `RegistryError`
        saying why it may not be fetched (the safe-fetching rules), `AddressNotCheckedError`
        when that cannot be told now; `time_label` shows a moment as the chats do (display
        time zone, named)."""
        self._feeds = feeds
        self._sections = sections
        self._default_interval = default_interval
        self._check_url = check_url
        self._clock = clock
        self._time_label = time_label

    async def add(self, spec: FeedSpec) -> Feed:
        """Register a feed; RegistryError if it cannot be, or is already."""
        url, section = await self._checked(spec)
        added = await self._feeds.add(
            url,
            section,
            interval=spec.interval or self._default_interval,
            full_text=spec.full_text,
            now=self._clock(),
        )
        if added is None:
            raise RegistryError(f"{url} is already registered")
        return added

    async def find(self, reference: str) -> Feed:
        """The feed a number (`3`, `#3`) or a URL names; RegistryError if none."""
        text = reference.strip().lstrip("#")
        feed = (
            await self._feeds.get(int(text))
            if text.isdigit() and len(text) < 19
            else await self._feeds.find(text)
        )
        if feed is None:
            raise RegistryError(f"no feed {reference!r}; `newsbot feeds list` shows them")
        return feed

    async def remove(self, reference: str) -> Feed:
        """Forget a feed (its stories stay)."""
        feed = await self.find(reference)
        await self._feeds.remove(feed.id)
        return feed

    async def set_enabled(self, reference: str, enabled: bool) -> Feed:
        """Enable (polled at once, failures forgotten) or disable a feed."""
        feed = await self.find(reference)
        await self._feeds.set_enabled(feed.id, enabled, now=self._clock())
        return await self.find(str(feed.id))

    async def all(self) -> list[Feed]:
        """Every registered feed."""
        return await self._feeds.all()

    async def load(self, specs: Iterable[FeedSpec]) -> LoadReport:
        """Register these feeds, and bring registered ones to what they declare. A feed whose
        address cannot be checked now is registered all the same (a name server down at boot
        must not lose feeds): its polls check it."""
        added: list[Feed] = []
        updated: list[Feed] = []
        unchanged = 0
        refused: list[str] = []
        unchecked: list[str] = []
        for spec in specs:
            try:
                url, section = await self._checked(spec)
            except AddressNotCheckedError as error:
                url, section = error.url, self._section(spec)
                unchecked.append(str(error))
            except RegistryError as error:
                refused.append(str(error))
                continue
            interval = spec.interval or self._default_interval
            known = await self._feeds.find(url)
            if known is None:
                feed = await self._feeds.add(
                    url, section, interval=interval, full_text=spec.full_text, now=self._clock()
                )
                if feed is not None:
                    added.append(feed)
            elif (known.section, known.interval, known.full_text) != (
                section,
                interval,
                spec.full_text,
            ):
                await self._feeds.update(
                    known.id, section=section, interval=interval, full_text=spec.full_text
                )
                updated.append(known)
            else:
                unchanged += 1
        return LoadReport(
            tuple(added), tuple(updated), unchanged, tuple(refused), tuple(unchecked)
        )

    def table(self, feeds: Iterable[Feed], now: datetime) -> str:
        """`feeds list`: a line per feed with its section, state, last poll, last new story,
        failures and next poll (times in the display time zone); the reason under a failing
        one."""
        width = _TIME_WIDTH
        lines = [
            f"{'#':>3}  {'section':<14} {'status':<9} {'last poll':<{width}} "
            f"{'last new':<{width}} {'fails':>5}  {'next poll':<{width}} url"
        ]
        for feed in feeds:
            status = "enabled" if feed.enabled else "disabled"
            if feed.enabled and feed.failures:
                status = "failing"
            next_poll = self._when(feed.next_poll_at) if feed.enabled else "-"
            if feed.enabled and feed.next_poll_at <= now:
                next_poll = "due now"
            lines.append(
                f"{feed.id:>3}  {feed.section:<14} {status:<9} "
                f"{self._when(feed.last_polled_at):<{width}} "
                f"{self._when(feed.last_new_at):<{width}} {feed.failures:>5}  "
                f"{next_poll:<{width}} {feed.url}"
            )
            if feed.last_error:
                lines.append(f"{'':>5}last error: {feed.last_error}")
        if len(lines) == 1:
            return "no feeds registered; add one with `newsbot feeds add URL --section S`"
        return "\n".join(lines)

    def _when(self, moment: datetime | None) -> str:
        return self._time_label(moment) if moment else "-"

    async def _checked(self, spec: FeedSpec) -> tuple[str, str]:
        """The URL to register and the section's slug; RegistryError if either is unusable
        (`AddressNotCheckedError` if the URL's address cannot be checked now), its message
        naming the URL."""
        where = spec.url.strip()
        try:
            section = self._section(spec)
            return await self._check_url(spec.url), section
        except AddressNotCheckedError as error:
            raise AddressNotCheckedError(error.url, f"{where}: {error}") from error
        except RegistryError as error:
            raise RegistryError(f"{where}: {error}") from error

    def _section(self, spec: FeedSpec) -> str:
        """The slug of the feed's section; RegistryError if there is none such."""
        section = self._sections.find(spec.section)
        if section is None:
            known = ", ".join(each.slug for each in self._sections.all())
            raise RegistryError(f"unknown section {spec.section!r}; sections: {known}")
        return section.slug


# OPML ----------------------------------------------------------------------------------------


def export_opml(feeds: Iterable[Feed], sections: SectionCatalog, *, title: str) -> str:
    """The feeds as OPML 2.0: an outline per section holding its feeds, each with its section
    as the standard `category`, and our interval and full-text choice as extra attributes."""
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(opml, "body")
    by_section: dict[str, list[Feed]] = {}
    for feed in feeds:
        by_section.setdefault(feed.section, []).append(feed)
    for slug, members in by_section.items():
        name = sections.name(slug, "id")
        group = ElementTree.SubElement(body, "outline", text=name, title=name)
        for feed in members:
            attributes = {
                "type": "rss",
                "text": feed.url,
                "xmlUrl": feed.url,
                "category": f"/{slug}",
                _OPML_INTERVAL: str(int(feed.interval.total_seconds())),
            }
            if feed.full_text:
                attributes[_OPML_FULL_TEXT] = "true"
            ElementTree.SubElement(group, "outline", attributes)
    ElementTree.indent(opml)
    return ElementTree.tostring(opml, encoding="unicode", xml_declaration=True) + "\n"


def read_opml(data: bytes, sections: SectionCatalog, *, fallback_section: str) -> list[FeedSpec]:
    """The feeds of an OPML file (any feed reader's export), parsed safely (no entities, no
    external references). A feed's section: its `category`, else the outline it sits in, else
    `fallback_section`.

    Raises:
        RegistryError: the file is not OPML we can read.
    """
    try:
        root = SafeElementTree.fromstring(data)
    except Exception as error:  # defusedxml's refusals and XML syntax errors alike
        raise RegistryError(f"not a readable OPML file: {error}") from error
    if root.tag != "opml" or root.find("body") is None:
        raise RegistryError("not an OPML file (no <opml><body>)")
    specs: list[FeedSpec] = []

    def walk(node: ElementTree.Element, context: str | None) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or "").strip()
            label = outline.get("title") or outline.get("text")
            if not url:
                walk(outline, label or context)
                continue
            section = _opml_section(outline.get("category"), context, sections)
            seconds = outline.get(_OPML_INTERVAL, "")
            specs.append(
                FeedSpec(
                    url=url,
                    section=section or fallback_section,
                    interval=timedelta(seconds=int(seconds)) if seconds.isdigit() else None,
                    full_text=outline.get(_OPML_FULL_TEXT, "").lower() == "true",
                )
            )

    walk(root.find("body"), None)  # type: ignore[arg-type]  # checked above
    return specs


def _opml_section(category: str | None, context: str | None, sections: SectionCatalog) -> str:
    for candidate in (*(category or "").replace(",", "/").split("/"), context or ""):
        found = sections.find(candidate) if candidate.strip() else None
        if found is not None:
            return found.slug
    return ""


# The sources file --------------------------------------------------------------------------


def read_sources_file(path: Path) -> list[FeedSpec]:
    """The feeds a TOML sources file declares:

    ```toml
    [sections.internasional]
    feeds = [
        "https://kabar.example/rss/dunia.xml",
        { url = "https://berita.example/feed", interval = "5m", full_text = true },
    ]
    ```

    Raises:
        RegistryError: the file cannot be read, or says something we cannot use (which, where).
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistryError(f"cannot read {path}: {error.strerror or error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RegistryError(f"{path} is not valid TOML: {error}") from error
    declared = document.get("sections")
    if not isinstance(declared, dict):
        raise RegistryError(f"{path}: no [sections.<slug>] tables with feeds")
    specs: list[FeedSpec] = []
    for section, table in declared.items():
        feeds = table.get("feeds", []) if isinstance(table, dict) else None
        if not isinstance(feeds, list):
            raise RegistryError(f"{path}: [sections.{section}] needs feeds = [...]")
        for number, entry in enumerate(feeds, start=1):
            where = f"{path}: sections.{section} feed {number}"
            specs.append(_spec_from_toml(entry, section, where))
    return specs


def _spec_from_toml(entry: object, section: str, where: str) -> FeedSpec:
    if isinstance(entry, str):
        return FeedSpec(url=entry, section=section)
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise RegistryError(f'{where}: a URL, or a table with url = "..."')
    interval = entry.get("interval")
    full_text = entry.get("full_text", False)
    if interval is not None and not isinstance(interval, str | int):
        raise RegistryError(f'{where}: interval must be like "10m"')
    if not isinstance(full_text, bool):
        raise RegistryError(f"{where}: full_text must be true or false")
    try:
        parsed = parse_interval(str(interval)) if interval is not None else None
    except RegistryError as error:
        raise RegistryError(f"{where}: {error}") from error
    return FeedSpec(url=entry["url"], section=section, interval=parsed, full_text=full_text)
