"""SQLite storage: subscriptions, daily deliveries, broadcasts, and the question log.

Every delivery is recorded as it happens, so a broadcast that is cut short
(crash, restart) can resume with exactly the chats that have not had that
day's summary.  All SQL goes through parameters.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    chat_id     INTEGER PRIMARY KEY,
    chat_type   TEXT NOT NULL,
    daily_time  TEXT NOT NULL,          -- HH:MM, local to timezone
    timezone    TEXT NOT NULL,          -- IANA name
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    chat_id     INTEGER NOT NULL,
    day         TEXT NOT NULL,          -- the subscriber's local date of the summary
    status      TEXT NOT NULL,          -- sending | sent | blocked | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (chat_id, day)
);
CREATE TABLE IF NOT EXISTS broadcasts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_by  INTEGER,
    started_at  REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL,
    chat_type   TEXT NOT NULL,
    text        TEXT,                   -- NULL when the bot was not addressed in a group
    kind        TEXT NOT NULL,
    answered    INTEGER NOT NULL,
    entry_id    TEXT,
    asked_at    REAL NOT NULL
);
"""


# Anything shaped like a bot token that a user pastes is not kept: /stats shows logged questions.
TOKEN_LIKE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    chat_type: str
    daily_time: str
    timezone: str
    created_at: float


class Store:
    def __init__(self, path: Path | str):
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ subscriptions

    def subscribe(self, chat_id: int, chat_type: str, daily_time: str, timezone: str) -> None:
        self.db.execute(
            "INSERT INTO subscriptions (chat_id, chat_type, daily_time, timezone, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET daily_time = excluded.daily_time, timezone = excluded.timezone",
            (chat_id, chat_type, daily_time, timezone, time.time()),
        )

    def unsubscribe(self, chat_id: int) -> bool:
        return self.db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)).rowcount > 0

    def subscription(self, chat_id: int) -> Subscription | None:
        row = self.db.execute("SELECT * FROM subscriptions WHERE chat_id = ?", (chat_id,)).fetchone()
        return Subscription(*row) if row else None

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(*row) for row in self.db.execute("SELECT * FROM subscriptions ORDER BY chat_id")]

    # ------------------------------------------------------------ deliveries

    def delivered(self, chat_id: int, day: str) -> bool:
        row = self.db.execute("SELECT status FROM deliveries WHERE chat_id = ? AND day = ?", (chat_id, day)).fetchone()
        return bool(row) and row[0] in ("sending", "sent", "blocked")

    def record_delivery(self, chat_id: int, day: str, status: str) -> None:
        self.db.execute(
            "INSERT INTO deliveries (chat_id, day, status, attempts, updated_at) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT(chat_id, day) DO UPDATE SET status = excluded.status, attempts = attempts + 1, updated_at = excluded.updated_at",
            (chat_id, day, status, time.time()),
        )

    def deliveries(self, day: str | None = None) -> dict[int, str]:
        if day is None:
            return dict(self.db.execute("SELECT chat_id, status FROM deliveries"))
        return dict(self.db.execute("SELECT chat_id, status FROM deliveries WHERE day = ?", (day,)))

    # ------------------------------------------------------------ broadcasts

    def start_broadcast(self, started_by: int | None) -> int:
        return int(self.db.execute("INSERT INTO broadcasts (started_by, started_at) VALUES (?, ?)", (started_by, time.time())).lastrowid)

    def finish_broadcast(self, broadcast_id: int) -> None:
        self.db.execute("UPDATE broadcasts SET finished_at = ? WHERE id = ?", (time.time(), broadcast_id))

    def unfinished_broadcasts(self) -> list[int]:
        return [row[0] for row in self.db.execute("SELECT id FROM broadcasts WHERE finished_at IS NULL ORDER BY id")]

    # ------------------------------------------------------------ question log

    def log_question(self, chat_id: int, chat_type: str, text: str | None, kind: str, answered: bool, entry_id: str = "") -> None:
        self.db.execute(
            "INSERT INTO questions (chat_id, chat_type, text, kind, answered, entry_id, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chat_id, chat_type, TOKEN_LIKE.sub("[REDACTED]", text) if text else text, kind, int(answered), entry_id or None, time.time()),
        )

    def question_stats(self, top: int = 5) -> dict:
        asked, answered = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions WHERE kind IN ('answer', 'declined')"
        ).fetchone()
        declined_top = self.db.execute(
            "SELECT LOWER(TRIM(text)) AS q, COUNT(*) AS n FROM questions WHERE kind = 'declined' AND text IS NOT NULL "
            "GROUP BY q ORDER BY n DESC, q LIMIT ?",
            (top,),
        ).fetchall()
        return {"asked": asked, "answered": answered, "declined": asked - answered, "top_declined": declined_top}
