"""The one exception the ingest layer raises for an input it cannot use."""

from __future__ import annotations


class IngestError(Exception):
    """A whole input could not be read or parsed.

    `str(err)` is a short English reason meant for a report line, for example
    ``"XML declares entities (refused)"``, ``"HTTP 404"`` or ``"file not found"``.
    """
