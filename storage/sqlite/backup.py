"""A consistent copy of a live SQLite database, through SQLite's online backup API.

The copy is taken in one backup step, which reads one snapshot of the database: in WAL mode
other processes keep writing meanwhile, and the copy holds exactly what was committed when the
step began. (Copying a few pages at a time would start again after every write by another
process, and never end under a steady ingest.) It is written to a temporary file beside the
target and renamed into place only once complete, so the target is never half a database.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
import urllib.parse
from pathlib import Path

from storage.models import BUSY_TIMEOUT_SECONDS, BackupError, BackupReport
from storage.sqlite.database import unusable
from storage.storage import DatabaseUnusableError

# The temporary copy's name: hidden, and saying what it is if a crash leaves it behind.
PARTIAL_SUFFIX = ".partial"


def backup_sqlite(
    source: Path, target: Path, *, replace: bool, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> BackupReport:
    """Copy the database at `source` to `target`; what the copy holds. Opening it waits up to
    `busy_timeout` seconds for another process's lock; the copy itself (one step of SQLite's
    backup API) is retried while the file is locked, which in WAL mode only a process
    recovering or checkpointing it exclusively does, briefly.

    Raises:
        DatabaseUnusableError: `source` does not exist, is not a newsbot database, or cannot
            be read.
        BackupError: `target` exists and `replace` is false, is (a journal of) `source`
            itself, is a directory, sits in a missing directory, or cannot be written.
    """
    target = Path(os.path.abspath(target))
    _check_source(source)
    _check_target(source, target, replace=replace)
    try:
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX
        )
    except OSError as error:
        raise BackupError(f"{target} cannot be written ({error.strerror or error})") from error
    os.close(handle)
    partial = Path(name)
    try:
        schema_version, stories = _copy(source, partial, busy_timeout)
        _put_in_place(partial, target, replace=replace)
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return BackupReport(
        path=target,
        source=str(source),
        schema_version=schema_version,
        stories=stories,
        size_bytes=target.stat().st_size,
    )


def _check_source(source: Path) -> None:
    if not source.exists():
        raise DatabaseUnusableError(str(source), "does not exist; nothing to back up")
    if not source.is_file():
        raise DatabaseUnusableError(str(source), "is not a regular file")


def _check_target(source: Path, target: Path, *, replace: bool) -> None:
    """Refuse a target before anything is copied (`_put_in_place` checks again at the end)."""
    journals = [source.with_name(source.name + suffix) for suffix in ("-wal", "-shm")]
    for live in (source, *journals):
        # Replacing the live file would leave running processes writing to a deleted one.
        if target == Path(os.path.abspath(live)) or (
            target.exists() and live.exists() and target.samefile(live)
        ):
            raise BackupError(f"{target} is the database itself; name another file")
    if target.is_dir():
        example = target / f"{source.stem}-backup.db"
        raise BackupError(f"{target} is a directory; name a file in it, such as {example}")
    if not target.parent.is_dir():
        raise BackupError(f"{target} cannot be written: its directory {target.parent} is missing")
    if target.exists() and not replace:
        raise BackupError(f"{target} exists; pass --force to replace it")


def _copy(source: Path, partial: Path, busy_timeout: float) -> tuple[int, int]:
    """Copy `source` into the empty file `partial` in one backup step; the copy's schema
    version and number of stories."""
    # mode=rw: a missing file is an error instead of a new, empty database.
    uri = f"file:{urllib.parse.quote(str(source))}?mode=rw"
    try:
        reading = sqlite3.connect(uri, uri=True, timeout=busy_timeout)
    except sqlite3.Error as error:
        raise unusable(str(source), error, busy_timeout) from error
    try:
        _schema_version(reading, source, busy_timeout)  # a newsbot database, or refused
        with contextlib.closing(_open_copy(partial)) as copy:
            try:
                reading.backup(copy)  # pages=-1: the whole database in one step, one snapshot
                _check_whole(copy, source)
                # Both read off the copy: one snapshot, whatever was migrated meanwhile.
                version = int(copy.execute("PRAGMA user_version").fetchone()[0])
                stories = int(copy.execute("SELECT count(*) FROM articles").fetchone()[0])
            except sqlite3.Error as error:
                if _is_write_failure(error):
                    raise BackupError(f"the copy could not be written: {error}") from error
                raise unusable(str(source), error, busy_timeout) from error
    finally:
        reading.close()
    return version, stories


def _check_whole(copy: sqlite3.Connection, source: Path) -> None:
    """Refuse a copy SQLite finds damaged: the backup API copies pages as they are, so damage
    in the source would pass silently into the backup. (quick_check reads every page once,
    most still cached from the copy, but skips the slower index-against-table checks.)"""
    [(verdict, *_)] = copy.execute("PRAGMA quick_check(1)").fetchall()
    if verdict != "ok":
        # Its first line names the schema ("*** in database main ***"), the next the damage.
        found = "; ".join(line for line in verdict.splitlines() if not line.startswith("***"))
        raise DatabaseUnusableError(
            str(source), f"is damaged (SQLite's quick_check: {found}); restore a backup"
        )


def _open_copy(partial: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(partial)
    except sqlite3.Error as error:
        raise BackupError(f"the copy could not be written: {error}") from error


def _is_write_failure(error: sqlite3.Error) -> bool:
    """Whether the error is the copy's disk failing (full, I/O), not the source."""
    name = error.sqlite_errorname or ""
    return name == "SQLITE_FULL" or name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN"))


def _schema_version(reading: sqlite3.Connection, source: Path, busy_timeout: float) -> int:
    try:
        version = int(reading.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as error:
        raise unusable(str(source), error, busy_timeout) from error
    if version == 0:
        raise DatabaseUnusableError(
            str(source), "is not a newsbot database (it has no schema); nothing to back up"
        )
    return version


def _put_in_place(partial: Path, target: Path, *, replace: bool) -> None:
    """Rename the finished copy to `target`, never over a file that appeared meanwhile unless
    `replace`; then make the new name durable."""
    try:
        if replace:
            os.replace(partial, target)
        else:
            _link_or_rename(partial, target)
    except FileExistsError as error:
        raise BackupError(f"{target} exists; pass --force to replace it") from error
    except OSError as error:
        raise BackupError(f"{target} cannot be written ({error.strerror or error})") from error
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _link_or_rename(partial: Path, target: Path) -> None:
    """`partial` at `target`, which must not exist: a hard link fails if the name is taken,
    where a rename would silently replace it."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise
    except OSError as error:
        # A file system without hard links (some network and FAT mounts): check, then rename.
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from error
        os.replace(partial, target)
