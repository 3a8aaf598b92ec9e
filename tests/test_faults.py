"""Under random Telegram failures (fixed seed) and floods, nothing is lost and nobody waits on anybody else."""

from __future__ import annotations

import asyncio

import pytest

from bot.handlers import FLOOD_MAX_MESSAGES
from bot.store import Store
from tests.fake_telegram import FakeTelegram
from tests.test_telegram_e2e import ADMIN, running, texts, until

SUBSCRIBERS = list(range(20_000, 20_060))
BLOCKED = set(SUBSCRIBERS[::10])
ASKERS = list(range(30_000, 30_010))


@pytest.fixture
def flaky():
    # timeout_s is past python-telegram-bot's default 5 s read timeout, so those requests raise TimedOut.
    with FakeTelegram(seed=1234, fault_rate=0.15, timeout_rate=0.01, timeout_s=5.5) as server:
        server.blocked |= BLOCKED
        yield server


async def test_random_faults_lose_no_summary_and_answers_keep_flowing(flaky, tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    for chat_id in SUBSCRIBERS:
        store.subscribe(chat_id, "private", "08:00", "UTC")
    done = lambda: any("Broadcast done" in m["text"] for m in flaky.sent(ADMIN, "editMessageText"))  # noqa: E731
    async with running(flaky, tmp_path, BOT_SEND_RATE="200"):
        flaky.message(ADMIN, "/broadcast")
        for user in ASKERS:
            flaky.message(user, "What happens if the summit ends in stalemate?")
            await asyncio.sleep(0.05)
        await until(lambda: done() and all(flaky.sent(u) for u in ASKERS), timeout=120)
    assert {c.status for c in flaky.calls} >= {0, 403, 429, 500}  # the faults really happened
    for user in ASKERS:
        assert "geopolitical rivalry" in texts(flaky, user)[0]
    for chat_id in SUBSCRIBERS:
        expected = 0 if chat_id in BLOCKED else 1
        assert len(flaky.sent(chat_id)) == expected, chat_id
        assert (store.subscription(chat_id) is None) == (chat_id in BLOCKED)


async def test_one_user_flooding_gets_one_notice_and_does_not_hold_up_others(tmp_path):
    with FakeTelegram() as fake:
        async with running(fake, tmp_path):
            for i in range(100):
                fake.message(7, f"what does Putin want? #{i}")
            fake.message(8, "What does Trump want?")
            await until(lambda: fake.sent(8))
            await asyncio.sleep(0.5)
        flooder = texts(fake, 7)
    notices = [t for t in flooder if "going a little fast" in t]
    assert len(notices) == 1
    assert len(flooder) <= FLOOD_MAX_MESSAGES + 1
    assert "ceasefire in Ukraine" in texts(fake, 8)[0]
