"""Scheduling and delivery of the daily summary.

Each subscription is a daily job in the chat's own time zone.  Every send is
recorded per (chat, local day): as "sending" the moment the request leaves
the rate limiter, then as its outcome.  After a crash the start-up catch-up
sends exactly the summaries not yet recorded; a "sending" row counts as sent
(at most once: a crash in the middle of the HTTP call itself cannot be told
apart from a delivered message, and a duplicate is the worse mistake).  Telegram's limits are respected by the application's rate
limiter; here we wait out RetryAfter, back off on network errors, and drop
subscribers who blocked the bot.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, Application, ContextTypes

from bot.config import parse_daily_time
from bot.store import Store, Subscription

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_RETRY_AFTER_WAITS = 5
NETWORK_RETRIES = 4
BACKOFF_BASE_S = 0.5
PROGRESS_EVERY_S = 2.0
GONE_MESSAGES = ("chat not found", "bot was kicked", "user is deactivated", "have no rights to send", "need administrator rights")


@dataclass
class Tally:
    total: int = 0
    sent: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.skipped + self.blocked + self.failed


@dataclass(frozen=True)
class SendMark:
    """Passed as rate_limit_args: called the moment the limiter lets the request go."""

    on_send: Callable[[], None]


class DeliveryRateLimiter(AIORateLimiter):
    """Telegram's limits, plus a hook that records a delivery as "sending" right before the HTTP call.

    Recording after the wait in the limiter (not before it) shrinks the window
    in which a crash leaves a send unaccounted for to the HTTP round trip.
    """

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if not isinstance(rate_limit_args, SendMark):
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        mark = rate_limit_args.on_send

        async def marked(*a, **k):
            mark()
            return await callback(*a, **k)

        return await super().process_request(marked, args, kwargs, endpoint, data, None)


async def with_retries(
    send: Callable[[], Awaitable[T]],
    network_retries: int = NETWORK_RETRIES,
    retry_after_waits: int = MAX_RETRY_AFTER_WAITS,
    backoff_s: float = BACKOFF_BASE_S,
) -> T:
    """Wait out flood limits and back off on network errors; a refusal (403, 400) is final.

    Raises the last error once the retries are spent.
    """
    waits = retries = 0
    while True:
        try:
            return await send()
        except (Forbidden, BadRequest):
            raise
        except RetryAfter as exc:
            waits += 1
            if waits > retry_after_waits:
                raise
            await asyncio.sleep(retry_seconds(exc))
        except NetworkError:  # TimedOut included
            retries += 1
            if retries > network_retries:
                raise
            await asyncio.sleep(backoff_s * 2 ** (retries - 1))


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will change to timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def local_day(sub: Subscription, now: datetime | None = None) -> str:
    now = now or datetime.now(ZoneInfo("UTC"))
    return now.astimezone(ZoneInfo(sub.timezone)).date().isoformat()


def job_name(chat_id: int) -> str:
    return f"daily:{chat_id}"


class Deliverer:
    """Sends one day's summary to one chat at most once, recording the outcome."""

    def __init__(self, store: Store, summary: Callable[[], str]):
        self.store = store
        self.summary = summary
        self._in_flight: set[tuple[int, str]] = set()

    async def deliver(self, bot: Bot, sub: Subscription, day: str) -> str:
        key = (sub.chat_id, day)
        if key in self._in_flight or self.store.delivered(sub.chat_id, day):
            return "skipped"
        self._in_flight.add(key)
        try:
            mark = SendMark(lambda: self.store.record_delivery(sub.chat_id, day, "sending"))
            status = await self._send(bot, sub.chat_id, self.summary(), mark)
            self.store.record_delivery(sub.chat_id, day, status)
            if status == "blocked":
                self.store.unsubscribe(sub.chat_id)
                log.info("chat %s blocked or removed the bot; unsubscribed", sub.chat_id)
            return status
        finally:
            self._in_flight.discard(key)

    async def _send(self, bot: Bot, chat_id: int, text: str, mark: SendMark) -> str:
        try:
            await with_retries(
                lambda: bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True, rate_limit_args=mark)
            )
            return "sent"
        except Forbidden:
            return "blocked"
        except BadRequest as exc:
            if any(m in str(exc).lower() for m in GONE_MESSAGES):
                return "blocked"
            log.warning("summary to %s rejected: %s", chat_id, exc)
            return "failed"
        except (RetryAfter, NetworkError) as exc:
            log.warning("summary to %s failed after retries: %s", chat_id, exc)
            return "failed"

    async def deliver_all(
        self, bot: Bot, subs: list[Subscription], progress: Callable[[Tally], Awaitable[None]] | None = None
    ) -> Tally:
        """One send at a time: then at any instant at most one request is in flight,
        so a crash can leave at most one delivery unconfirmed (see module docstring).
        On localhost this still saturates Telegram's 30 messages per second."""
        tally = Tally(total=len(subs))
        loop = asyncio.get_running_loop()
        last_report = loop.time()
        for sub in subs:
            status = await self.deliver(bot, sub, local_day(sub))
            setattr(tally, status, getattr(tally, status) + 1)
            if progress and loop.time() - last_report >= PROGRESS_EVERY_S:
                last_report = loop.time()
                await progress(tally)
        return tally


# ---------------------------------------------------------------- jobs


def deliverer(context: ContextTypes.DEFAULT_TYPE) -> Deliverer:
    return context.application.bot_data["deliverer"]


async def daily_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deliverer(context)
    sub = d.store.subscription(context.job.chat_id)
    if sub:
        await d.deliver(context.bot, sub, local_day(sub))


def schedule(application: Application, sub: Subscription) -> None:
    unschedule(application, sub.chat_id)
    at = parse_daily_time(sub.daily_time).replace(tzinfo=ZoneInfo(sub.timezone))
    application.job_queue.run_daily(daily_job, time=at, chat_id=sub.chat_id, name=job_name(sub.chat_id))


def unschedule(application: Application, chat_id: int) -> None:
    for job in application.job_queue.get_jobs_by_name(job_name(chat_id)):
        job.schedule_removal()


def owed_today(sub: Subscription, store: Store, now: datetime | None = None) -> bool:
    """Was today's summary due (and the chat subscribed by then) but never delivered?"""
    now = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(sub.timezone))
    due = datetime.combine(now.date(), parse_daily_time(sub.daily_time), tzinfo=ZoneInfo(sub.timezone))
    return now >= due and sub.created_at < due.timestamp() and not store.delivered(sub.chat_id, now.date().isoformat())


async def run_broadcast(application: Application, started_by: int | None, progress=None, broadcast_id: int | None = None) -> Tally:
    d: Deliverer = application.bot_data["deliverer"]
    broadcast_id = broadcast_id or d.store.start_broadcast(started_by)
    tally = await d.deliver_all(application.bot, d.store.subscriptions(), progress)
    d.store.finish_broadcast(broadcast_id)
    return tally


async def resume_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await resume(context.application)


async def resume(application: Application) -> Tally:
    """At start-up: finish interrupted broadcasts and send summaries that fell due while down."""
    d: Deliverer = application.bot_data["deliverer"]
    tally = Tally()
    unfinished = d.store.unfinished_broadcasts()
    for broadcast_id in unfinished:
        log.info("resuming interrupted broadcast %s", broadcast_id)
        tally = await run_broadcast(application, None, broadcast_id=broadcast_id)
    owed = [s for s in d.store.subscriptions() if owed_today(s, d.store)]
    if owed:
        log.info("sending %d daily summaries that fell due while the bot was down", len(owed))
        tally = await d.deliver_all(application.bot, owed)
    return tally
