"""The bot as a real process: secrets stay out of every output, and a SIGKILL mid-broadcast loses nothing."""

from __future__ import annotations

import os
import signal

import pytest

from bot.store import Store
from tests.botproc import ADMIN, start_bot, stop_bot, wait_until
from tests.fake_telegram import TOKEN, FakeTelegram

USER = 2024


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def test_the_token_appears_in_no_log_reply_or_database(fake, tmp_path):
    fake.scripted.append(("sendMessage", 500, 0, USER + 1))  # an error path gets logged too
    proc = start_bot(fake, tmp_path)
    try:
        wait_until(lambda: fake.sent(method="setMyCommands"))
        fake.message(USER, "What does Putin want?")
        fake.message(USER + 1, "stalemate")
        fake.message(ADMIN, "/stats")
        fake.message(USER, f"/ask {TOKEN}")
        wait_until(lambda: fake.sent(ADMIN) and len(fake.sent(USER)) >= 2 and fake.sent(USER + 1))
    finally:
        stop_bot(proc)
    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    secret = TOKEN.split(":", 1)[1]
    assert "getUpdates" in log or "Calling Bot API" in log  # the log is not empty: DEBUG level was on
    assert secret not in log
    assert all(secret not in m.get("text", "") for m in fake.sent(ADMIN))
    database = b"".join(p.read_bytes() for p in tmp_path.glob("bot.sqlite3*"))
    assert secret.encode() not in database


def test_sigkill_mid_broadcast_then_restart_sends_everyone_exactly_once(fake, tmp_path):
    subscribers = list(range(100_000, 102_000))
    store = Store(tmp_path / "bot.sqlite3")
    for chat_id in subscribers:
        store.subscribe(chat_id, "private", "08:00", "UTC")
    store.close()
    summaries = lambda: [m for m in fake.sent() if m["chat_id"] in set(subscribers)]  # noqa: E731

    proc = start_bot(fake, tmp_path, BOT_SEND_RATE="400")
    fake.trip = (400, lambda: os.kill(proc.pid, signal.SIGKILL))
    try:
        wait_until(lambda: fake.sent(method="setMyCommands"))
        fake.message(ADMIN, "/broadcast")
        proc.wait(60)
    finally:
        stop_bot(proc)
    assert proc.returncode == -signal.SIGKILL
    before = len(summaries())
    assert 300 <= before < len(subscribers)

    proc = start_bot(fake, tmp_path, BOT_SEND_RATE="400")
    try:
        wait_until(lambda: len(summaries()) >= len(subscribers), timeout=90)
    finally:
        stop_bot(proc)
    counts = {}
    for m in summaries():
        counts[m["chat_id"]] = counts.get(m["chat_id"], 0) + 1
    assert sorted(counts) == subscribers, "no chat skipped"
    assert max(counts.values()) == 1, "none sent the summary twice"
