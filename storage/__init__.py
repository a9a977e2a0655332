"""The database: connection, migrations, repositories and search text processing."""

from storage.backends import open_storage
from storage.storage import DatabaseUnusableError, Storage

__all__ = ["DatabaseUnusableError", "Storage", "open_storage"]
