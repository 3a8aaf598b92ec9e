"""Run the real bot (`python -m bot run`) as a separate process against the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fake_telegram import TOKEN, FakeTelegram

ADMIN = 42


def start_bot(fake: FakeTelegram, workdir: Path, **env: str) -> subprocess.Popen:
    settings = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "BOT_DB_PATH": str(workdir / "bot.sqlite3"),
        "BOT_ADMIN_IDS": str(ADMIN),
        "BOT_LOG_LEVEL": "DEBUG",
        **env,
    }
    log = open(workdir / "bot.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], env=settings, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)


def stop_bot(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the bot process")
