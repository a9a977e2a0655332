"""Who holds a claim: tokens that name the process that made them (`host:pid:` and a random
part), and whether a process of this host a token names is gone."""

from __future__ import annotations

import os
import uuid

from storage.models import HOST, PROCESS

__all__ = ["HOST", "PROCESS", "new_claim_token", "process_is_dead"]


def new_claim_token() -> str:
    """A token for one claim, not one process: it tells this claim from a later one of the
    same rows by anybody, this process included; it starts with the claimer's host and pid."""
    return f"{PROCESS}{uuid.uuid4().hex}"


def process_is_dead(token: str) -> bool:
    """Whether a token was made by a process of this host that no longer runs."""
    host, _, rest = token.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False
