"""Settings: each malformed value stops start-up with one line saying what to fix."""

import subprocess
import sys
from datetime import time

import pytest

from bot.config import ConfigError, load_settings, read_dotenv
from tests.fake_telegram import TOKEN


def settings(**env):
    return load_settings(env={"TELEGRAM_BOT_TOKEN": TOKEN, **env})


def test_defaults_are_documented_values():
    conf = settings()
    assert conf.daily_time == time(8, 0) and conf.timezone.key == "UTC"
    assert str(conf.db_path) == "data/bot.sqlite3" and conf.admin_ids == frozenset()
    assert conf.send_rate == 30 and conf.base_url is None


@pytest.mark.parametrize(
    "env, message",
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "does not look like a bot token"),
        ({"BOT_DAILY_TIME": "8am"}, "BOT_DAILY_TIME: '8am' is not a time of day"),
        ({"BOT_TIMEZONE": "Mars/Olympus"}, "BOT_TIMEZONE: 'Mars/Olympus' is not a known time zone"),
        ({"BOT_ADMIN_IDS": "alice"}, "BOT_ADMIN_IDS must be comma-separated numeric"),
        ({"BOT_WEBHOOK_PORT": "99999"}, "BOT_WEBHOOK_PORT must be a port number"),
        ({"BOT_WEBHOOK_URL": "http://example.org"}, "BOT_WEBHOOK_URL must be an https://"),
        ({"TELEGRAM_BASE_URL": "127.0.0.1:8081"}, "TELEGRAM_BASE_URL must start with http://"),
        ({"BOT_LOG_LEVEL": "LOUD"}, "BOT_LOG_LEVEL must be one of"),
        ({"BOT_SEND_RATE": "-1"}, "BOT_SEND_RATE must be a positive number"),
    ],
)
def test_malformed_settings_are_named_with_what_to_do(env, message):
    with pytest.raises(ConfigError, match=message):
        settings(**env)


def test_error_messages_never_repeat_the_token():
    bad = "12345:short"
    with pytest.raises(ConfigError) as caught:
        settings(TELEGRAM_BOT_TOKEN=bad)
    assert bad not in str(caught.value)


def test_dotenv_values_are_read(tmp_path):
    (tmp_path / ".env").write_text("# comment\nexport BOT_TIMEZONE='Europe/Berlin'\nBOT_DAILY_TIME=07:15\n", encoding="utf-8")
    values = read_dotenv(tmp_path / ".env")
    assert values == {"BOT_TIMEZONE": "Europe/Berlin", "BOT_DAILY_TIME": "07:15"}


def test_startup_with_a_bad_setting_prints_one_line_and_exits(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": TOKEN, "BOT_TIMEZONE": "Nowhere/Special"}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: BOT_TIMEZONE: 'Nowhere/Special' is not a known time zone; use an IANA name such as Europe/Berlin or America/Anchorage"]
