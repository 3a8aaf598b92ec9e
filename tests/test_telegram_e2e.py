"""End to end: the real Application, over HTTP, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.delivery import job_name
from bot.handlers import build_application
from bot.store import Store
from tests.fake_telegram import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram

ADMIN = 42
USER = 1001
GROUP = -100555


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


def settings_for(fake: FakeTelegram, tmp_path, **extra):
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "BOT_DB_PATH": str(tmp_path / "bot.sqlite3"),
        "BOT_ADMIN_IDS": str(ADMIN),
        "BOT_DAILY_TIME": "08:00",
        "BOT_TIMEZONE": "UTC",
    }
    env.update(extra)
    return load_settings(env=env)


@asynccontextmanager
async def running(fake: FakeTelegram, tmp_path, **extra):
    """Start the bot the way run_polling does (post_init, polling, start) and stop it after."""
    app = build_application(settings_for(fake, tmp_path, **extra))
    async with app:
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
    await app.post_shutdown(app)


async def until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for the bot")


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m["text"] for m in fake.sent(chat_id)]


async def test_startup_registers_command_menus_for_private_chats_and_groups(fake, tmp_path):
    async with running(fake, tmp_path):
        await until(lambda: len(fake.sent(method="setMyCommands")) == 2)
    scopes = sorted(c["scope"]["type"] for c in fake.sent(method="setMyCommands"))
    assert scopes == ["all_group_chats", "all_private_chats"]


async def test_private_question_is_answered_with_citations(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "What does the Kremlin want from the summit?")
        await until(lambda: fake.sent(USER))
    reply = fake.sent(USER)[0]
    assert reply["parse_mode"] == "HTML"
    assert "Putin aims to solidify" in reply["text"]
    assert "<b>[1]</b>" in reply["text"] and "Understanding Strategic Objectives" in reply["text"] or "Introduction" in reply["text"]
    assert '<a href="https://www.cfr.org/' in reply["text"]


async def test_markup_in_a_question_is_escaped_in_the_reply(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "<b>hi</b> & what is the weather on Mars?")
        await until(lambda: fake.sent(USER))
    assert "<b>hi</b>" not in fake.sent(USER)[0]["text"]


async def test_declined_question_offers_buttons_and_a_press_answers_it(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "Who hosts the leaders' dinner?")
        await until(lambda: fake.sent(USER))
        declined = fake.sent(USER)[0]
        buttons = [b for row in declined["reply_markup"]["inline_keyboard"] for b in row]
        assert 1 <= len(buttons) <= 3
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
        query_id = fake.press(USER, buttons[0]["callback_data"])
        await until(lambda: len(fake.sent(USER)) == 2 and fake.sent(method="answerCallbackQuery"))
    assert "couldn't find" in declined["text"]
    assert fake.sent(method="answerCallbackQuery")[0]["callback_query_id"] == query_id
    assert "<b>[1]</b>" in fake.sent(USER)[1]["text"]


async def test_stale_or_forged_button_gets_a_polite_answer(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.press(USER, "q:not-a-real-entry")
        await until(lambda: fake.sent(method="answerCallbackQuery"))
    assert "out of date" in fake.sent(method="answerCallbackQuery")[0]["text"]
    assert not fake.sent(USER)


async def test_group_chatter_is_ignored_but_a_mention_is_answered(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(GROUP, "anyone up for lunch? what does Putin want lol", chat_type="group")
        fake.message(GROUP, f"@{BOT_USERNAME} what does Trump want?", chat_type="group")
        await until(lambda: fake.sent(GROUP))
        await asyncio.sleep(0.3)
    replies = fake.sent(GROUP)
    assert len(replies) == 1
    assert "ceasefire in Ukraine" in replies[0]["text"]


async def test_a_reply_to_the_bot_in_a_group_is_answered(fake, tmp_path):
    bot_message = {"message_id": 5, "date": int(time.time()), "chat": {"id": GROUP, "type": "group", "title": "G"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Docs"}, "text": "earlier answer"}
    async with running(fake, tmp_path):
        fake.message(GROUP, "and what about the Arctic?", chat_type="group", reply_to=bot_message)
        await until(lambda: fake.sent(GROUP))
    assert "Arctic region" in fake.sent(GROUP)[0]["text"]


async def test_ask_command_addressed_to_the_bot_works_in_groups(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(GROUP, f"/ask@{BOT_USERNAME} stalemate?", chat_type="group")
        await until(lambda: fake.sent(GROUP))
    assert "geopolitical rivalry" in fake.sent(GROUP)[0]["text"]


async def test_brief_in_a_group_posts_overview_sections_outcomes_and_recommendations(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(GROUP, f"/brief@{BOT_USERNAME}", chat_type="group")
        await until(lambda: "Long-term societal understanding" in "".join(texts(fake, GROUP)))
    body = "".join(texts(fake, GROUP))
    assert 1 <= len(texts(fake, GROUP)) <= 3
    assert "Stalemate or public disagreement — Increases geopolitical rivalry" in body
    assert "Regular Diplomatic Check-Ins — Improved communication" in body
    assert all(len(t) <= 4096 for t in texts(fake, GROUP))


async def test_topics_buttons_show_a_sections_key_points(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "/topics")
        await until(lambda: fake.sent(USER))
        buttons = [b for row in fake.sent(USER)[0]["reply_markup"]["inline_keyboard"] for b in row]
        recommendations = next(b for b in buttons if b["text"].startswith("Recommendations"))
        fake.press(USER, recommendations["callback_data"])
        await until(lambda: len(fake.sent(USER)) == 2)
    assert "People-to-People Exchanges" in fake.sent(USER)[1]["text"]


async def test_inline_mode_offers_the_answer_as_a_result(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.inline(USER, "what happens if the summit fails")
        await until(lambda: fake.sent(method="answerInlineQuery"))
    results = fake.sent(method="answerInlineQuery")[0]["results"]
    assert "geopolitical rivalry" in results[0]["input_message_content"]["message_text"]


async def test_subscribe_rejects_bad_time_and_unknown_zone_with_usage(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "/subscribe 25:99")
        fake.message(USER, "/subscribe 07:30 Mars/Olympus")
        await until(lambda: len(fake.sent(USER)) == 2)
    first, second = texts(fake, USER)
    assert "not a time of day" in first and "Usage: /subscribe" in first
    assert "not a known time zone" in second and "Usage: /subscribe" in second
    assert Store(tmp_path / "bot.sqlite3").subscription(USER) is None


async def test_only_group_admins_change_the_group_subscription(fake, tmp_path):
    fake.group_admins.add((GROUP, 9))
    async with running(fake, tmp_path):
        fake.message(GROUP, f"/subscribe@{BOT_USERNAME} 09:00", chat_type="group", user_id=8)
        await until(lambda: fake.sent(GROUP))
        fake.message(GROUP, f"/subscribe@{BOT_USERNAME} 09:00", chat_type="group", user_id=9)
        await until(lambda: len(fake.sent(GROUP)) == 2)
    assert "Only this group's administrators" in texts(fake, GROUP)[0]
    assert "Subscribed" in texts(fake, GROUP)[1]


async def test_subscription_survives_a_restart_and_the_daily_job_delivers(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "/subscribe 07:30 America/Anchorage")
        await until(lambda: fake.sent(USER))
    assert "07:30 (America/Anchorage)" in texts(fake, USER)[0]
    async with running(fake, tmp_path) as app:
        jobs = app.job_queue.get_jobs_by_name(job_name(USER))
        assert len(jobs) == 1
        assert jobs[0].next_t.astimezone(ZoneInfo("America/Anchorage")).strftime("%H:%M") == "07:30"
        await jobs[0].run(app)
        await until(lambda: len(fake.sent(USER)) == 2)
        await jobs[0].run(app)  # a second run the same day sends nothing more
        await asyncio.sleep(0.2)
    summary = texts(fake, USER)[1]
    assert summary.startswith("<b>Daily summary:") and "[t1r3]" in summary
    assert len(fake.sent(USER)) == 2


async def test_a_chat_that_blocked_the_bot_is_unsubscribed(fake, tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    store.subscribe(USER, "private", "08:00", "UTC")
    store.subscribe(USER + 1, "private", "08:00", "UTC")
    fake.blocked.add(USER + 1)
    async with running(fake, tmp_path):
        fake.message(ADMIN, "/broadcast")
        await until(lambda: any("Broadcast done" in m["text"] for m in fake.sent(ADMIN, "editMessageText")))
    assert len(fake.sent(USER)) == 1
    assert store.subscription(USER + 1) is None
    assert store.subscription(USER) is not None


async def test_retry_after_is_waited_out_and_server_errors_retried(fake, tmp_path):
    Store(tmp_path / "bot.sqlite3").subscribe(USER, "private", "08:00", "UTC")
    fake.scripted += [("sendMessage", 429, 1, USER), ("sendMessage", 500, 0, USER), ("sendMessage", 0, 0, USER)]
    async with running(fake, tmp_path):
        fake.message(ADMIN, "/broadcast")
        await until(lambda: any("Broadcast done" in m["text"] for m in fake.sent(ADMIN, "editMessageText")), timeout=30)
    assert len(fake.sent(USER)) == 1


async def test_a_crash_mid_broadcast_resumes_with_no_duplicates_and_no_gaps(fake, tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    subscribers = list(range(10_000, 10_120))
    for chat_id in subscribers:
        store.subscribe(chat_id, "private", "08:00", "UTC")
    crashed = asyncio.Event()
    loop = asyncio.get_running_loop()

    def crash() -> None:  # the broadcast dies right after the 45th message reached "Telegram"
        for task in asyncio.all_tasks(loop):
            if task.get_name() == "broadcast":
                task.cancel()
        crashed.set()

    fake.trip = (45, lambda: loop.call_soon_threadsafe(crash))
    async with running(fake, tmp_path):
        fake.message(ADMIN, "/broadcast")
        await asyncio.wait_for(crashed.wait(), 15)
    delivered_before = len([c for c in fake.sent() if c["chat_id"] in subscribers])
    assert delivered_before < len(subscribers)
    async with running(fake, tmp_path):
        try:
            await until(lambda: len([c for c in fake.sent() if c["chat_id"] in subscribers]) >= len(subscribers))
        except AssertionError:
            missing = [c for c in subscribers if not fake.sent(c)]
            raise AssertionError(f"missing {missing} statuses {[store.deliveries().get(c) for c in missing]} before={delivered_before}")
        await asyncio.sleep(0.3)
    per_chat = [len(fake.sent(chat_id)) for chat_id in subscribers]
    assert per_chat == [1] * len(subscribers)


async def test_a_summary_missed_while_down_is_sent_at_start_up(fake, tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    due = (datetime.now(ZoneInfo("UTC")) - timedelta(minutes=5)).strftime("%H:%M")
    store.subscribe(USER, "private", due, "UTC")
    store.db.execute("UPDATE subscriptions SET created_at = created_at - 86400")
    if datetime.now(ZoneInfo("UTC")).strftime("%H:%M") < due:  # just after midnight: the summary is not due yet
        pytest.skip("the clock is within five minutes after midnight")
    async with running(fake, tmp_path):
        await until(lambda: fake.sent(USER))
    assert texts(fake, USER)[0].startswith("<b>Daily summary:")


async def test_admin_commands_are_refused_to_non_admins(fake, tmp_path):
    async with running(fake, tmp_path):
        for command in ("/broadcast", "/stats", "/reload"):
            fake.message(USER, command)
        await until(lambda: len(fake.sent(USER)) == 3)
    assert all("only the bot's administrators" in t for t in texts(fake, USER))


async def test_stats_show_questions_answered_declined_and_top_declined(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "What does Putin want?")
        fake.message(USER, "Who hosts the leaders' dinner?")
        fake.message(USER + 1, "who hosts the leaders' dinner?")
        await until(lambda: len(fake.sent(USER)) == 2 and fake.sent(USER + 1))
        fake.message(ADMIN, "/stats")
        await until(lambda: fake.sent(ADMIN))
    report = texts(fake, ADMIN)[0]
    assert "Questions asked: 3 (answered 1, declined 2)" in report
    assert "2× who hosts the leaders' dinner?" in report


async def test_reload_with_broken_knowledge_keeps_the_old_one_serving(fake, tmp_path, kb_copy):
    async with running(fake, tmp_path, BOT_KNOWLEDGE_DIR=str(kb_copy)):
        (kb_copy / "qa" / "broken.yaml").write_text("entries: [\n", encoding="utf-8")
        fake.message(ADMIN, "/reload")
        await until(lambda: fake.sent(ADMIN))
        fake.message(USER, "stalemate")
        await until(lambda: fake.sent(USER))
    assert "Reload refused" in texts(fake, ADMIN)[0] and "broken.yaml:" in texts(fake, ADMIN)[0]
    assert "geopolitical rivalry" in texts(fake, USER)[0]


async def test_start_welcomes_with_three_example_questions_as_buttons(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "/start")
        await until(lambda: fake.sent(USER))
    welcome = fake.sent(USER)[0]
    buttons = [b for row in welcome["reply_markup"]["inline_keyboard"] for b in row]
    assert "Putin–Trump Summit in Alaska" in welcome["text"]
    assert len(buttons) == 3 and all(b["callback_data"].startswith("q:") for b in buttons)


async def test_help_and_sources_list_commands_and_links(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "/help")
        fake.message(USER, "/sources")
        await until(lambda: len(fake.sent(USER)) == 2)
    body = "".join(texts(fake, USER))
    assert "/subscribe" in body and "/topics" in body
    assert 'href="https://time.com/7308684/trump-putin-alaska-talks-ukraine/"' in body


async def test_empty_ask_and_unknown_command_explain_what_to_do(fake, tmp_path):
    async with running(fake, tmp_path):
        fake.message(USER, "/ask")
        await until(lambda: fake.sent(USER))
        fake.message(USER, "/frobnicate")
        await until(lambda: len(fake.sent(USER)) == 2)
    assert texts(fake, USER)[0].startswith("Usage: /ask QUESTION")
    assert "/help" in texts(fake, USER)[1]
