"""The table every benchmark prints: the machine it ran on, then one row per figure.

A row holds our figure, the peer's where there is one (and their ratio, ours/theirs), and the
target with whether it was met. `--json PATH` also writes the rows as JSON, which is how
bench/all.py gathers every script's rows into one table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Row:
    """One figure of a benchmark."""

    benchmark: str
    what: str
    size: str
    ours: float | None
    unit: str
    peer: float | None = None
    target: str = ""
    # None where there is no target, or no figure to judge.
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Ours / theirs, where both are there."""
        if self.ours is None or not self.peer:
            return None
        return self.ours / self.peer


def at_least(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def at_most(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: CPU model, cores, Python and SQLite versions, date (UTC)."""
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def number(value: float | None) -> str:
    """A figure with as many digits as it deserves."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


_HEADERS = ("benchmark", "what", "size", "ours", "peer", "ours/peer", "target", "met", "note")


def table(rows: list[Row]) -> str:
    """The rows as an aligned text table."""
    cells = [
        (
            row.benchmark,
            row.what,
            row.size,
            f"{number(row.ours)} {row.unit}".strip(),
            f"{number(row.peer)} {row.unit}".strip() if row.peer is not None else "",
            f"{number(row.ratio)}x" if row.ratio is not None else "",
            row.target,
            {True: "yes", False: "NO", None: ""}[row.met],
            row.note,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [_HEADERS, *cells]) for i in range(len(_HEADERS))]

    def line(values: tuple[str, ...]) -> str:
        cells_ = zip(values, widths, strict=True)
        return "  ".join(value.ljust(width) for value, width in cells_).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(_HEADERS), rule, *(line(row) for row in cells)])


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")


def publish(rows: list[Row], *, title: str, json_path: Path | None) -> None:
    """Print the machine line and the table; write the rows to `json_path` if given."""
    print(f"\n# {title}\n# {machine()}\n{table(rows)}", flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps([asdict(row) for row in rows], indent=1), "utf-8")


def read_rows(path: Path) -> list[Row]:
    """The rows a script wrote with `--json`."""
    return [Row(**fields) for fields in json.loads(path.read_text("utf-8"))]
