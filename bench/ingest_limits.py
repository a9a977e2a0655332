"""What `newsbot ingest` stores, how long it takes and how much memory it needs on big inputs.

Usage: .venv/bin/python bench/ingest_limits.py [--stories 100000] [--baseline DIR]

Runs the real `newsbot ingest` (as `python -m bot`, one process per case, each on a fresh
database) on generated inputs and reads each process's peak resident memory from the kernel,
and the peak of its whole process tree (the parsing processes included; proportional set
sizes, sampled from /proc every 50 ms):
- a JSON Lines file of 15,000 stories (under 10 MB, which any version reads), one of N stories,
  an RSS file of N items (local files have no item limit), and N items in 8 RSS files (parsed
  in worker processes while the main process stores);
- a JSON Lines file with one 50 MB line between two small ones, at the default byte limit
  (the line is skipped without being read into memory) and with the limit raised past it.

--baseline DIR runs the same cases against another checkout of newsbot (e.g. a `git worktree`
of an earlier commit), in the same run, so that the figures compare on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_jsonl(path: Path, count: int) -> Path:
    start = datetime.now(UTC) - timedelta(days=3)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            record = {
                "id": f"bench-{n}",
                "title": f"Pemerintah umumkan kebijakan baru nomor {n}",
                "body": f"Kebijakan nomor {n} berlaku bulan depan. " * 8,
                "section": "nasional",
                "published_at": (start + timedelta(seconds=n)).isoformat(),
            }
            out.write(json.dumps(record) + "\n")
    return path


def write_rss(path: Path, count: int, *, first: int = 0) -> Path:
    """An RSS file of `count` items; `first` tells files apart (each its own feed title)."""
    start = datetime.now(UTC) - timedelta(days=3)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>')
        out.write(f"<title>Bench {first}</title>")
        for n in range(first * count, (first + 1) * count):
            published = format_datetime(start + timedelta(seconds=n))
            out.write(
                f'<item><guid isPermaLink="false">bench-{n}</guid>'
                f"<title>Harga pangan hari ke-{n}</title><category>Ekonomi</category>"
                f"<description>Harga beras dan cabai hari ke-{n} stabil.</description>"
                f"<pubDate>{published}</pubDate></item>"
            )
        out.write("</channel></rss>")
    return path


def write_huge_line(path: Path) -> Path:
    # Written in pieces: this process stays small, and a child's peak memory as the kernel
    # reports it starts from its parent's (exec keeps the high-water mark).
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"title": "Sebelum", "body": "x"}) + "\n")
        out.write('{"title": "Raksasa", "body": "')
        for _ in range(100):
            out.write("kata " * 100_000)
        out.write('"}\n')
        out.write(json.dumps({"title": "Sesudah", "body": "y"}) + "\n")
    return path


def _proc_field(path: str, name: str) -> int | None:
    """The number after `name:` in a /proc file, or None (the process ended meanwhile)."""
    try:
        with open(path, encoding="ascii") as lines:
            for line in lines:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _tree_pss_kib(root: int) -> int:
    """The memory of `root` and every process under it, in KiB, from /proc: proportional set
    sizes, so that pages the parsing processes share with their server count once."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            ppid = _proc_field(f"/proc/{entry.name}/status", "PPid")
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _proc_field(f"/proc/{pid}/smaps_rollup", "Pss") or 0
        stack.extend(children.get(pid, []))
    return total


def _sample_tree(root: int, done: threading.Event, peak: list[int]) -> None:
    """Keep in `peak[0]` the largest resident memory of `root`'s tree, every 50 ms."""
    while not done.wait(0.05):
        peak[0] = max(peak[0], _tree_pss_kib(root))


def run_case(
    checkout: Path, sources: list[Path], work: Path, env: dict[str, str]
) -> dict[str, object]:
    """One `newsbot ingest` on a fresh database: seconds, peak RSS (the process's and its
    tree's), exit code, the first input's report line."""
    database = work / f"case-{time.monotonic_ns()}.db"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    environment |= {"NEWSBOT_DATABASE": str(database), "NEWSBOT_LOG_LEVEL": "WARNING", **env}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", *map(str, sources)],
        cwd=checkout,  # `python -m bot` imports the checkout it runs in
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # an older newsbot reported on stderr
        text=True,
    )
    done, tree_peak = threading.Event(), [0]
    sampler = threading.Thread(target=_sample_tree, args=(process.pid, done, tree_peak))
    sampler.start()
    output = process.stdout.read() if process.stdout else ""
    done.set()
    sampler.join()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    first = sources[0]
    reports = [line for line in output.splitlines() if line.startswith(f"{first}: ")]
    if len(sources) > 1:
        # The totals line: "<database>: 100000 new, ..."
        reports = [f"{first}: {output.strip().splitlines()[-1].partition(': ')[2]}"]
    return {
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "tree_mb": tree_peak[0] / 1024,
        "exit": os.waitstatus_to_exitcode(status),
        "report": reports[0][len(str(first)) + 2 :][:160] if reports else output[-160:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--baseline", type=Path, help="another newsbot checkout to compare")
    arguments = parser.parse_args()
    checkouts = {"this": ROOT}
    if arguments.baseline:
        checkouts["baseline"] = arguments.baseline.resolve()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        print(f"generating inputs ({arguments.stories} stories) in {work} ...", flush=True)
        cases = [
            # Small enough for a newsbot that refused local files over 10 MB.
            ("JSON Lines, 15000 stories", [write_jsonl(work / "some.jsonl", 15_000)], {}),
            (
                f"JSON Lines, {arguments.stories} stories",
                [write_jsonl(work / "many.jsonl", arguments.stories)],
                {},
            ),
            (
                f"RSS, {arguments.stories} items",
                [write_rss(work / "many.xml", arguments.stories)],
                {},
            ),
            (
                f"RSS, {arguments.stories} items in 8 files",
                [
                    write_rss(work / f"part-{part}.xml", arguments.stories // 8, first=part)
                    for part in range(8)
                ],
                {},
            ),
            ("JSON Lines with a 50 MB line", [write_huge_line(work / "huge.jsonl")], {}),
            (
                "the same, NEWSBOT_INGEST_MAX_BYTES=60000000",
                [work / "huge.jsonl"],
                {"NEWSBOT_INGEST_MAX_BYTES": "60000000"},
            ),
        ]
        for name, sources, env in cases:
            size = sum(source.stat().st_size for source in sources) / 1e6
            print(f"\n{name} ({size:.0f} MB)")
            for label, checkout in checkouts.items():
                result = run_case(checkout, sources, work, env)
                print(
                    f"  {label:8} exit {result['exit']}, {result['seconds']:6.1f} s, "
                    f"peak {result['peak_mb']:6.0f} MB (tree {result['tree_mb']:4.0f} MB): "
                    f"{result['report']}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
