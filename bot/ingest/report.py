"""The outcome of ingesting one input, as counted and as shown to a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.ingest.drafts import Skipped

# A report line names this many reasons of each kind and summarises the rest.
_REASONS_SHOWN = 3


def _listed(reasons: Sequence[str]) -> str:
    """` (a; b; c; +2 more)`, or nothing for no reasons."""
    if not reasons:
        return ""
    shown = list(reasons[:_REASONS_SHOWN])
    if len(reasons) > _REASONS_SHOWN:
        shown.append(f"+{len(reasons) - _REASONS_SHOWN} more")
    return f" ({'; '.join(shown)})"


@dataclass(frozen=True)
class InputReport:
    """What happened to one input.

    Attributes:
        location: the path or URL as given.
        ok: False when the input could not be read or parsed at all.
        kind: the detected format, None when unknown.
        new, updated, duplicate: how the stored drafts fared (before a failure, if it failed).
        rejected: one reason per item that could not be a story.
        notes: what was changed in stored stories and why (an unreadable date, say).
        cut: the items whose body was cut to NEWSBOT_INGEST_MAX_BODY_CHARS.
        skipped: stories not read at all because of a limit, and which setting it is.
        error: the reason the input failed, when `ok` is False.
    """

    location: str
    ok: bool
    kind: str | None
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    rejected: tuple[str, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()
    cut: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def skipped_count(self) -> int:
        """How many stories a limit kept out."""
        return sum(part.count for part in self.skipped)

    @property
    def complete(self) -> bool:
        """The input was read and no story in it was skipped for a limit."""
        return self.ok and not self.skipped

    def line(self) -> str:
        """One human-readable line, e.g. ``"feed.xml: rss, 3 new, 1 duplicate, 0 updated,
        1 rejected (item 4: no title)"`` or ``"bad.xml: FAILED: HTTP 404"``."""
        if not self.ok:
            text = f"{self.location}: FAILED: {self.error or 'unknown error'}"
            if self.new or self.updated or self.duplicate:
                text += (
                    f" (after {self.new} new, {self.duplicate} duplicate, {self.updated} updated"
                    " were stored)"
                )
            return text
        text = (
            f"{self.location}: {self.kind}, {self.new} new, {self.duplicate} duplicate, "
            f"{self.updated} updated, {len(self.rejected)} rejected{_listed(self.rejected)}"
        )
        if self.skipped:
            details = [part.detail for part in self.skipped]
            text += f", {self.skipped_count} skipped{_listed(details)}"
        if self.cut:
            items = ", ".join(self.cut[:_REASONS_SHOWN])
            more = (
                f" +{len(self.cut) - _REASONS_SHOWN} more"
                if len(self.cut) > _REASONS_SHOWN
                else ""
            )
            text += (
                f", {len(self.cut)} cut ({items}{more}: body longer than "
                "NEWSBOT_INGEST_MAX_BODY_CHARS characters)"
            )
        if self.notes:
            text += f", {len(self.notes)} with notes{_listed(self.notes)}"
        return text


def totals_line(reports: Sequence[InputReport], database: str) -> str:
    """The last line of an ingest: where the stories went, and the sums over every input."""
    failed = sum(1 for report in reports if not report.ok)
    inputs = f"{len(reports)} input{'s' if len(reports) != 1 else ''}"
    if failed:
        inputs += f", {failed} failed"
    return (
        f"{database}: {sum(r.new for r in reports)} new, "
        f"{sum(r.duplicate for r in reports)} duplicate, {sum(r.updated for r in reports)} "
        f"updated, {sum(len(r.rejected) for r in reports)} rejected, "
        f"{sum(r.skipped_count for r in reports)} skipped ({inputs})"
    )


def interrupted_line(reports: Sequence[InputReport], total: int, database: str, cause: str) -> str:
    """The last line of an ingest stopped by `cause` (a signal's name), in place of the totals:
    what was stored, from how many of the `total` inputs (the last of `reports` in part)."""
    return (
        f"{database}: interrupted by {cause}: {sum(r.new for r in reports)} new, "
        f"{sum(r.duplicate for r in reports)} duplicate, {sum(r.updated for r in reports)} "
        f"updated were stored from {len(reports)} of {total} input{'s' if total != 1 else ''}; "
        "the same command again stores the rest"
    )
