"""Hostile and broken inputs: refused quickly, nothing expanded, nothing local read."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import bot.ingest.feeds
from bot.ingest.errors import IngestError
from bot.ingest.runner import parse_document

if TYPE_CHECKING:
    from conftest import DocFactory, RecordingResolver

NOW = datetime(2024, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def feed_parser_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a hostile document ever reaches the feed parser."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the feed parser was handed a document that should have been refused")

    monkeypatch.setattr(bot.ingest.feeds.fastfeedparser, "parse", refuse)


@pytest.mark.usefixtures("feed_parser_forbidden")
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("billion_laughs.xml", "XML declares entities (refused)"),
        ("quadratic_blowup.xml", "XML declares entities (refused)"),
        ("external_entity.xml", "XML declares an external entity (refused)"),
        ("external_dtd.xml", "XML references an external DTD (refused)"),
        ("invalid_utf8.xml", "not valid UTF-8 at byte 173"),
        ("truncated.xml", "truncated XML: unclosed token: line 12, column 16"),
        ("empty.xml", "empty input"),
        ("whitespace_only.jsonl", "empty input"),
        ("binary.bin", "binary data, not a feed, web page or JSON Lines"),
    ],
)
def test_hostile_input_is_refused_quickly(
    fixture_doc: DocFactory, resolver: RecordingResolver, name: str, reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(IngestError) as caught:
        parse_document(fixture_doc(name), resolve_section=resolver, now=NOW)
    assert str(caught.value) == reason
    assert time.monotonic() - started < 2.0
    assert resolver.calls == []


def test_external_entity_never_reads_the_local_file(
    fixture_doc: DocFactory, resolver: RecordingResolver
) -> None:
    secret = Path("/etc/passwd")
    with pytest.raises(IngestError) as caught:
        parse_document(fixture_doc("external_entity.xml"), resolve_section=resolver, now=NOW)
    message = str(caught.value)
    assert "refused" in message
    if secret.exists():
        first_line = secret.read_text().splitlines()[0]
        assert first_line not in message
        assert first_line not in repr(caught.value.__context__)


def test_a_parameter_entity_pointing_outside_is_refused(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % luar SYSTEM "http://127.0.0.1:9/x">'
        " %luar;]><rss><channel><title>x</title></channel></rss>"
    )
    with pytest.raises(IngestError, match="refused"):
        parse_document(make_doc(xml), resolve_section=resolver, now=NOW)


def test_an_internal_dtd_without_entities_is_allowed(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ELEMENT rss ANY>]>'
        "<rss><channel><title>x</title><item><title>Boleh</title></item></channel></rss>"
    )
    parsed = parse_document(make_doc(xml), resolve_section=resolver, now=NOW)
    assert [d.title for d in parsed.drafts] == ["Boleh"]


def test_html_named_entities_are_not_rewritten_when_a_doctype_is_present(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    xml = '<?xml version="1.0"?><!DOCTYPE rss [<!ELEMENT rss ANY>]><rss>&nbsp;</rss>'
    with pytest.raises(IngestError, match=r"^malformed XML: undefined entity: line 1"):
        parse_document(make_doc(xml), resolve_section=resolver, now=NOW)


def test_malformed_xml_reports_its_position(
    make_doc: DocFactory, resolver: RecordingResolver
) -> None:
    xml = "\n\n<?xml version='1.0'?>\n<rss>\n<channel></rss>"
    with pytest.raises(IngestError) as caught:
        parse_document(make_doc(xml), resolve_section=resolver, now=NOW)
    # Line numbers count the blank lines the screen trimmed off the front.
    assert str(caught.value) == "malformed XML: mismatched tag: line 5, column 11"


def test_xml_that_is_not_a_feed(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    with pytest.raises(IngestError, match=r"^XML root <catalog> is not an RSS or Atom feed$"):
        parse_document(
            make_doc("<?xml version='1.0'?><catalog/>"), resolve_section=resolver, now=NOW
        )


def test_unrecognised_text(make_doc: DocFactory, resolver: RecordingResolver) -> None:
    with pytest.raises(IngestError, match=r"^unrecognised format"):
        parse_document(make_doc("just some words\nmore words"), resolve_section=resolver, now=NOW)
