"""The command line, run as a person or a tool would run it."""

import json
import subprocess
import sys

from tests.conftest import write

CONTRACT_KEYS = {"question", "answered", "answer", "confidence", "citations", "suggestions"}


def run_bot(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_ask_prints_the_answer_and_its_citations():
    result = run_bot("ask", "What happens if the summit ends in stalemate?")
    assert result.returncode == 0
    assert "geopolitical rivalry" in result.stdout
    assert "Sources:" in result.stdout and "alaska-summit-article:t1r3" in result.stdout


def test_ask_json_follows_the_contract():
    data = json.loads(run_bot("ask", "--json", "What does Putin want?").stdout)
    assert CONTRACT_KEYS <= set(data)
    assert data["answered"] is True and isinstance(data["confidence"], float)
    citation = data["citations"][0]
    assert set(citation) == {"document", "section", "passage", "quote", "sources"}
    assert all(set(s) == {"n", "url"} and isinstance(s["n"], int) for s in citation["sources"])


def test_ask_json_declines_with_empty_answer_and_suggestions():
    data = json.loads(run_bot("ask", "--json", "Who hosts the leaders' dinner?").stdout)
    assert data["answered"] is False and data["answer"] == "" and data["citations"] == []


def test_ask_json_stdin_answers_one_line_each_in_order_with_blank_lines_not_answered():
    result = run_bot("ask", "--json", "-", stdin="What does Putin want?\n\nstalemate\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["What does Putin want?", "", "stalemate"]
    assert [r["answered"] for r in rows] == [True, False, True]


def test_kb_option_points_at_another_knowledge_directory(tmp_path):
    write(tmp_path / "kb" / "sources" / "owls.txt", "Owls\nOwls can rotate their heads about 270 degrees.\n")
    data = json.loads(run_bot("ask", "--json", "--kb", str(tmp_path / "kb"), "how far can owls rotate their heads").stdout)
    assert data["answered"] and data["citations"][0]["passage"] == "owls:p1"


def test_broken_knowledge_gives_a_clear_error_not_a_traceback(tmp_path):
    write(tmp_path / "kb" / "sources" / "a.txt", "Some text.\n")
    write(tmp_path / "kb" / "qa" / "bad.yaml", "entries: [\n")
    result = run_bot("ask", "--kb", str(tmp_path / "kb"), "anything")
    assert result.returncode == 1
    assert "bad.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_without_a_token_or_terminal_start_explains_what_to_do(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(__import__("pathlib").Path(__file__).parent.parent)}
    result = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr


def test_chat_answers_in_the_terminal_until_quit():
    result = run_bot("chat", stdin="hello\nWhat does Trump want?\n/quit\n")
    assert result.returncode == 0
    assert "Hello!" in result.stdout and "ceasefire in Ukraine" in result.stdout


def test_without_a_token_in_a_terminal_it_starts_the_console_chat(tmp_path):
    import os
    import pty
    import select

    main, child = pty.openpty()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "dumb"}
    proc = subprocess.Popen([sys.executable, "-m", "bot"], stdin=child, stdout=child, stderr=child, cwd=tmp_path, env=env)
    os.close(child)
    os.write(main, b"What does Putin want?\n/quit\n")
    output = b""
    while proc.poll() is None or select.select([main], [], [], 0)[0]:
        ready, _, _ = select.select([main], [], [], 10)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait(10)
    os.close(main)
    text = output.decode("utf-8", "replace")
    assert "No TELEGRAM_BOT_TOKEN is set" in text and "@BotFather" in text
    assert "Putin aims to solidify" in text
    assert proc.returncode == 0
