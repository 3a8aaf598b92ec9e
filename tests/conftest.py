"""Shared fixtures: the bundled knowledge base and small knowledge directories made on the fly."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import DEFAULT_KB_DIR, load_knowledge

SEED_DOC = "alaska-summit-article"


@pytest.fixture(scope="session")
def kb():
    return load_knowledge(DEFAULT_KB_DIR)


@pytest.fixture(scope="session")
def engine(kb):
    return Engine(kb)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge directory."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KB_DIR, target, ignore=shutil.ignore_patterns(".index"))
    return target


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
