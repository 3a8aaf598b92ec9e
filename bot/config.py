"""Settings from the environment and an optional .env file.

Every malformed setting stops start-up with one line naming the variable and
what to put there; the token itself is never echoed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.engine import DEFAULT_MIN_CONFIDENCE
from bot.knowledge import DEFAULT_KB_DIR

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
DEFAULT_DB_PATH = "data/bot.sqlite3"
DEFAULT_DAILY_TIME = "08:00"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0"
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_SEND_RATE = 30  # Telegram's overall limit, messages per second
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    token: str
    admin_ids: frozenset[int]
    db_path: Path
    daily_time: time
    timezone: ZoneInfo
    knowledge_dir: Path
    log_level: str
    base_url: str | None
    webhook_url: str | None
    webhook_listen: str
    webhook_port: int
    webhook_secret: str | None
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    send_rate: float = DEFAULT_SEND_RATE

    def __repr__(self) -> str:  # never print the token, even in a traceback
        return f"Settings(db_path={self.db_path!s}, admins={sorted(self.admin_ids)}, base_url={self.base_url!r})"


def read_dotenv(path: Path = Path(".env")) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def parse_daily_time(text: str) -> time:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if not match:
        raise ConfigError(f"'{text}' is not a time of day; use HH:MM on a 24-hour clock, e.g. 08:30")
    return time(int(match.group(1)), int(match.group(2)))


def parse_timezone(name: str) -> ZoneInfo:
    try:
        if not re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", name.strip()):
            raise ValueError
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"'{name}' is not a known time zone; use an IANA name such as Europe/Berlin or America/Anchorage") from None


def _admins(text: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError("BOT_ADMIN_IDS must be comma-separated numeric Telegram user ids, e.g. 12345,67890") from None


def load_settings(env: dict[str, str] | None = None, knowledge_dir: str | None = None, min_confidence: float | None = None) -> Settings:
    values = {**read_dotenv(), **os.environ} if env is None else dict(env)
    token = values.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env (see .env.example)")
    if not TOKEN_PATTERN.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters); copy it again from @BotFather")
    try:
        daily = parse_daily_time(values.get("BOT_DAILY_TIME", DEFAULT_DAILY_TIME))
    except ConfigError as exc:
        raise ConfigError(f"BOT_DAILY_TIME: {exc}") from None
    try:
        zone = parse_timezone(values.get("BOT_TIMEZONE", DEFAULT_TIMEZONE))
    except ConfigError as exc:
        raise ConfigError(f"BOT_TIMEZONE: {exc}") from None
    level = values.get("BOT_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"BOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    port_text = values.get("BOT_WEBHOOK_PORT", str(DEFAULT_WEBHOOK_PORT))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError("BOT_WEBHOOK_PORT must be a port number between 1 and 65535")
    webhook_url = values.get("BOT_WEBHOOK_URL") or None
    if webhook_url and not webhook_url.startswith("https://"):
        raise ConfigError("BOT_WEBHOOK_URL must be an https:// address that Telegram can reach")
    base_url = values.get("TELEGRAM_BASE_URL") or None
    if base_url and not re.match(r"^https?://", base_url):
        raise ConfigError("TELEGRAM_BASE_URL must start with http:// or https://, e.g. http://127.0.0.1:8081/bot")
    try:
        send_rate = float(values.get("BOT_SEND_RATE") or DEFAULT_SEND_RATE)
        if send_rate <= 0:
            raise ValueError
    except ValueError:
        raise ConfigError("BOT_SEND_RATE must be a positive number of messages per second (Telegram allows 30)") from None
    kb = Path(knowledge_dir or values.get("BOT_KNOWLEDGE_DIR") or DEFAULT_KB_DIR)
    if not kb.is_dir():
        raise ConfigError(f"BOT_KNOWLEDGE_DIR '{kb}' is not a directory; point it at a folder with sources/ inside")
    return Settings(
        token=token,
        admin_ids=_admins(values.get("BOT_ADMIN_IDS", "")),
        db_path=Path(values.get("BOT_DB_PATH") or DEFAULT_DB_PATH),
        daily_time=daily,
        timezone=zone,
        knowledge_dir=kb,
        log_level=level,
        base_url=base_url,
        webhook_url=webhook_url,
        webhook_listen=values.get("BOT_WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
        webhook_port=int(port_text),
        webhook_secret=values.get("BOT_WEBHOOK_SECRET") or None,
        min_confidence=DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence,
        send_rate=send_rate,
    )
