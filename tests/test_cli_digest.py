"""Quiet hours and digests through `newsbot` commands, on the real clock: a reader's chat,
an operator's ingest, and the reader's mistakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.support import Newsbot

WIB = ZoneInfo("Asia/Jakarta")


def _stories(path: Path, titles: list[str]) -> Path:
    """A JSON Lines file of economy stories published a minute ago."""
    published = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    path.write_text(
        "".join(
            json.dumps(
                {"title": title, "body": f"{title}. Rincian menyusul.", "section": "ekonomi"}
                | {"published_at": published}
            )
            + "\n"
            for title in titles
        ),
        encoding="utf-8",
    )
    return path


def test_quiet_hours_hold_an_ingest_until_the_reader_turns_them_off(tmp_path: Path) -> None:
    newsbot = Newsbot(tmp_path)
    now = datetime.now(WIB)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    hours = f"{start:%H:%M}-{end:%H:%M}"

    # The reader's mistakes first: answered, nothing changed, the chat goes on.
    out = newsbot.chat(
        f"/subscribe ekonomi\n/quiet {start:%H:%M}\n/digest 25:00\n/quiet {hours}\n"
    )
    assert "Cara pakai: /quiet <mulai-selesai" in out
    assert 'Jam "25:00" tidak dapat dibaca.' in out
    assert f"Jam tenang {start:%H:%M}\u2013{end:%H:%M} WIB" in out

    ingested = newsbot("ingest", str(_stories(tmp_path / "pagi.jsonl", ["Kurs rupiah", "IHSG"])))
    assert ingested.returncode == 0, ingested.stderr

    # During the quiet hours the chat shows nothing of them, however often it is opened.
    for _ in range(2):
        out = newsbot.chat("/subscriptions\n")
        assert out == (
            "Langganan: Ekonomi\n\n"
            "Pengiriman: langsung, setiap ada berita baru.\n"
            f"Jam tenang: {start:%H:%M}\u2013{end:%H:%M} WIB.\n\n"
        )

    out = newsbot.chat("/quiet off\n")
    assert out.startswith(
        "Jam tenang dimatikan.\n2 berita yang tertahan segera dikirim sebagai satu ringkasan.\n\n"
        "Ringkasan berita, "
    )
    assert ": 2 berita\n\nEkonomi\n" in out
    assert "Kurs rupiah [Baca: /read 1]" in out
    assert "IHSG [Baca: /read 2]" in out
    # Delivered once: the next chat has nothing more to show.
    assert newsbot.chat("") == ""
