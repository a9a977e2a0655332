"""Every benchmark at full size, one after another, then one table of all their figures.

Usage: .venv/bin/python bench/all.py [--tiny] [--only NAME,...]

Each script runs in its own process (as `make bench` runs this), its output shown as it goes;
its rows come back through its `--json` file. `--tiny` runs each at the small size the tests use
(a check that they work, not a measurement); `--only` picks scripts by name (see SCRIPTS).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run from anywhere, this script finds the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Row, publish, read_rows

BENCH = Path(__file__).resolve().parent

# Name -> (script, tiny arguments). Full size is each script's default.
SCRIPTS: dict[str, tuple[str, list[str]]] = {
    "stemming": ("stemming.py", ["--stories", "200", "--repeats", "1"]),
    "ingest": ("ingest.py", ["--files", "2", "--per-file", "30", "--searches", "3"]),
    "latest": ("latest.py", ["--stories", "300", "--batch", "100", "--queries", "3"]),
    "fan-out": ("fan_out.py", ["--chats", "100"]),
    "telegram": (
        "telegram_broadcast.py",
        ["--private", "8", "--groups", "2", "--rates", "30", "--latency", "0.01"],
    ),
    "discord": ("discord_broadcast.py", ["--channels", "5", "--rates", "50", "--latency", "0.01"]),
}


def run(name: str, *, tiny: bool, scratch: Path) -> tuple[list[Row], float]:
    """One script in its own process: its rows and the seconds it took."""
    script, tiny_arguments = SCRIPTS[name]
    rows_file = scratch / f"{name}.json"
    command = [sys.executable, str(BENCH / script), "--json", str(rows_file)]
    print(f"\n## {name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command + (tiny_arguments if tiny else []), check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{script} failed with exit code {result.returncode}")
    return read_rows(rows_file), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the tests' sizes: a quick check")
    parser.add_argument("--only", help=f"comma-separated, among: {', '.join(SCRIPTS)}")
    arguments = parser.parse_args()
    names = arguments.only.split(",") if arguments.only else list(SCRIPTS)
    unknown = [name for name in names if name not in SCRIPTS]
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}")
    started = time.monotonic()
    rows: list[Row] = []
    took = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            script_rows, seconds = run(name, tiny=arguments.tiny, scratch=Path(scratch))
            rows += script_rows
            took.append(f"{name} {seconds:.0f} s")
    total = time.monotonic() - started
    title = "all benchmarks" + (" (tiny sizes)" if arguments.tiny else "")
    publish(rows, title=title, json_path=None)
    print(f"# took {total:.0f} s in all: {', '.join(took)}")


if __name__ == "__main__":
    main()
