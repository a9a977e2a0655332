"""The breaking-news desk: drafts that wait for an admin's Send, live delivery counters,
corrections and retractions, each recorded in the audit log.

A `/breaking` is kept as a draft (the admin's words, in the database, so that any process on it
can send it) until an admin sends it, cancels it, or it expires after
`NEWSBOT_DRAFT_TTL_MINUTES`; only a sent draft becomes a stored story. Any bot admin may send
or cancel any draft: every admin may post breaking news directly anyway, and a desk where one
editor writes and another sends is a normal newsroom.

The answer to a sent draft is kept up to date with the story's delivery counters. The desk does
not know how a platform shows that: the adapter that showed the answer hands over a
`LiveMessage` (see `bot.chat.FollowUp`), and the desk re-reads the counters every couple of
seconds and updates it until every push is out. An answer that takes a while (/post fetching a
page) comes the same way: a first reply says what is being done, and the answer replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.chat import FollowUp, LiveMessage, Reply, UsageError, UserError
from bot.delivery.errors import DeliveryError, RetryAfter
from bot.i18n import translate
from bot.ingest.drafts import IngestLimits, build_draft
from bot.ingest.identity import canonical_url
from bot.newsroom import Newsroom
from bot.platform import DELETE_WINDOW
from bot.render import ArticleRenderer, failure_reply, shorten
from bot.sections import SectionCatalog
from bot.settings import Settings
from storage import Storage
from storage.models import (
    Article,
    ArticleDraft,
    AuditEntry,
    BreakingDraft,
    ChatRef,
    DeliveryKind,
    DeliveryTally,
    DraftState,
    PublishOutcome,
    PublishPreview,
    PublishResult,
    Retraction,
)

logger = logging.getLogger(__name__)

# How often a live answer re-reads the counters (more seldom where the platform allows fewer
# edits to the chat, such as a Telegram group).
REFRESH_SECONDS = 2.0
# A delivery still unfinished after this long (a platform down for good) is left to /status.
LIVE_FOR = timedelta(hours=1)
# Draft codes are this many random bytes, as hex: six characters, easy to type on a console.
CODE_BYTES = 3
CODE_TRIES = 5
# How much of a code that names no draft is echoed back.
CODE_ECHO_CHARS = 20
# What the audit log calls each desk action; /audit lists these.
DRAFT, SEND, CANCEL, CORRECT, RETRACT = "draft", "breaking", "cancel", "correct", "retract"
DESK_ACTIONS = (DRAFT, SEND, CANCEL, CORRECT, RETRACT)
# How much of a headline or reason the audit log keeps.
AUDIT_DETAIL_CHARS = 120
# How much of a corrected story's new text the audit log quotes.
CORRECTED_TEXT_CHARS = 60


@dataclass(frozen=True)
class BreakingRequest:
    """What an admin typed after /breaking, read and checked."""

    section: str
    headline: str
    text: str
    link: str | None


def parse_breaking(args: str, sections: SectionCatalog, default_section: str) -> BreakingRequest:
    """`[#section] <headline> | <text> [| <link>]`; without `#section`, `default_section`.

    Raises:
        UsageError: the arguments do not have that shape.
        UserError: the section or the link is not one we can use.
    """
    fields = [field.strip() for field in args.split("|")]
    if len(fields) not in (2, 3) or not all(fields[:2]):
        raise UsageError
    headline, text = fields[0], fields[1]
    link = fields[2] if len(fields) == 3 and fields[2] else None
    section_word = None
    first, _, rest = headline.partition(" ")
    if first.startswith("#") and len(first) > 1:
        section_word, headline = first[1:], rest.strip()
    return breaking_request(
        sections,
        default_section,
        section=section_word,
        headline=headline,
        text=text,
        link=link,
    )


def breaking_request(
    sections: SectionCatalog,
    default_section: str,
    *,
    section: str | None,
    headline: str,
    text: str,
    link: str | None,
) -> BreakingRequest:
    """A breaking story's parts, checked: typed (`parse_breaking`) or given as options.

    Raises:
        UsageError: the headline or the text is missing.
        UserError: the section or the link is not one we can use.
    """
    headline, text = headline.strip(), text.strip()
    link = link.strip() if link else None
    if not headline or not text:
        raise UsageError
    section_slug = default_section
    if section:
        found = sections.find(section)
        if found is None:
            known = ", ".join(each.slug for each in sections.all())
            raise UserError("error.unknown_section", word=section[:40], slugs=known)
        section_slug = found.slug
    if link is not None and canonical_url(link) is None:
        raise UserError("breaking.bad_link", link=link[:100])
    return BreakingRequest(section=section_slug, headline=headline, text=text, link=link)


def normalise_code(code: str) -> str:
    """A draft code as typed (`7F3A9C `) in the form it is kept (`7f3a9c`)."""
    return code.strip().lower()


@dataclass(frozen=True)
class DeliveryCounts:
    """Outbox rows in each state: the desk's counters, for pushes or edits or deletions."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    gone: int = 0
    possible_duplicates: int = 0

    @classmethod
    def of(cls, tallies: Iterable[DeliveryTally]) -> DeliveryCounts:
        """The sum of `tallies` (of one kind: the caller picks which)."""
        counts = {"sent": 0, "failed": 0, "dropped": 0}
        total = gone = doubtful = 0
        for tally in tallies:
            total += tally.count
            gone += tally.chats_gone
            doubtful += tally.possible_duplicates
            if tally.status in counts:
                counts[tally.status] += tally.count
        return cls(total=total, gone=gone, possible_duplicates=doubtful, **counts)

    @property
    def waiting(self) -> int:
        """Rows not settled yet: waiting their turn, being sent, held, retrying."""
        return self.total - self.sent - self.failed - self.dropped

    @property
    def cancelled(self) -> int:
        """Dropped rows whose chat is not gone (the story was retracted, the chat moved)."""
        return self.dropped - self.gone

    @property
    def done(self) -> bool:
        """Every row settled: nothing more will happen."""
        return self.waiting == 0


class LiveState(enum.Enum):
    """Where a live answer stands."""

    RUNNING = "running"
    DONE = "done"  # every push settled
    STOPPED = "stopped"  # no longer followed (time limit, or the console chat ended)


def counters_text(
    heading: str, counts: DeliveryCounts, state: LiveState, article_id: int, language: str
) -> str:
    """A live answer: its heading, then the push counters as they stand."""
    values = {
        "waiting": counts.waiting,
        "sent": counts.sent,
        "failed": counts.failed,
        "gone": counts.gone,
        "id": article_id,
    }
    if state is LiveState.DONE:
        lines = [translate(language, "live.done", **values)]
    else:
        lines = [translate(language, "live.progress", **values)]
    if counts.cancelled:
        lines[0] += translate(language, "live.cancelled", count=counts.cancelled)
    if state is LiveState.STOPPED:
        lines.append(translate(language, "live.stopped", id=article_id))
    return "\n".join((heading, *lines))


def _correction_detail(before: Article, after: ArticleDraft) -> str:
    """What a correction changed, as /audit shows it: `"old" → "new"` for the headline, then
    `| "new text…"` for the text, each quoted, with the bar /correct itself puts between them.

    The story's headline shows in /audit as it is now: the detail says what it was.
    """
    changes = []
    if after.title != before.title:
        changes.append(f'"{before.title}" → "{after.title}"')
    if after.body != before.body:
        changes.append(f'| "{shorten(after.body, CORRECTED_TEXT_CHARS)}"')
    return " ".join(changes)


@dataclass(frozen=True)
class Drafted:
    """The outcome of a /breaking: the story it would make, what sending it would do, and the
    draft kept for it (None when sending would change nothing, or it names a retracted story)."""

    story: ArticleDraft
    preview: PublishPreview
    draft: BreakingDraft | None


@dataclass(frozen=True)
class Confirmed:
    """A draft sent: the story stored from it and what storing it did."""

    draft: BreakingDraft
    story: ArticleDraft
    result: PublishResult


@dataclass
class _Followed:
    """A live answer being kept up to date."""

    article_id: int
    heading: str
    language: str
    message: LiveMessage
    shown: str


class _LiveCounters:
    """The follow-up of a sent draft's answer: hands its message to the desk to keep current."""

    placeholder = False

    def __init__(self, desk: Desk, article_id: int, heading: str, language: str, shown: str):
        self._desk = desk
        self._article_id = article_id
        self._heading = heading
        self._language = language
        self._shown = shown

    def shown(self, message: LiveMessage) -> None:
        """Start keeping `message` up to date."""
        self._desk.keep_current(
            _Followed(self._article_id, self._heading, self._language, message, self._shown)
        )


class _AnswerToCome:
    """The follow-up of a reply that says the answer is on its way: the work has begun, and once
    the reply is shown its answer takes the reply's place."""

    placeholder = True

    def __init__(self, desk: Desk, answer: asyncio.Task[Reply]):
        self._desk = desk
        self._answer = answer

    def shown(self, message: LiveMessage) -> None:
        """Show the answer in `message` once it is ready."""
        self._desk.track(self._desk.show_when_ready(message, self._answer))


class Desk:
    """Drafts, live counters, corrections and retractions, over the storage and the newsroom."""

    def __init__(
        self,
        *,
        storage: Storage,
        newsroom: Newsroom,
        renderer: ArticleRenderer,
        settings: Settings,
        clock: Callable[[], datetime],
        refresh_seconds: float = REFRESH_SECONDS,
        live_for: timedelta = LIVE_FOR,
    ) -> None:
        self._storage = storage
        self._newsroom = newsroom
        self._renderer = renderer
        self._settings = settings
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self._live_for = live_for
        self._followed: dict[asyncio.Task[None], _Followed] = {}
        self._answering: set[asyncio.Future[object]] = set()

    # Drafts ---------------------------------------------------------------------------------

    def story(self, request: BreakingRequest, *, actor: str, now: datetime) -> ArticleDraft:
        """The story a request makes when it is published at `now`, by the ingest rules."""
        return build_draft(
            title=request.headline,
            body=request.text,
            summary="",
            section=request.section,
            published=now,
            now=now,
            limits=IngestLimits.from_settings(self._settings),
            url=request.link,
            source=f"breaking:{actor}",
            breaking=True,
        ).draft

    async def draft(self, request: BreakingRequest, *, actor: str, chat: ChatRef) -> Drafted:
        """Keep `request` as a draft under a new code, with what sending it would do.

        A story that sending would not change (the same headline and text again), or one with
        the headline of a retracted story, gets no draft.
        """
        now = self._clock()
        story = self.story(request, actor=actor, now=now)
        preview = await self._newsroom.preview(story)
        if preview.outcome is PublishOutcome.DUPLICATE:
            return Drafted(story, preview, None)
        expires_at = now + timedelta(minutes=self._settings.draft_ttl_minutes)
        for _ in range(CODE_TRIES):
            draft = BreakingDraft(
                code=secrets.token_hex(CODE_BYTES),
                actor=actor,
                chat=chat,
                section=request.section,
                headline=request.headline,
                text=request.text,
                link=request.link,
                created_at=now,
                expires_at=expires_at,
            )
            if await self._storage.drafts.add(draft):
                break
        else:
            raise RuntimeError(f"no free draft code after {CODE_TRIES} tries")
        await self._audit(actor, chat, DRAFT, f"{draft.code}: {request.headline}", now=now)
        return Drafted(story, preview, draft)

    async def confirm(self, code: str, *, actor: str, chat: ChatRef, language: str) -> Confirmed:
        """Send a draft: store its story and queue it, once, whoever presses Send first.

        Raises:
            UserError: the draft is unknown, expired, cancelled or sent already.
        """
        code = normalise_code(code)
        now = self._clock()
        draft = await self._storage.drafts.settle(code, DraftState.SENT, by=actor, now=now)
        if draft is None:
            raise await self._not_open(code, language)
        request = BreakingRequest(draft.section, draft.headline, draft.text, draft.link)
        # Published when sent: its time is now, not when it was written.
        story = self.story(request, actor=draft.actor, now=now)
        try:
            [result] = await self._newsroom.publish([story])
        except BaseException:
            # Nothing was stored: the draft may be sent again.
            await asyncio.shield(self._storage.drafts.reopen(code))
            raise
        await self._storage.drafts.sent_as(code, result.article_id)
        action = CORRECT if result.outcome is PublishOutcome.UPDATED else SEND
        await self._audit(actor, chat, action, code, now=now, article_id=result.article_id)
        return Confirmed(draft, story, result)

    async def cancel(
        self, code: str, *, actor: str, chat: ChatRef, language: str
    ) -> BreakingDraft:
        """Cancel an open draft: it will never be sent.

        Raises:
            UserError: the draft is unknown, expired, cancelled or sent already.
        """
        code = normalise_code(code)
        now = self._clock()
        draft = await self._storage.drafts.settle(code, DraftState.CANCELLED, by=actor, now=now)
        if draft is None:
            raise await self._not_open(code, language)
        await self._audit(actor, chat, CANCEL, f"{code}: {draft.headline}", now=now)
        return draft

    async def _not_open(self, code: str, language: str) -> UserError:
        """Why the draft `code` cannot be sent or cancelled, as the user is told."""
        draft = await self._storage.drafts.find(code)
        if draft is None:
            return UserError("draft.unknown", code=shorten(code, CODE_ECHO_CHARS))
        if draft.state is DraftState.SENT:
            if draft.article_id is None:
                return UserError("draft.sending", code=code)
            return UserError("draft.sent", code=code, id=draft.article_id)
        if draft.state is DraftState.CANCELLED:
            return UserError("draft.cancelled", code=code)
        expired = self._renderer.time_label(draft.expires_at, language)
        return UserError("draft.expired", code=code, time=expired)

    # Corrections and retractions ------------------------------------------------------------

    async def correct(
        self, article: Article, *, headline: str, text: str, actor: str, chat: ChatRef
    ) -> PublishResult:
        """Give a stored story a new headline and/or text (empty: keep the old one).

        Published under its own identity, it is a correction: every delivered copy is edited.
        A new text brings a new summary, made from it as for /breaking.
        """
        now = self._clock()
        built = build_draft(
            title=headline or article.title,
            body=text or article.body,
            summary="" if text else article.summary,
            section=article.section,
            published=article.published_at,
            now=now,
            limits=IngestLimits.from_settings(self._settings),
            url=article.url,
            author=article.author,
            image_url=article.image_url,
            source=article.source,
            breaking=article.breaking,
        )
        [result] = await self._newsroom.publish([replace(built.draft, identity=article.identity)])
        if result.outcome is not PublishOutcome.DUPLICATE:
            detail = _correction_detail(article, built.draft)
            await self._audit(actor, chat, CORRECT, detail, now=now, article_id=article.id)
        return result

    async def retract(
        self, article: Article, *, reason: str, actor: str, chat: ChatRef
    ) -> Retraction:
        """Withdraw a story: out of search and /read, its copies deleted where still allowed.

        Raises:
            UserError: the story is no longer stored.
        """
        now = self._clock()
        # A copy sent before the platform's window is beyond deleting.
        deletable_since = {platform: now - window for platform, window in DELETE_WINDOW.items()}
        retraction = await self._storage.articles.retract(
            article.id, reason=reason, now=now, delete_sent_after=deletable_since
        )
        if retraction is None:
            raise UserError("read.not_found", id=article.id)
        if retraction.already is None:
            await self._audit(actor, chat, RETRACT, reason, now=now, article_id=article.id)
            if retraction.deleting:
                # This process's delivery worker sends the deletions at once.
                self._newsroom.pushes_queued.set()
        return retraction

    # Counters -------------------------------------------------------------------------------

    async def push_counts(self, article_id: int) -> DeliveryCounts:
        """Where the pushes of a story stand."""
        tallies = await self._storage.outbox.tally(article_id)
        return DeliveryCounts.of(t for t in tallies if t.kind is DeliveryKind.SEND)

    def live_counters(
        self, article_id: int, *, heading: str, language: str, shown: str
    ) -> _LiveCounters:
        """The follow-up that keeps a sent draft's answer (`shown`, under `heading`) current."""
        return _LiveCounters(self, article_id, heading, language, shown)

    def keep_current(self, followed: _Followed) -> None:
        """Update a live answer until its story's pushes are all settled."""
        task = asyncio.create_task(self._keep_current(followed))
        self._followed[task] = followed
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._followed.pop(task, None)

    async def _keep_current(self, followed: _Followed) -> None:
        try:
            await self._update_until_done(followed)
        except Exception:
            # A bug here must not go unseen, nor take anything else down.
            logger.exception("the live counters of #%d failed", followed.article_id)

    async def _update_until_done(self, followed: _Followed) -> None:
        deadline = self._clock() + self._live_for
        interval = max(self.refresh_seconds, followed.message.min_interval)
        while True:
            await asyncio.sleep(interval)
            try:
                counts = await self.push_counts(followed.article_id)
            except Exception:
                # The database busy past its timeout, say: try again at the next turn.
                logger.exception("reading the counters of #%d failed", followed.article_id)
                continue
            if counts.done:
                state = LiveState.DONE
            elif self._clock() >= deadline:
                state = LiveState.STOPPED
            else:
                state = LiveState.RUNNING
            if not await self._show(followed, counts, state) or state is not LiveState.RUNNING:
                return

    async def _show(self, followed: _Followed, counts: DeliveryCounts, state: LiveState) -> bool:
        """Update a live answer if it changed (always for its last update); False to stop."""
        text = counters_text(
            followed.heading, counts, state, followed.article_id, followed.language
        )
        final = state is not LiveState.RUNNING
        if text == followed.shown and not final:
            return True
        problem = await _update(followed.message, Reply.text(text), final=final)
        if problem is not None:
            # The message was deleted, the chat left: nobody sees the counters any more.
            logger.info("stopped the live counters of #%d: %s", followed.article_id, problem)
            return False
        followed.shown = text
        return True

    # Answers to come ------------------------------------------------------------------------

    def answer_later(self, work: Callable[[], Awaitable[Reply]], *, language: str) -> FollowUp:
        """The follow-up of a reply that says the answer is on its way (/post fetching a page):
        `work` starts now, whether or not the reply can be shown (a platform refusing it must
        not cost the admin the post), and its answer replaces the reply once both are there. A
        failure is answered as the dispatcher answers one."""
        answer = asyncio.create_task(self._answer(work, language))
        self.track(answer)
        return _AnswerToCome(self, answer)

    def track(self, work: Awaitable[object]) -> None:
        """Keep `work` running until it ends; closing the desk waits for it."""
        task = asyncio.ensure_future(work)
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def show_when_ready(self, message: LiveMessage, answer: asyncio.Task[Reply]) -> None:
        """Show `answer` in `message` once it is ready (see `answer_later`)."""
        problem = await _update(message, await answer, final=True)
        if problem is not None:
            logger.info("could not show an answer that was being worked on: %s", problem)

    @staticmethod
    async def _answer(work: Callable[[], Awaitable[Reply]], language: str) -> Reply:
        """What `work` answers; a failure answered as the dispatcher answers one."""
        try:
            return await work()
        except UserError as error:
            return failure_reply(error, language)
        except Exception:
            logger.exception("an answer that was being worked on failed")
            return failure_reply(None, language)

    async def _answers_given(self) -> None:
        """Wait for the answers being worked on: each ends within its own time limit (a fetch's
        timeout), and an admin waits for it."""
        while self._answering:
            ended = await asyncio.gather(*self._answering, return_exceptions=True)
            for outcome in ended:
                # One answer that could not be shown must not stop the others, nor the close.
                if isinstance(outcome, Exception):
                    logger.error("showing an answer failed", exc_info=outcome)

    async def finish(self) -> None:
        """Give every live answer its last update now (a console chat ending prints them)."""
        await self._answers_given()
        followed = list(self._followed.values())
        await self.close()
        for each in followed:
            try:
                counts = await self.push_counts(each.article_id)
            except Exception:
                logger.exception("reading the counters of #%d failed", each.article_id)
                continue
            await self._show(each, counts, LiveState.DONE if counts.done else LiveState.STOPPED)

    async def close(self) -> None:
        """Give the answers being worked on, then stop following every live answer."""
        await self._answers_given()
        tasks = list(self._followed)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Audit ----------------------------------------------------------------------------------

    async def _audit(
        self,
        actor: str,
        chat: ChatRef,
        action: str,
        detail: str,
        *,
        now: datetime,
        article_id: int | None = None,
    ) -> None:
        await self._storage.audit.record(
            AuditEntry(
                actor=actor,
                chat=chat,
                action=action,
                detail=shorten(detail, AUDIT_DETAIL_CHARS),
                article_id=article_id,
            ),
            now=now,
        )


async def _update(message: LiveMessage, reply: Reply, *, final: bool) -> DeliveryError | None:
    """Show `reply` in `message`, after any wait the platform asks for (a last update must
    arrive); the error that made it impossible (the message deleted, the chat left), if one."""
    while True:
        try:
            await message.update(reply, final=final)
        except RetryAfter as error:
            await asyncio.sleep(error.seconds)
            continue
        except DeliveryError as error:
            return error
        return None
