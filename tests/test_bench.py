"""Every benchmark script runs, at the tiny size bench/all.py gives it, and prints its table.

No timing is judged here: a benchmark that rots (an entry point renamed, a figure no longer
produced) fails; a slow machine does not.
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.all import SCRIPTS
from bench.corpus import SECTIONS
from bench.queries import shapes
from bench.report import Row, read_rows

BENCH = Path(__file__).resolve().parent.parent / "bench"
SHAPES = (
    "rare word",
    "common word",
    "two words",
    "four words",
    "section + words",
    "section + 3 words, no match",
    "no words",
    "no match",
)
# The beginning of each row's label, in order, per script.
EXPECTED = {
    "stemming": ["PyStemmer stemWords alone", "index_text"],
    "ingest": [
        "ingest: newsbot ingest",
        "storing alone",
        "search, newest 5: rare word",
        "search, newest 5: common word",
        "search, newest 5: two words",
    ],
    "latest": [
        "build",
        "database file per 1,000,000 stories",
        *(f"/latest warm p99: {shape}" for shape in SHAPES),
        "newsbot run resident memory",
        "newsbot run peak memory",
    ],
    "fan-out": [
        "one story until its outbox rows are all written",
        "resident memory growth",
        "peak Python allocation",
        "subscribing",
        "newsbot run resident memory",
    ],
    "telegram": ["pacing 30/s: fraction of Telegram's 30/s"],
    "discord": ["pacing 50/s: fraction of the pacing"],
}


def _run(script: str, *arguments: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,  # anywhere: the scripts find the project themselves
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _run_tiny(name: str, tmp_path: Path) -> list[Row]:
    """Run one script at its tiny size; its rows, checked against what it must print."""
    script, tiny = SCRIPTS[name]
    rows_file = tmp_path / "rows.json"
    printed = _run(script, *tiny, "--json", str(rows_file), cwd=tmp_path)
    rows = read_rows(rows_file)
    assert len(rows) == len(EXPECTED[name])
    for row, label in zip(rows, EXPECTED[name], strict=True):
        assert row.what.startswith(label)
        assert row.ours is not None
        assert math.isfinite(row.ours)
        assert row.ours > 0 or row.unit == "MB"  # memory growth can be nothing
        # The table shows every row, under the machine line.
        assert f"{row.benchmark}  " in printed
        assert row.what in printed
    assert "cores; Python " in printed
    assert ", SQLite " in printed
    return rows


# The ingest benchmark runs once, in the test below, which also checks its comparison.
@pytest.mark.parametrize("name", [name for name in SCRIPTS if name != "ingest"])
def test_each_benchmark_runs_at_a_tiny_size_and_prints_its_rows(name: str, tmp_path: Path) -> None:
    _run_tiny(name, tmp_path)


def test_ingest_runs_and_compares_with_reader_when_it_is_installed_and_says_so_when_not(
    tmp_path: Path,
) -> None:
    ingest, _storing, *searches = _run_tiny("ingest", tmp_path)
    if importlib.util.find_spec("reader") is None:
        assert "reader not installed" in ingest.note
        assert all(row.peer is None for row in [ingest, *searches])
    else:
        assert ingest.peer is not None
        assert ingest.peer > 0
        assert "(60 entries)" in ingest.note  # reader stored every item of both files
        assert all(row.peer is not None for row in searches)


def test_the_query_shapes_match_what_their_names_say() -> None:
    from bench.corpus import stories  # noqa: PLC0415 - next to its only use

    by_name = {shape.name: shape for shape in shapes(stories(2_000))}
    assert tuple(by_name) == SHAPES
    assert by_name["no match"].share == 0
    assert by_name["section + 3 words, no match"].share == 0
    assert by_name["no words"].share == 1
    rare, common = by_name["rare word"].share, by_name["common word"].share
    assert rare is not None
    assert common is not None
    assert 0 < rare < common
    assert len(by_name["four words"].args.split()) == 4
    assert by_name["section + 3 words, no match"].args.split()[0] in SECTIONS


def test_all_gathers_the_scripts_rows_into_one_table(tmp_path: Path) -> None:
    # The two quickest scripts: each of them runs on its own above.
    printed = _run("all.py", "--tiny", "--only", "stemming,telegram", cwd=tmp_path)
    combined = printed[printed.index("# all benchmarks (tiny sizes)") :]
    for label in [*EXPECTED["stemming"], *EXPECTED["telegram"]]:
        assert label in combined
    assert "# took " in combined


def test_the_table_gives_the_ratio_and_whether_the_target_was_met() -> None:
    from bench.report import table  # noqa: PLC0415 - next to its only use

    printed = table(
        [
            Row("b", "faster", "1 story", 300.0, "x/s", peer=100.0, target=">= 2x", met=True),
            Row("b", "slower", "1 story", 2.0, "ms", target="<= 1 ms", met=False),
        ]
    )
    faster, slower = printed.splitlines()[2:]
    assert "300 x/s" in faster
    assert "100 x/s" in faster
    assert "3.00x" in faster  # ours / theirs
    assert "yes" in faster
    assert "NO" in slower
