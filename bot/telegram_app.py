"""Start the Telegram bot: logging that never shows the token, then polling or a webhook."""

from __future__ import annotations

import logging

from telegram import Update

from bot.config import Settings
from bot.handlers import build_application
from bot.knowledge import KnowledgeError

log = logging.getLogger(__name__)


class RedactingFormatter(logging.Formatter):
    """Replaces the token wherever it appears in a formatted log line (URLs, tracebacks)."""

    def __init__(self, secrets: list[str], fmt: str):
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return text


def configure_logging(conf: Settings) -> None:
    handler = logging.StreamHandler()
    secrets = [conf.token, conf.webhook_secret or ""]
    handler.setFormatter(RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(conf.log_level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run(conf: Settings) -> int:
    configure_logging(conf)
    try:
        application = build_application(conf)
    except KnowledgeError as exc:
        log.error("the knowledge base has problems; fix them and start again:\n%s", exc)
        return 1
    if conf.webhook_url:
        log.info("starting with a webhook at %s", conf.webhook_url)
        application.run_webhook(
            listen=conf.webhook_listen,
            port=conf.webhook_port,
            url_path="telegram",
            webhook_url=conf.webhook_url.rstrip("/") + "/telegram",
            secret_token=conf.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        log.info("starting with long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
