"""A checker for Telegram's HTML parse mode: only its tags, balanced, everything else escaped."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote", "tg-spoiler", "span"}
ENTITIES = {"lt", "gt", "amp", "quot"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}> is not allowed")
        if tag == "a" and [k for k, _ in attrs] != ["href"]:
            self.problems.append("<a> needs exactly an href")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_data(self, data):
        if any(ch in data for ch in "<>&"):
            self.problems.append(f"unescaped markup in {data[:30]!r}")

    def handle_entityref(self, name):
        if name not in ENTITIES:
            self.problems.append(f"entity &{name}; is not supported")

    def unknown_decl(self, data):
        self.problems.append("declaration")

    def handle_comment(self, data):
        self.problems.append("comment")


def problems(text: str) -> list[str]:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.rawdata:
        checker.problems.append(f"unparsed remainder {checker.rawdata[:30]!r}")
    if checker.stack:
        checker.problems.append(f"unclosed {checker.stack}")
    return checker.problems
