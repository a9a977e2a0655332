"""The database: connection, migrations, repositories and search text processing."""

from storage.storage import DatabaseUnusableError, Storage, open_storage

__all__ = ["DatabaseUnusableError", "Storage", "open_storage"]
