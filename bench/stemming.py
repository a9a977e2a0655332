"""Search-text processing in words per second: PyStemmer alone, and the index's full processing.

Usage: .venv/bin/python bench/stemming.py [--stories 50000] [--repeats 3] [--json PATH]

On the summaries of STORIES generated stories (bench/corpus.py): PyStemmer's `stemWords` on
the words already split and lower-cased (the stemmer alone), and `storage.search_text.index_text`
on each summary as stored (folding, splitting, stemming, joining: what indexing a story costs).
Best of REPEATS runs each; words are counted as the summaries' whitespace-separated words.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import Stemmer

# Run from anywhere, this script finds the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import stories
from bench.report import Row, add_json_option, at_least, publish
from storage.search_text import index_text

BENCHMARK = "search text"


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    add_json_option(parser)
    arguments = parser.parse_args()
    summaries = [story.summary for story in stories(arguments.stories)]
    words = [word.strip(".,").lower() for summary in summaries for word in summary.split()]
    stemmer = Stemmer.Stemmer("indonesian")
    size = f"{len(words):,} words ({arguments.stories:,} summaries)"
    stemming = best_seconds(lambda: stemmer.stemWords(words), arguments.repeats)
    indexing = best_seconds(lambda: [index_text(text) for text in summaries], arguments.repeats)
    rows = [
        Row(
            BENCHMARK,
            "PyStemmer stemWords alone",
            size,
            len(words) / stemming,
            "words/s",
            note=f"best of {arguments.repeats}",
        ),
        Row(
            BENCHMARK,
            "index_text (fold, split, stem, join)",
            size,
            len(words) / indexing,
            "words/s",
            target=">= 3,000,000/s",
            met=at_least(len(words) / indexing, 3_000_000),
            note=f"best of {arguments.repeats}; {stemming / indexing:.0%} of it stemming",
        ),
    ]
    publish(rows, title=f"{BENCHMARK}: {__doc__.splitlines()[0]}", json_path=arguments.json)


if __name__ == "__main__":
    main()
