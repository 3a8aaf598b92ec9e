"""The Telegram layer: one handler per command, in python-telegram-bot's style.

Handlers only translate between Telegram and the engine/renderers; no
matching logic lives here.
"""

from __future__ import annotations

import hashlib
import html
import logging
import time
from collections.abc import Awaitable, Callable
from uuid import uuid4

from telegram import (
    BotCommand,
    Chat,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import briefing, delivery, render
from bot.config import ConfigError, Settings, parse_daily_time, parse_timezone
from bot.engine import Answer, Engine
from bot.knowledge import KnowledgeError, load_knowledge
from bot.store import Store

log = logging.getLogger(__name__)

ADMIN_CACHE_S = 60
REPLY_RETRIES = 3
REPLY_BACKOFF_S = 0.2
INLINE_CACHE_S = 60
FLOOD_WINDOW_S = 10.0
FLOOD_MAX_MESSAGES = 8
PRIVATE_COMMANDS = [
    ("ask", "Ask a question about the documents"),
    ("topics", "Browse the documents' sections"),
    ("sources", "The documents and their source links"),
    ("brief", "A briefing on the documents"),
    ("subscribe", "Daily summary: /subscribe [HH:MM] [Area/City]"),
    ("unsubscribe", "Stop the daily summary"),
    ("settings", "Show your subscription"),
    ("help", "How to use this bot"),
]
GROUP_COMMANDS = PRIVATE_COMMANDS  # the same menu; in groups commands are addressed as /ask@botname
SUBSCRIBE_USAGE = (
    "Usage: /subscribe [HH:MM] [Area/City]\n"
    "For example: /subscribe 07:30 Europe/Berlin. Both are optional; the defaults are {time} {zone}."
)


def short_id(kind: str, value: str) -> str:
    """Callback data within Telegram's 64 bytes, whatever the length of the id."""
    return f"{kind}:{hashlib.sha1(value.encode('utf-8')).hexdigest()[:16]}"


class Library:
    """The knowledge in service; a reload that fails keeps the old one answering."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._install(load_knowledge(settings.knowledge_dir))

    def _install(self, kb) -> None:
        engine = Engine(kb, min_confidence=self.settings.min_confidence)
        self.engine = engine
        self.entries = {short_id("q", e.id): e for e in kb.entries}
        self.by_question = {e.question: e for e in kb.entries}
        self.sections = {short_id("t", s.id): s for d in kb.documents for s in d.sections}
        self.titles = [d.title for d in kb.documents]
        self.summary = render.daily_summary_html(briefing.briefings(kb, max_points=1))

    def reload(self) -> None:
        self._install(load_knowledge(self.settings.knowledge_dir, rebuild=True))


# ---------------------------------------------------------------- helpers


def lib(context: ContextTypes.DEFAULT_TYPE) -> Library:
    return context.application.bot_data["library"]


def store(context: ContextTypes.DEFAULT_TYPE) -> Store:
    return context.application.bot_data["store"]


def settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.application.bot_data["settings"]


def question_buttons(library: Library, questions: list[str]) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(q[:60], callback_data=short_id("q", library.by_question[q].id))]
        for q in questions
        if q in library.by_question
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def send_answer(context: ContextTypes.DEFAULT_TYPE, chat: Chat, question: str, reply_to: int | None = None) -> Answer:
    """Answer, log, and send; in groups as a reply to the asking message, so threads stay readable."""
    library = lib(context)
    answer = library.engine.answer(question)
    store(context).log_question(chat.id, chat.type, question, answer.kind, answer.answered, answer.entry_id)
    parts = render.answer_html(answer, library.titles)
    keyboard = question_buttons(library, answer.suggestions) if answer.kind != "answer" else None
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to and chat.type != ChatType.PRIVATE else None
    for i, part in enumerate(parts):
        markup = keyboard if i == len(parts) - 1 else None
        await with_retries(
            lambda: context.bot.send_message(
                chat.id, part, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True, reply_parameters=quote
            )
        )
    return answer


async def with_retries(send: Callable[[], Awaitable[Message]]) -> Message:
    """Replies survive a passing server error, dropped connection or flood wait, with a shorter budget than broadcasts."""
    return await delivery.with_retries(send, network_retries=REPLY_RETRIES, retry_after_waits=REPLY_RETRIES, backoff_s=REPLY_BACKOFF_S)


async def too_fast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Per-user flood guard: past the limit, messages are dropped with one notice per burst."""
    user = update.effective_user
    if user is None:
        return False
    now = time.monotonic()
    recent = [t for t in context.user_data.get("recent", []) if now - t < FLOOD_WINDOW_S] + [now]
    context.user_data["recent"] = recent
    if len(recent) <= FLOOD_MAX_MESSAGES:
        context.user_data["warned"] = False
        return False
    if not context.user_data.get("warned"):
        context.user_data["warned"] = True
        await update.effective_message.reply_text("You're going a little fast — I'll answer again in a few seconds.")
    return True


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return update.effective_user is not None and update.effective_user.id in settings(context).admin_ids


async def refuse_non_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    if is_admin(update, context):
        return False
    await update.effective_message.reply_text("Sorry, only the bot's administrators can use that command.")
    return True


async def may_manage_subscription(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In groups only group administrators change the subscription (cached briefly)."""
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE:
        return True
    if user is None:
        return False
    cache = context.application.bot_data.setdefault("admin_cache", {})
    key = (chat.id, user.id)
    cached = cache.get(key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
        allowed = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    except TelegramError:
        allowed = False
    cache[key] = (allowed, time.monotonic() + ADMIN_CACHE_S)
    return allowed


# ---------------------------------------------------------------- commands


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    library = lib(context)
    text = (
        f"Hello! I answer questions about {html.escape(render.topics_phrase(library.titles))}, "
        "and every answer shows where in the document it comes from.\n\n"
        "Just type a question, or try one of these:"
    )
    await update.effective_message.reply_html(text, reply_markup=question_buttons(library, library.engine.starter_questions()))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    library = lib(context)
    commands = "\n".join(f"/{name} — {html.escape(about)}" for name, about in PRIVATE_COMMANDS)
    text = (
        f"{html.escape(render.message(Answer('', 'help'), library.titles))}\n\n{commands}\n\n"
        "In groups, use /ask, mention me, or reply to one of my messages."
    )
    await update.effective_message.reply_html(text)


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await too_fast(update, context):
        return
    question = " ".join(context.args or [])
    if not question.strip():
        await update.effective_message.reply_text("Usage: /ask QUESTION — for example: /ask What does Putin want from the summit?")
        return
    await send_answer(context, update.effective_chat, question, update.effective_message.message_id)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await too_fast(update, context):
        return
    await send_answer(context, update.effective_chat, update.effective_message.text)


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group message addressed to the bot, or None for chatter."""
    text = message.text or ""
    mention = f"@{username}".lower()
    mentioned = any(
        e.type == MessageEntityType.MENTION and message.parse_entity(e).lower() == mention for e in message.entities
    )
    replied = message.reply_to_message is not None and message.reply_to_message.from_user is not None and message.reply_to_message.from_user.id == bot_id
    if not (mentioned or replied):
        return None
    return " ".join(w for w in text.split() if w.lower() != mention)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    question = addressed_text(message, context.bot.username, context.bot.id)
    if question is None:
        return
    if await too_fast(update, context):
        return
    await send_answer(context, message.chat, question, message.message_id)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    library = lib(context)
    rows = [[InlineKeyboardButton(s.title[:60], callback_data=key)] for key, s in library.sections.items()]
    await update.effective_message.reply_text("Pick a section to see its key points:", reply_markup=InlineKeyboardMarkup(rows))


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_html(render.sources_html(lib(context).engine.kb.documents), disable_web_page_preview=True)


async def brief(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    for part in render.briefing_html(briefing.briefings(lib(context).engine.kb)):
        await update.effective_message.reply_html(part, disable_web_page_preview=True, do_quote=False)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    conf = settings(context)
    usage = SUBSCRIBE_USAGE.format(time=conf.daily_time.strftime("%H:%M"), zone=conf.timezone.key)
    if not await may_manage_subscription(update, context):
        await update.effective_message.reply_text("Only this group's administrators can change its daily summary.")
        return
    args = list(context.args or [])
    if len(args) > 2:
        await update.effective_message.reply_text(usage)
        return
    at, zone = conf.daily_time.strftime("%H:%M"), conf.timezone.key
    try:
        for arg in args:
            if ":" in arg:
                at = parse_daily_time(arg).strftime("%H:%M")
            else:
                zone = parse_timezone(arg).key
    except ConfigError as exc:
        await update.effective_message.reply_text(f"{exc}.\n\n{usage}")
        return
    chat = update.effective_chat
    store(context).subscribe(chat.id, chat.type, at, zone)
    delivery.schedule(context.application, store(context).subscription(chat.id))
    await update.effective_message.reply_text(f"Subscribed: a daily summary every day at {at} ({zone}). /unsubscribe stops it.")


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await may_manage_subscription(update, context):
        await update.effective_message.reply_text("Only this group's administrators can change its daily summary.")
        return
    chat_id = update.effective_chat.id
    removed = store(context).unsubscribe(chat_id)
    delivery.unschedule(context.application, chat_id)
    await update.effective_message.reply_text("Unsubscribed: no more daily summaries." if removed else "This chat is not subscribed.")


async def show_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sub = store(context).subscription(update.effective_chat.id)
    if sub is None:
        await update.effective_message.reply_text("No daily summary for this chat. /subscribe [HH:MM] [Area/City] starts one.")
        return
    await update.effective_message.reply_text(f"Daily summary at {sub.daily_time} ({sub.timezone}). /unsubscribe stops it.")


# ---------------------------------------------------------------- admin


async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await refuse_non_admin(update, context):
        return
    status = await with_retries(lambda: update.effective_message.reply_text("Broadcasting today's summary…"))
    # In the background, so answers to everyone else keep flowing meanwhile.
    context.application.create_task(_broadcast_with_progress(context, status, update.effective_user.id), name="broadcast")


async def _broadcast_with_progress(context: ContextTypes.DEFAULT_TYPE, status: Message, admin_id: int) -> None:
    async def progress(tally: delivery.Tally) -> None:
        try:
            await status.edit_text(f"Broadcasting… {tally.done}/{tally.total} (sent {tally.sent}, blocked {tally.blocked}, failed {tally.failed})")
        except TelegramError:
            pass  # a missed progress update is harmless

    tally = await delivery.run_broadcast(context.application, admin_id, progress)
    await with_retries(
        lambda: status.edit_text(
            f"Broadcast done: {tally.sent} sent, {tally.skipped} already had today's summary, "
            f"{tally.blocked} blocked (unsubscribed), {tally.failed} failed (retried at next start)."
        )
    )


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await refuse_non_admin(update, context):
        return
    s = store(context).question_stats()
    lines = [
        f"Subscribers: {len(store(context).subscriptions())}",
        f"Questions asked: {s['asked']} (answered {s['answered']}, declined {s['declined']})",
    ]
    if s["top_declined"]:
        lines.append("Most frequent declined questions:")
        lines += [f"  {n}× {q}" for q, n in s["top_declined"]]
    await update.effective_message.reply_text("\n".join(lines))


async def reload_knowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await refuse_non_admin(update, context):
        return
    try:
        lib(context).reload()
    except KnowledgeError as exc:
        listed = "\n".join(f"• {p}" for p in exc.problems[:15])
        await update.effective_message.reply_text(f"Reload refused; the previous knowledge stays in service.\n{listed}")
        return
    kb = lib(context).engine.kb
    await update.effective_message.reply_text(f"Reloaded: {len(kb.documents)} document(s), {len(kb.passages)} passages, {len(kb.entries)} curated entries.")


# ---------------------------------------------------------------- buttons and inline mode


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    library = lib(context)
    data = query.data or ""
    chat = update.effective_chat  # also there when the button's message is too old to access
    if data in library.entries:
        await query.answer()
        if chat:
            await send_answer(context, chat, library.entries[data].question)
    elif data in library.sections:
        await query.answer()
        section = briefing.section_brief(library.engine.kb, library.sections[data].id)
        if section and chat:
            for part in render.pack([render.section_html(section)]):
                await context.bot.send_message(chat.id, part, parse_mode=ParseMode.HTML, disable_web_page_preview=True)
    else:
        await query.answer("That button is out of date. Send /topics or ask your question again.", show_alert=False)


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    text = query.query.strip()
    if not text:
        await query.answer([], cache_time=INLINE_CACHE_S)
        return
    library = lib(context)
    answer = library.engine.answer(text)
    if not answer.answered:
        await query.answer([], cache_time=INLINE_CACHE_S, button=None)
        return
    body = render.answer_html(answer, library.titles)[0]
    result = InlineQueryResultArticle(
        id=str(uuid4()),
        title=text[:100],
        description=render.short_quote(answer.text, 120),
        input_message_content=InputTextMessageContent(body, parse_mode=ParseMode.HTML, disable_web_page_preview=True),
    )
    await query.answer([result], cache_time=INLINE_CACHE_S)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("I don't know that command. /help lists what I can do — or just ask a question.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update: %s", context.error, exc_info=context.error)


# ---------------------------------------------------------------- application


async def post_init(application: Application) -> None:
    bot = application.bot
    await bot.set_my_commands([BotCommand(c, d) for c, d in PRIVATE_COMMANDS], scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands([BotCommand(c, d) for c, d in GROUP_COMMANDS], scope=BotCommandScopeAllGroupChats())
    d: delivery.Deliverer = application.bot_data["deliverer"]
    for sub in d.store.subscriptions():
        delivery.schedule(application, sub)
    application.job_queue.run_once(delivery.resume_job, when=0, name="resume-deliveries")
    log.info("ready as @%s with %d subscriptions", bot.username, len(d.store.subscriptions()))


async def post_shutdown(application: Application) -> None:
    application.bot_data["store"].close()


def build_application(conf: Settings, rate_limiter: AIORateLimiter | None = None) -> Application:
    """The bot, wired up; rate_limiter defaults to Telegram's limits (BOT_SEND_RATE overall, 20/min per group)."""
    library = Library(conf)
    db = Store(conf.db_path)
    builder = (
        Application.builder()
        .token(conf.token)
        .rate_limiter(rate_limiter or delivery.DeliveryRateLimiter(overall_max_rate=conf.send_rate, group_max_rate=20, max_retries=3))
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if conf.base_url:
        builder = builder.base_url(conf.base_url).base_file_url(conf.base_url.replace("/bot", "/file/bot", 1))
    application = builder.build()
    application.bot_data.update(library=library, store=db, settings=conf, deliverer=delivery.Deliverer(db, lambda: library.summary))

    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("ask", ask))
    application.add_handler(CommandHandler("topics", topics))
    application.add_handler(CommandHandler("sources", sources))
    application.add_handler(CommandHandler("brief", brief))
    application.add_handler(CommandHandler("subscribe", subscribe))
    application.add_handler(CommandHandler("unsubscribe", unsubscribe))
    application.add_handler(CommandHandler("settings", show_settings))
    application.add_handler(CommandHandler("broadcast", broadcast))
    application.add_handler(CommandHandler("stats", stats))
    application.add_handler(CommandHandler("reload", reload_knowledge))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, private_text))
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, group_text))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(InlineQueryHandler(inline_query))
    application.add_error_handler(on_error)
    return application
