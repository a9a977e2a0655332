"""The section catalog: names, aliases of several words, `#section`, and feed categories."""

from __future__ import annotations

import pytest

from bot.sections import SectionCatalog
from bot.settings import DEFAULT_SECTIONS
from storage.models import Section


@pytest.fixture
def catalog() -> SectionCatalog:
    """The default sections, as a fresh install has them."""
    return SectionCatalog([s.to_section() for s in DEFAULT_SECTIONS], fallback="umum")


def _slug(section: Section | None) -> str | None:
    return section.slug if section else None


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("ekonomi", "ekonomi"),
        ("#ekonomi", "ekonomi"),
        ("##Ekonomi", "ekonomi"),
        ("Economy", "ekonomi"),
        ("#economy", "ekonomi"),
        ("dalam negeri", "nasional"),
        ("Dalam  Negeri", "nasional"),
        ("dalam-negeri", "nasional"),
        ("#dalam_negeri", "nasional"),
        ("Sepak Bola", "olahraga"),
        ("luar negeri", "internasional"),
        ("Berita Terkini", "breaking"),
        ("#breaking", "breaking"),
        ("négeri dalam", None),
        ("dalam", None),
        ("#", None),
        ("🙂", None),
        ("", None),
    ],
)
def test_find_reads_names_aliases_and_hashes(
    catalog: SectionCatalog, name: str, slug: str | None
) -> None:
    assert _slug(catalog.find(name)) == slug


def test_named_in_takes_the_longest_name_and_commas_separate(catalog: SectionCatalog) -> None:
    named = catalog.named_in("dalam negeri, #ekonomi sepak bola,olahraga")
    assert [(name, _slug(section)) for name, section in named] == [
        ("dalam negeri", "nasional"),
        ("#ekonomi", "ekonomi"),
        ("sepak bola", "olahraga"),
        ("olahraga", "olahraga"),
    ]


def test_named_in_gives_back_the_words_that_name_nothing(catalog: SectionCatalog) -> None:
    named = catalog.named_in("nasional sihir hitam ekonomi, dalam")
    assert [(name, _slug(section)) for name, section in named] == [
        ("nasional", "nasional"),
        ("sihir hitam", None),
        ("ekonomi", "ekonomi"),
        ("dalam", None),
    ]
    # A comma ends a name: "sepak, bola" is two words, and "bola" alone is an alias.
    assert [_slug(section) for _, section in catalog.named_in("sepak, bola")] == [
        None,
        "olahraga",
    ]
    assert catalog.named_in(" , ,") == []


@pytest.mark.parametrize(
    ("categories", "slug"),
    [
        (["Sepak Bola"], "olahraga"),
        (["Berita Sepak Bola Nasional"], "olahraga"),  # the longest phrase wins
        (["Nasional Sepak Bola"], "olahraga"),  # wherever it stands
        (["Ekonomi Dunia"], "ekonomi"),  # one word each: the earliest wins
        (["Dunia Ekonomi"], "internasional"),
        (["Kabar Luar Negeri Hari Ini"], "internasional"),
        (["Berita Dalam Negeri"], "nasional"),
        (["Bisnis & Keuangan"], "ekonomi"),
        (["Teknologi/Sains"], "teknologi"),
        # A category that is a name wins over one that only contains a name, in any order.
        (["Berita Sepak Bola", "Ekonomi"], "ekonomi"),
        # Otherwise the first category that contains a name decides.
        (["Liputan Khusus", "Kabar Ekonomi", "Kabar Olahraga"], "ekonomi"),
        (["Ekonomi", "Olahraga"], "ekonomi"),
        (["Ragam", "Cerita"], "umum"),  # no name anywhere: the fallback
        ([], "umum"),
        (["🙂", ""], "umum"),
    ],
)
def test_categories_map_to_sections_by_names_of_several_words(
    catalog: SectionCatalog, categories: list[str], slug: str
) -> None:
    assert catalog.for_categories(categories) == slug


def test_a_category_needs_the_whole_phrase_not_part_of_a_word(catalog: SectionCatalog) -> None:
    # "Bolanya" is not "bola", and "sepak" alone names nothing.
    assert catalog.for_categories(["Sepak Bolanya"]) == "umum"
    assert catalog.for_categories(["Sepak Takraw"]) == "umum"


def test_aliases_leave_out_the_slug_the_shown_name_and_words_of_another_section() -> None:
    catalog = SectionCatalog(
        [
            Section("nasional", "Nasional", "National", ("indonesia", "dalam negeri")),
            Section("daerah", "Daerah", "Regions", ("Indonesia", "nusantara", "DAERAH")),
            Section("breaking", "Berita Terkini", "Breaking News", ("terkini",)),
        ],
        fallback="nasional",
    )
    nasional, daerah, breaking = catalog.all()
    assert catalog.aliases(nasional, "id") == ("National", "indonesia", "dalam negeri")
    assert catalog.aliases(nasional, "en") == ("indonesia", "dalam negeri")  # Nasional: slug
    # "Indonesia" already finds nasional, and "DAERAH" is the slug again.
    assert catalog.aliases(daerah, "id") == ("Regions", "nusantara")
    assert catalog.aliases(breaking, "id") == ("Breaking News", "terkini")
