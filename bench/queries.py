"""The /latest query shapes the benchmarks time, with their words chosen from the corpus itself.

Words are picked by how many stories of a sample contain them (after the search's own stemming),
so that "rare" and "common" stay true whatever the generator's word lists become. Words that
name a section are left out: /latest would read them as the section.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bench.corpus import Story
from bot.settings import Settings
from storage.search_text import COMMON_WORDS, terms, words

# Not in the generator's lists, and no stem of theirs.
ABSENT_WORD = "kapalselam"


@dataclass(frozen=True, slots=True)
class Shape:
    """One kind of /latest query: its name and what the reader types after /latest."""

    name: str
    args: str
    # Which share of the sample's stories it matches (None: not worked out).
    share: float | None = None


def _section_words() -> set[str]:
    """Every word of a configured section's slug, names or aliases."""
    found: set[str] = set()
    for section in Settings(_env_file=None).sections:  # type: ignore[call-arg]  # init-only option
        for label in (section.slug, section.name_id, section.name_en, *section.aliases):
            found.update(words(label))
    return found


def shapes(sample: Iterable[Story]) -> list[Shape]:
    """The eight shapes, with words chosen from `sample` (a few thousand stories)."""
    stories = list(sample)
    stems_of: dict[str, set[str]] = {}
    documents: Counter[str] = Counter()  # word -> stories containing it
    sections_of: defaultdict[str, set[str]] = defaultdict(set)  # stem -> sections it occurs in
    story_stems: list[tuple[str, set[str]]] = []
    for story in stories:
        seen = set(words(f"{story.title} {story.summary}"))
        stems: set[str] = set()
        for word in seen:
            if word not in stems_of:
                stems_of[word] = set(terms(word))
            stems |= stems_of[word]
        documents.update(seen)
        for stem in stems:
            sections_of[stem].add(story.section)
        story_stems.append((story.section, stems))
    excluded = _section_words() | COMMON_WORDS
    candidates = [
        word
        for word, _count in documents.most_common()
        if word not in excluded and len(stems_of[word]) == 1 and len(word) > 3
    ]
    common = candidates[:4]
    # The rarest that is still in a fair number of stories, so that the whole corpus has it.
    rare = next(word for word in reversed(candidates) if documents[word] >= 5)
    # Words of one section only, by stem: in any other section they match nothing.
    own: defaultdict[str, list[str]] = defaultdict(list)
    for word in candidates:
        [stem] = stems_of[word]
        if len(sections_of[stem]) == 1:
            own[next(iter(sections_of[stem]))].append(word)
    section = next(name for name in sorted(own) if len(own[name]) >= 2)
    in_section = own[section][:2]
    elsewhere = [own[other][0] for other in sorted(own) if other != section][:3]

    def share(section_filter: str | None, query_words: list[str]) -> float:
        wanted = {stem for word in query_words for stem in stems_of.get(word, terms(word))}
        hits = sum(
            1
            for story_section, stems in story_stems
            if section_filter in (None, story_section) and wanted <= stems
        )
        return hits / len(story_stems)

    def shape(name: str, section_filter: str | None, query_words: list[str]) -> Shape:
        args = " ".join(([section_filter] if section_filter else []) + query_words)
        return Shape(name, args, share(section_filter, query_words))

    return [
        shape("rare word", None, [rare]),
        shape("common word", None, common[:1]),
        shape("two words", None, common[:2]),
        shape("four words", None, common[:4]),
        shape("section + words", section, in_section),
        shape("section + 3 words, no match", section, elsewhere),
        shape("no words", None, []),
        shape("no match", None, [ABSENT_WORD]),
    ]
