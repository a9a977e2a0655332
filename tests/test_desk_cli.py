"""The breaking-news desk at a piped console, as an admin runs it: `newsbot chat` runs on one
database, a draft in one run and its Send in the next."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support import Newsbot, console_draft_code


@pytest.fixture
def newsbot(tmp_path: Path) -> Newsbot:
    return Newsbot(tmp_path)


def _blocks(output: str) -> list[str]:
    """What a console chat printed, one answer or push per block."""
    return [block for block in output.strip().split("\n\n") if block]


def test_draft_then_send_in_another_run_and_the_counters_at_the_end(newsbot: Newsbot) -> None:
    newsbot.chat("/subscribe breaking\n", "--chat", "redaksi")

    preview = newsbot.chat("/breaking #nasional Gempa di Palu | Gempa M6 di Palu.\n", "--admin")
    code = console_draft_code(preview)
    card, effect, buttons = _blocks(preview)
    # The push card as readers will see it, with no number yet and nothing to read.
    title, when, summary = card.splitlines()
    assert (title, summary) == ("[BERITA TERKINI] Gempa di Palu", "   Gempa M6 di Palu.")
    assert when.startswith("   Nasional · ")
    assert when.endswith(" WIB")
    assert effect.startswith(f"Akan dikirim ke 1 chat: konsol 1.\nDraf {code}, belum dikirim.")
    assert buttons == f"[Kirim: /confirm {code}]  [Batal: /cancel {code}]"
    assert newsbot.chat("/latest gempa\n").startswith("Tidak ada berita")

    sent = newsbot.chat(f"/confirm {code}\n", "--admin")
    # The answer, then (the redaksi chat not having run yet) that the counters still stand
    # there: the answer is not printed twice.
    assert _blocks(sent) == [
        "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 1 chat.\n"
        "Antre 1 · terkirim 0 · gagal 0 · chat hilang 0",
        "Pengiriman masih berjalan; lihat /status 1.",
    ]
    assert "#1 [BERITA TERKINI] Gempa di Palu" in newsbot.chat("", "--chat", "redaksi")
    again = newsbot.chat(f"/confirm {code}\n", "--admin")
    assert again.startswith(f"Draf {code} sudah dikirim sebagai berita #1.")
    assert newsbot.chat("", "--chat", "redaksi") == ""  # sent once


def test_a_story_the_admins_own_chat_receives_ends_with_the_final_counters(
    newsbot: Newsbot,
) -> None:
    newsbot.chat("/subscribe breaking\n", "--admin")
    _preview, sent = newsbot.post_breaking("Banjir Demak | Air setinggi 1 meter.")
    blocks = _blocks(sent)
    assert blocks[0].endswith("Antre 1 · terkirim 0 · gagal 0 · chat hilang 0")
    assert blocks[1].startswith("#1 [BERITA TERKINI] Banjir Demak")  # the push itself
    assert blocks[-1] == "Selesai: terkirim 1 · gagal 0 · chat hilang 0. Rincian: /status 1"
    assert len(blocks) == 4  # the answer, the push (its card, its button), the counters


def test_a_cancelled_or_expired_draft_sends_nothing(newsbot: Newsbot) -> None:
    newsbot.chat("/subscribe breaking\n", "--chat", "redaksi")
    cancelled = console_draft_code(newsbot.chat("/breaking Uji | Batal.\n", "--admin"))
    assert newsbot.chat(f"/cancel {cancelled}\n", "--admin") == (
        f"Draf {cancelled} dibatalkan; tidak ada yang dikirim.\n\n"
    )
    assert "sudah dibatalkan" in newsbot.chat(f"/confirm {cancelled}\n", "--admin")

    quick = {"NEWSBOT_DRAFT_TTL_MINUTES": "0.005"}  # 0.3 seconds
    preview = newsbot.chat("/breaking Uji | Kedaluwarsa.\n", "--admin", env=quick)
    expired = console_draft_code(preview)
    _until_expired(newsbot.directory / "newsbot.db", expired)
    answer = newsbot.chat(f"/confirm {expired}\n", "--admin", env=quick)
    assert answer.startswith(f"Draf {expired} kedaluwarsa pada ")
    assert newsbot.chat("", "--chat", "redaksi") == ""
    assert newsbot.chat("/latest uji\n").startswith("Tidak ada berita")


def _until_expired(database: Path, code: str) -> None:
    """Until the draft's expiry, as stored, has passed (a moment after it was made)."""
    with sqlite3.connect(database) as connection:
        [(stored,)] = connection.execute(
            "SELECT expires_at FROM breaking_drafts WHERE code = ?", (code,)
        ).fetchall()
    expires_at = datetime.fromisoformat(stored)
    deadline = time.monotonic() + 10
    while datetime.now(UTC) <= expires_at:
        assert time.monotonic() < deadline, f"the draft never expired ({stored})"
        time.sleep(0.02)


def test_correct_retract_status_and_audit_from_the_console(newsbot: Newsbot) -> None:
    newsbot.chat("/subscribe breaking\n", "--chat", "redaksi")
    newsbot.post_breaking("Gempa di Palu | Gempa M6 di Palu.")
    newsbot.chat("", "--chat", "redaksi")

    corrected = newsbot.chat("/correct 1 Gempa M6,2 di Palu |\n", "--admin")
    assert corrected == (
        "Berita #1 diralat. Pesan yang sudah terkirim ke 1 chat akan disunting.\n\n"
    )
    edited = newsbot.chat("", "--chat", "redaksi")
    assert edited.startswith(
        'Ralat berita #1 "Gempa di Palu":\n#1 [BERITA TERKINI] Gempa M6,2 di Palu'
    )

    retracted = newsbot.chat("/retract 1 Magnitudo keliru\n", "--admin")
    assert retracted == (
        'Berita #1 "Gempa M6,2 di Palu" ditarik: tidak lagi muncul di /latest dan /read.\n'
        "1 salinan terkirim akan dihapus.\n\n"
    )
    assert newsbot.chat("", "--chat", "redaksi") == (
        'Berita #1 "Gempa di Palu" ditarik oleh redaksi.\n\n'
    )
    assert newsbot.chat("/read 1\n") == "Berita nomor 1 telah ditarik oleh redaksi.\n\n"

    status = newsbot.chat("/status 1\n", "--admin")
    assert "Magnitudo keliru" in status
    assert "konsol, penghapusan: 1 — terkirim 1 · antre 0 · gagal 0 · dibatalkan 0" in status
    audit = newsbot.chat("/audit 3\n", "--admin").splitlines()
    assert audit[0] == "Tindakan admin terakhir:"
    assert [line.split(" · ")[1:3] for line in audit[1:4]] == [
        ["console:local", "menarik"],
        ["console:local", "meralat"],
        ["console:local", "mengirim berita terkini"],
    ]


def test_desk_commands_refuse_a_reader_by_name(newsbot: Newsbot) -> None:
    out = newsbot.chat("/status 1\n/audit\n/retract 1\n")
    assert _blocks(out) == [
        "Hanya admin bot yang dapat memakai /status. Kirim /whoami untuk melihat id Anda.",
        "Hanya admin bot yang dapat memakai /audit. Kirim /whoami untuk melihat id Anda.",
        "Hanya admin bot yang dapat memakai /retract. Kirim /whoami untuk melihat id Anda.",
    ]


def test_a_draft_is_sent_from_a_chat_still_open(newsbot: Newsbot) -> None:
    """One admin session typing as it reads: the code comes from the preview just printed."""
    newsbot.chat("/subscribe breaking\n", "--chat", "redaksi")
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--admin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=newsbot.directory,
        env=newsbot.env,
    )
    assert chat.stdin is not None
    assert chat.stdout is not None
    # A chat that never prints what the test waits for must not hang the suite.
    watchdog = threading.Timer(30, chat.kill)
    watchdog.start()
    try:
        chat.stdin.write("/breaking Gempa di Palu | Gempa M6 di Palu.\n")
        chat.stdin.flush()
        printed = ""
        while "[Kirim: /confirm" not in printed:
            printed += chat.stdout.readline()
        chat.stdin.write(f"/confirm {console_draft_code(printed)}\n")
        chat.stdin.close()
        rest = chat.stdout.read()
        assert chat.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        chat.kill()
        chat.stdout.close()
        if chat.stderr is not None:
            chat.stderr.close()
    assert "Berita terkini #1 disimpan di rubrik Nasional dan akan dikirim ke 1 chat." in rest
    assert "#1 [BERITA TERKINI] Gempa di Palu" in newsbot.chat("", "--chat", "redaksi")
