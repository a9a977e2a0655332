"""The database: connection, migrations, repositories and search text processing."""

from storage.storage import Storage, UnsupportedDatabaseError, open_storage

__all__ = ["Storage", "UnsupportedDatabaseError", "open_storage"]
