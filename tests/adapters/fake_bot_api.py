"""A Bot API server's behaviour in memory, for the Telegram tests.

`FakeBotApi` answers Bot API methods with the JSON Telegram sends, records every call, parses
HTML the way Telegram does (refusing what Telegram would refuse), and fails sends, or answers
them late or never (`send_latency`, `send_delays`, `hung_chats`), as a test scripts. Two
transports use it: `FakeBotRequest`, a PTB `BaseRequest` in the test's own event loop, and
`BotApiServer` (in `bot_api_server.py`), real HTTP on 127.0.0.1 for a `newsbot run` process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from telegram import error as tg_error
from telegram.request import BaseRequest, RequestData

TOKEN = "123456:TEST-token-never-real"  # noqa: S105 - a made-up token for the fake API
BOT_ID = 777000
BOT_USERNAME = "berita_test_bot"
API_BASE = "https://api.telegram.org/bot"

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
}
# What a restricted member may do, all answered by Telegram for status "restricted".
_RESTRICTED_RIGHTS = (
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_send_messages",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_manage_topics",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_edit_tag",
    "can_react_to_messages",
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z-]+)(?P<attrs>(?:\s+[a-z-]+=\"[^\"<>]*\")*)\s*>"
    r"|&(?P<entity>#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);"
    r"|(?P<bare>[<>&])"
)


class TelegramParseError(Exception):
    """What Telegram answers for text it cannot parse: 400 Can't parse entities."""


def parse_html(text: str) -> str:
    """The text Telegram would show for `text` in HTML parse mode; raises like Telegram."""
    visible: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        visible.append(text[position : match.start()])
        position = match.end()
        offset = len(text[: match.start()].encode())
        if match.group("bare"):
            raise TelegramParseError(
                f"Can't parse entities: unexpected {match.group('bare')!r} at byte offset {offset}"
            )
        entity = match.group("entity")
        if entity is not None:
            if entity.startswith("#x"):
                visible.append(chr(int(entity[2:], 16)))
            elif entity.startswith("#"):
                visible.append(chr(int(entity[1:])))
            elif entity in _NAMED_ENTITIES:
                visible.append(_NAMED_ENTITIES[entity])
            else:
                raise TelegramParseError(
                    f"Can't parse entities: unsupported entity &{entity}; at byte offset {offset}"
                )
            continue
        tag = match.group("tag").lower()
        if tag not in _ALLOWED_TAGS:
            raise TelegramParseError(
                f'Can\'t parse entities: unsupported start tag "{tag}" at byte offset {offset}'
            )
        if match.group("close"):
            if not open_tags or open_tags[-1] != tag:
                raise TelegramParseError(
                    f'Can\'t parse entities: unmatched end tag "{tag}" at byte offset {offset}'
                )
            open_tags.pop()
        else:
            open_tags.append(tag)
    visible.append(text[position:])
    if open_tags:
        raise TelegramParseError(f'Can\'t parse entities: unclosed start tag "{open_tags[-1]}"')
    return "".join(visible)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    # When it came (time.monotonic()).
    at: float = field(default_factory=time.monotonic)


class ApiError(Exception):
    """An error answer: status code, description and Bot API `parameters`."""

    def __init__(self, code: int, description: str, **parameters: int) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class FakeBotApi:
    """The state and behaviour of one bot's Bot API server."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    # Chats by id: type, title, username.
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (chat id, user id) -> a ChatMember's JSON; anyone else is an ordinary member.
    members: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    migrated: dict[int, int] = field(default_factory=dict)
    # chat id -> retry_after of the next send there (one 429 each).
    flood: dict[int, int] = field(default_factory=dict)
    # chat id -> (n, retry_after): the n-th send there (counting from 1) gets one 429.
    flood_nth: dict[int, tuple[int, int]] = field(default_factory=dict)
    # chat id -> seconds a send there takes to answer after Telegram has taken it.
    send_delays: dict[int, float] = field(default_factory=dict)
    # Seconds every other send takes to answer after Telegram has taken it: a round trip, so
    # that sends are in flight for a while (a process killed then leaves them unrecorded).
    send_latency: float = 0.0
    # Chats whose sends Telegram takes (they count as sent) but never answers, until
    # `release_hung` (a BotApiServer releases them as it closes). Clearing the set changes
    # later sends only.
    hung_chats: set[int] = field(default_factory=set)
    # While True, the Bot API is down as Telegram's outages look: every request but getUpdates
    # is taken (a send counts as sent) and never answered, even once this is False again.
    down: bool = False
    # The most sends that were ever awaiting their answer at once (see `awaiting_answer`).
    most_awaiting_answer: int = 0
    # chat id -> the description of the 400 Bad Request every send there gets.
    bad_requests: dict[int, str] = field(default_factory=dict)
    # The description of the 400 Bad Request setWebhook gets (a URL Telegram refuses).
    webhook_refusal: str | None = None
    # URLs the bot tried to reach that are not this Bot API's (must stay empty).
    unexpected_urls: list[str] = field(default_factory=list)
    _send_counts: dict[int, int] = field(default_factory=dict)
    refuse_photos: bool = False
    # What each sent message is, by (chat id, message id): "text" or "photo".
    message_kinds: dict[tuple[int, int], str] = field(default_factory=dict)
    # What each message shows now, by (chat id, message id): its text or caption, its buttons.
    message_contents: dict[tuple[int, int], tuple[str | None, Any]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    # chat id -> how many of its sends are taken but not answered yet.
    _awaiting: dict[int, int] = field(default_factory=dict)
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _new_update: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._new_update = threading.Condition(self._lock)

    # What the test sets up -------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        chat_type: str,
        *,
        title: str | None = None,
        username: str | None = None,
    ) -> None:
        """Make a chat known (for getChat and for the `chat` of updates)."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if title:
            chat["title"] = title
        if username:
            chat["username"] = username
        self.chats[chat_id] = chat

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """Give a user (or the bot, BOT_ID) a status in a chat; admins get `rights` on top."""
        member: dict[str, Any] = {"status": status, "user": _user(user_id)}
        if status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=False,
                can_manage_video_chats=False,
                can_restrict_members=False,
                can_promote_members=False,
                can_change_info=False,
                can_invite_users=False,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
            )
            member.update(rights)
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "until_date": 0,
                    **dict.fromkeys(_RESTRICTED_RIGHTS, False),
                }
            )
            member.update(rights)
        self.members[(chat_id, user_id)] = member

    def message_update(
        self, chat_id: int, text: str, *, user_id: int | None = None, **extra: Any
    ) -> int:
        """Queue a message (a channel post when the chat is a channel); its update id."""
        chat = self._chat(chat_id)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "text": text,
            **extra,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        kind = "channel_post" if chat["type"] == "channel" else "message"
        if user_id is not None:
            message["from"] = _user(user_id)
        return self._queue({kind: message})

    def callback_update(self, chat_id: int, user_id: int, data: str) -> int:
        """Queue the press of an inline button carrying `data` under a bot message."""
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": _user(BOT_ID, is_bot=True),
            "text": "…",
        }
        query = {
            "id": str(next(self._update_ids)),
            "from": _user(user_id),
            "chat_instance": "1",
            "message": message,
            "data": data,
        }
        return self._queue({"callback_query": query})

    def raw_update(self, update: dict[str, Any]) -> int:
        """Queue any update (its update_id is added)."""
        return self._queue(update)

    # What the test reads ---------------------------------------------------------------

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Successful-looking sendMessage/sendPhoto calls, to one chat or all."""
        with self._lock:
            calls = list(self.calls)
        return [
            call
            for call in calls
            if call.method in ("sendMessage", "sendPhoto")
            and not call.params.get("_refused")
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """What Telegram would show of each message sent (text or caption)."""
        return [call.params["_shown"] for call in self.sent(chat_id)]

    def of_method(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    def awaiting_answer(self, chat_id: int | None = None) -> int:
        """Sends Telegram has handled whose answer has not gone back yet (to one chat, or all):
        what a bot killed now would never hear about."""
        with self._lock:
            if chat_id is None:
                return sum(self._awaiting.values())
            return self._awaiting.get(chat_id, 0)

    # Serving ---------------------------------------------------------------------------

    def handle(self, token: str, method: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one request: (HTTP status, the Bot API's JSON body)."""
        params = {key: _decode(value) for key, value in form.items()}
        call = Call(method, params)
        with self._lock:
            self.calls.append(call)
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        # getChatMember is answered by _api_get_chat_member, and so on.
        snake_case = re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()
        answer = getattr(self, f"_api_{snake_case}", None)
        if answer is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            with self._lock:
                result = answer(params)
        except ApiError as error:
            params["_refused"] = error.description
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.code,
                "description": error.description,
            }
            if error.parameters:
                body["parameters"] = error.parameters
            return error.code, body
        if isinstance(result, dict) and "message_id" in result:
            params["_message_id"] = result["message_id"]  # for tests that edit what was sent
        return 200, {"ok": True, "result": result}

    def answer_delay(self, method: str, chat_id: object) -> float | None:
        """How long the answer to a request takes once it is handled: seconds, or None for a
        send to a hung chat, or any request while the API is down (answered only when
        released)."""
        if self.down and method != "getUpdates":
            return None
        if not method.startswith("send"):
            return 0.0
        try:
            chat = int(str(chat_id))
        except ValueError:
            return 0.0  # an @username, or no chat at all
        if chat in self.hung_chats:
            return None
        return self.send_delays.get(chat, self.send_latency)

    def hold_answer(self, method: str, chat_id: object) -> None:
        """Block the calling server thread until the answer to this request may go back."""
        delay = self.answer_delay(method, chat_id)
        if delay == 0.0:
            return
        with self._awaiting_answer(int(str(chat_id or 0))):
            self._released.wait(delay)

    async def hold_answer_async(self, method: str, chat_id: object) -> None:
        """`hold_answer` in an event loop; a hung send waits until released or cancelled."""
        delay = self.answer_delay(method, chat_id)
        if delay == 0.0:
            return
        with self._awaiting_answer(int(str(chat_id))):
            if delay is not None:
                await asyncio.sleep(delay)
                return
            # The release comes from another thread: look for it now and then.
            while not self._released.is_set():  # noqa: ASYNC110 - a threading.Event
                await asyncio.sleep(0.01)

    def release_hung(self) -> None:
        """Answer every hung send now, and from now on answer sends to hung chats at once."""
        self._released.set()

    @contextlib.contextmanager
    def _awaiting_answer(self, chat_id: int) -> Iterator[None]:
        with self._lock:
            self._awaiting[chat_id] = self._awaiting.get(chat_id, 0) + 1
            self.most_awaiting_answer = max(
                self.most_awaiting_answer, sum(self._awaiting.values())
            )
        try:
            yield
        finally:
            with self._lock:
                self._awaiting[chat_id] -= 1
                if not self._awaiting[chat_id]:
                    del self._awaiting[chat_id]

    def wait_for_updates(self, offset: int, timeout: float) -> None:
        """Block (a server thread) until an update at or after `offset` is queued."""
        deadline = time.monotonic() + timeout
        with self._new_update:
            while not any(u["update_id"] >= offset for u in self._updates):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._new_update.wait(remaining)

    # Bot API methods (called with the lock held) ---------------------------------------

    def _api_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **_user(BOT_ID, is_bot=True, username=BOT_USERNAME),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_delete_webhook(self, params: dict[str, Any]) -> bool:
        return True

    def _api_set_webhook(self, params: dict[str, Any]) -> bool:
        if self.webhook_refusal is not None:
            raise ApiError(400, self.webhook_refusal)
        return True

    def _api_set_my_commands(self, params: dict[str, Any]) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        if "scope" in params and params["scope"].get("chat_id") not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return True

    def _api_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        # Telegram forgets every update before the offset the bot confirms.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        return self._updates[: int(params.get("limit") or 100)]

    def _api_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._check_send(params)
        shown = self._parse(params.get("text", ""), params, TEXT_LIMIT, "message is too long")
        if not shown.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        params["_shown"] = shown
        return self._remember(self._message(chat_id, text=shown), "text", params)

    def _api_send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._check_send(params)
        shown = self._parse(
            params.get("caption", ""), params, CAPTION_LIMIT, "message caption is too long"
        )
        if self.refuse_photos:
            raise ApiError(400, "Bad Request: wrong type of the web page content")
        params["_shown"] = shown
        return self._remember(
            self._message(chat_id, caption=shown, photo=[_photo_size()]), "photo", params
        )

    def _api_answer_callback_query(self, params: dict[str, Any]) -> bool:
        return True

    def _api_get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._find_chat(params["chat_id"])
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._find_chat(params["chat_id"])
        user_id = int(params["user_id"])
        member = self.members.get((chat["id"], user_id))
        if member is not None:
            return member
        return {"status": "member", "user": _user(user_id, is_bot=user_id == BOT_ID)}

    def _api_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._editable(params, "text")
        shown = self._parse(params.get("text", ""), params, TEXT_LIMIT, "message is too long")
        return self._edited(chat_id, int(params["message_id"]), params, text=shown)

    def _api_edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._editable(params, "photo")
        shown = self._parse(params.get("caption", ""), params, CAPTION_LIMIT, "caption too long")
        return self._edited(
            chat_id, int(params["message_id"]), params, caption=shown, photo=[_photo_size()]
        )

    def _edited(
        self, chat_id: int, message_id: int, params: dict[str, Any], **content: Any
    ) -> dict[str, Any]:
        """Telegram refuses an edit that changes nothing, as the real Bot API does."""
        shown = (content.get("text") or content.get("caption"), params.get("reply_markup"))
        if self.message_contents.get((chat_id, message_id)) == shown:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self.message_contents[(chat_id, message_id)] = shown
        return {**self._message(chat_id, **content), "message_id": message_id}

    def _editable(self, params: dict[str, Any], kind: str) -> int:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        found = self.message_kinds.get((chat_id, message_id))
        if found is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if found != kind:
            what = "caption" if kind == "photo" else "text"
            raise ApiError(400, f"Bad Request: there is no {what} in the message to edit")
        return chat_id

    def _api_delete_message(self, params: dict[str, Any]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self.message_kinds.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.message_contents.pop(key, None)
        return True

    # Helpers ---------------------------------------------------------------------------

    def _queue(self, update: dict[str, Any]) -> int:
        with self._new_update:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
            self._new_update.notify_all()
        return update_id

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id not in self.chats:
            self.add_chat(chat_id, "private" if chat_id > 0 else "supergroup", title="Grup")
        return dict(self.chats[chat_id])

    def _find_chat(self, chat_id: Any) -> dict[str, Any]:
        for chat in self.chats.values():
            if chat["id"] == chat_id or f"@{chat.get('username')}" == chat_id:
                return chat
        raise ApiError(400, "Bad Request: chat not found")

    def _check_send(self, params: dict[str, Any]) -> int:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[chat_id],
            )
        if chat_id in self.bad_requests:
            raise ApiError(400, f"Bad Request: {self.bad_requests[chat_id]}")
        count = self._send_counts[chat_id] = self._send_counts.get(chat_id, 0) + 1
        retry_after = self.flood.pop(chat_id, None)
        if retry_after is None and self.flood_nth.get(chat_id, (0, 0))[0] == count:
            retry_after = self.flood_nth.pop(chat_id)[1]
        if retry_after is not None:
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        return chat_id

    def _parse(self, text: str, params: dict[str, Any], limit: int, too_long: str) -> str:
        shown = text
        if params.get("parse_mode") == "HTML":
            try:
                shown = parse_html(text)
            except TelegramParseError as error:
                raise ApiError(400, f"Bad Request: {error}") from None
        if utf16_length(shown) > limit:
            raise ApiError(400, f"Bad Request: {too_long}")
        return shown

    def _remember(
        self, message: dict[str, Any], kind: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        key = (message["chat"]["id"], message["message_id"])
        self.message_kinds[key] = kind
        self.message_contents[key] = (params["_shown"], params.get("reply_markup"))
        return message

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": _user(BOT_ID, is_bot=True, username=BOT_USERNAME),
            **content,
        }


def _user(user_id: int, *, is_bot: bool = False, username: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": f"Pengguna {user_id}"}
    if username:
        user["username"] = username
    return user


def _photo_size() -> dict[str, Any]:
    return {"file_id": "photo-1", "file_unique_id": "u1", "width": 800, "height": 450}


def _decode(value: str) -> Any:
    """PTB sends each parameter as text, JSON-encoded unless it is a plain string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotRequest(BaseRequest):
    """PTB's transport, answered by a `FakeBotApi` in the same event loop; no network at all.

    Any URL other than the Bot API's fails the test: the bot must never talk elsewhere.
    """

    def __init__(
        self,
        api: FakeBotApi,
        *,
        base_url: str = API_BASE,
        latency: float = 0.0,
        read_timeout: float = 5.0,
    ) -> None:
        self._api = api
        self._base_url = base_url
        # Seconds each request takes, like a round trip to Telegram (for benchmarks).
        self._latency = latency
        # How long a request waits for its answer when PTB names no read timeout: HTTPX's
        # default in PTB is 5 s; a test may scale it down with the times it waits for.
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        match = re.fullmatch(re.escape(self._base_url) + r"(?P<token>[^/]+)/(?P<method>\w+)", url)
        if match is None:
            # PTB would wrap an exception as a network error; the harness checks this list.
            self._api.unexpected_urls.append(url)
            raise AssertionError(f"the bot tried to reach {url}")
        form = request_data.json_parameters if request_data else {}
        if self._latency:
            await asyncio.sleep(self._latency)
        if match.group("method") == "getUpdates" and not self._api.pending_updates():
            # A long poll with nothing to deliver: come back empty after a moment.
            await asyncio.sleep(0.02)
        status, body = self._api.handle(match.group("token"), match.group("method"), form)
        # Telegram has taken the message; its answer may be slow to come back, and past the
        # read timeout the bot stops waiting for it, as HTTPX would.
        patience = _seconds(read_timeout, self.read_timeout)
        try:
            await asyncio.wait_for(
                self._api.hold_answer_async(match.group("method"), form.get("chat_id")),
                patience,
            )
        except TimeoutError:
            raise tg_error.TimedOut from httpx.ReadTimeout("no answer in time")
        return status, json.dumps(body).encode()


def _seconds(timeout: Any, default: float | None) -> float | None:
    """A PTB time-out argument as seconds: a number, or its DefaultValue's value."""
    value = getattr(timeout, "value", timeout)
    return float(value) if isinstance(value, int | float) else default


async def wait_until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    """Wait for `condition` (the bot works concurrently); fail the test after `within` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the awaited condition never came true")
        await asyncio.sleep(0.01)
