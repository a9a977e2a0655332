"""The Telegram platform (python-telegram-bot 22)."""

import os

# Opt in to PTB's future form of time periods (timedelta, not int): PTB 22 otherwise warns on
# every RetryAfter it builds. `retry_after_seconds` reads either form.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
