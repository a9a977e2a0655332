"""The outcome of ingesting one input, as counted and as shown to a person."""

from __future__ import annotations

from dataclasses import dataclass

# A report line names this many rejection reasons and summarises the rest.
_REASONS_SHOWN = 3


@dataclass(frozen=True)
class InputReport:
    """What happened to one input.

    Attributes:
        location: the path or URL as given.
        ok: False when the input could not be read or parsed at all.
        kind: the detected format, None when unknown.
        new, updated, duplicate: how the stored drafts fared.
        rejected: one reason per item skipped.
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

    def line(self) -> str:
        """One human-readable line, e.g. ``"feed.xml: rss, 3 new, 1 duplicate, 0 updated,
        1 rejected (item 4: no title)"`` or ``"bad.xml: FAILED: HTTP 404"``."""
        if not self.ok:
            return f"{self.location}: FAILED: {self.error or 'unknown error'}"
        text = (
            f"{self.location}: {self.kind}, {self.new} new, {self.duplicate} duplicate, "
            f"{self.updated} updated, {len(self.rejected)} rejected"
        )
        if self.rejected:
            reasons = list(self.rejected[:_REASONS_SHOWN])
            if len(self.rejected) > _REASONS_SHOWN:
                reasons.append(f"+{len(self.rejected) - _REASONS_SHOWN} more")
            text += f" ({'; '.join(reasons)})"
        return text
