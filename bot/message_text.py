"""Long text as messages under a platform's length limit: what every adapter's renderer needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def pack_blocks(
    blocks: Sequence[str],
    limit: int,
    *,
    separator: str = "\n\n",
    length: Callable[[str], int] = len,
) -> list[str]:
    """Blocks joined by `separator` into as few texts within `limit` as fit, in order, never
    splitting a block; `length` measures as the platform counts (Telegram: UTF-16 units)."""
    packed: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if current and length(candidate) > limit:
            packed.append(current)
            current = block
        else:
            current = candidate
    if current:
        packed.append(current)
    return packed
