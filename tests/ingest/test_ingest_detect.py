"""Format detection: content first, Content-Type and extension only as hints."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.ingest.detect import detect
from bot.ingest.errors import IngestError

if TYPE_CHECKING:
    from conftest import DocFactory

RSS = '<rss version="2.0"><channel><title>x</title></channel></rss>'


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (RSS, "rss"),
        ("\n  <?xml version='1.0'?>" + RSS, "rss"),
        ("<!-- komentar <html> --><rss><channel/></rss>", "rss"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', "atom"),
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        ("<html><body><p>x</p></body></html>", "html"),
        (
            "<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><body/></html>",
            "html",
        ),
        ('{"title": "x"}\n', "jsonl"),
    ],
)
def test_content_decides(make_doc: DocFactory, content: str, kind: str) -> None:
    assert detect(make_doc(content)).kind == kind


@pytest.mark.parametrize(
    ("location", "content_type", "kind"),
    [
        ("berita.jsonl", None, "jsonl"),
        ("berita.ndjson", None, "jsonl"),
        ("https://x.example.id/api", "application/x-ndjson", "jsonl"),
        ("halaman.html", None, "html"),
    ],
)
def test_hints_decide_when_the_content_cannot(
    make_doc: DocFactory, location: str, content_type: str | None, kind: str
) -> None:
    doc = make_doc(
        "baris rusak\n",
        location=location,
        content_type=content_type,
        base_url=location if location.startswith("https") else None,
    )
    assert detect(doc).kind == kind


def test_an_xml_hint_on_junk_reports_the_xml_error(make_doc: DocFactory) -> None:
    with pytest.raises(IngestError, match=r"^malformed XML: syntax error: line 1, column 0$"):
        detect(make_doc("bukan xml", location="feed.xml"))


def test_content_type_beats_extension(make_doc: DocFactory) -> None:
    doc = make_doc(
        "baris rusak",
        location="https://x.example.id/feed.xml",
        content_type="text/html; charset=utf-8",
        base_url="https://x.example.id/feed.xml",
    )
    assert detect(doc).kind == "html"


def test_feed_bytes_passed_on_are_the_screened_ones(make_doc: DocFactory) -> None:
    detected = detect(make_doc("\n\n<?xml version='1.0'?><rss>&nbsp;</rss>"))
    assert detected.data == b"<?xml version='1.0'?><rss>&#160;</rss>"
