"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests.

It speaks the real HTTP methods with real JSON (getMe, getUpdates,
sendMessage, editMessageText, answerCallbackQuery, answerInlineQuery,
setMyCommands, getChatMember, deleteWebhook, ...), keeps a record of every
call, and can answer with errors: 403 for blocked chats, 429 with
retry_after, 500, and (with a seed) random faults including dropped
connections.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_ID = 777000111
BOT_USERNAME = "docs_test_bot"
TOKEN = "123456789:TEST-token-for-the-fake-server-abcdef"
TEXT_FIELDS = {"text", "query", "data", "callback_query_id", "inline_query_id", "url", "secret_token"}


@dataclass
class Call:
    method: str
    params: dict
    status: int = 200
    at: float = field(default_factory=time.monotonic)


class FakeTelegram:
    def __init__(self, token: str = TOKEN, seed: int | None = None, fault_rate: float = 0.0, timeout_rate: float = 0.0, timeout_s: float = 0.0):
        self.token = token
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self.group_admins: set[tuple[int, int]] = set()
        self.scripted: list[tuple[str, int, int, int | None]] = []  # (method, status, retry_after, chat_id or None) to return next
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.timeout_rate = timeout_rate  # requests left hanging past the client's read timeout, then dropped
        self.timeout_s = timeout_s
        self.fault_exempt: set[str] = {"getMe", "getUpdates", "deleteWebhook", "setMyCommands"}
        self.delivered = 0  # successful sendMessage calls
        self.trip: tuple[int, object] | None = None  # (n, fn): call fn() once n messages were delivered
        self._updates: list[dict] = []
        self._next_update = 1
        self._next_message = 1000
        self._chats: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ updates the tests push

    def _push(self, update: dict) -> None:
        with self._cond:
            update["update_id"] = self._next_update
            self._next_update += 1
            self._updates.append(update)
            self._cond.notify_all()

    def chat(self, chat_id: int, chat_type: str = "private") -> dict:
        chat = {"id": chat_id, "type": chat_type}
        chat.update({"title": f"Group {chat_id}"} if chat_type != "private" else {"first_name": f"User{chat_id}"})
        self._chats[chat_id] = chat
        return chat

    def message(self, chat_id: int, text: str, chat_type: str = "private", user_id: int | None = None, reply_to: dict | None = None) -> dict:
        with self._cond:
            self._next_message += 1
            message_id = self._next_message
        user_id = user_id or (chat_id if chat_type == "private" else 5000)
        msg = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "text": text,
        }
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        at = text.find(f"@{BOT_USERNAME}")
        if at >= 0 and not text.startswith("/"):
            entities.append({"type": "mention", "offset": at, "length": len(BOT_USERNAME) + 1})
        if entities:
            msg["entities"] = entities
        if reply_to:
            msg["reply_to_message"] = reply_to
        self._push({"message": msg})
        return msg

    def press(self, chat_id: int, data: str, message: dict | None = None, user_id: int | None = None) -> str:
        query_id = f"cb{self._next_update}"
        message = message or {"message_id": 1, "date": int(time.time()), "chat": self.chat(chat_id), "text": "buttons"}
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Presser"},
                    "chat_instance": "ci",
                    "message": message,
                    "data": data,
                }
            }
        )
        return query_id

    def inline(self, user_id: int, query: str) -> str:
        query_id = f"iq{self._next_update}"
        self._push({"inline_query": {"id": query_id, "from": {"id": user_id, "is_bot": False, "first_name": "U"}, "query": query, "offset": ""}})
        return query_id

    # ------------------------------------------------------------ what the bot did

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[dict]:
        with self._cond:
            return [c.params for c in self.calls if c.method == method and c.status == 200 and (chat_id is None or c.params.get("chat_id") == chat_id)]

    # ------------------------------------------------------------ HTTP

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes; without this, Nagle + delayed ACK add 40 ms each.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                method = self.path[len(prefix) :]
                params = fake._parse(body, self.headers.get("Content-Type", ""))
                status, payload = fake._dispatch(method, params)
                if status == 0:  # a dropped connection
                    self.close_connection = True
                    self.connection.close()
                    return
                self._reply(status, payload)

            do_GET = do_POST

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the bot went away mid-request
                    pass

        return Handler

    @staticmethod
    def _parse(body: bytes, content_type: str) -> dict:
        if not body:
            return {}
        if "application/json" in content_type:
            return json.loads(body)
        params = {}
        for key, values in parse_qs(body.decode(), keep_blank_values=True).items():
            value = values[0]
            if key not in TEXT_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params

    def _fault(self, method: str, params: dict) -> tuple[int, dict] | None:
        with self._cond:
            for i, (m, status, retry_after, chat_id) in enumerate(self.scripted):
                if m == method and chat_id in (None, params.get("chat_id")):
                    del self.scripted[i]
                    return status, _error(status, retry_after)
        if method in self.fault_exempt:
            return None
        with self._cond:
            roll = self.rng.random()
            status = self.rng.choice([500, 429, 0, 502])
        if roll < self.timeout_rate:
            time.sleep(self.timeout_s)
            return 0, {}
        if roll < self.timeout_rate + self.fault_rate:
            return status, _error(status, 1)
        return None

    def _dispatch(self, method: str, params: dict) -> tuple[int, dict]:
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        fault = self._fault(method, params)
        if fault is None and method in ("sendMessage", "editMessageText") and params.get("chat_id") in self.blocked:
            fault = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        status, payload = fault or (200, {"ok": True, "result": self._result(method, params)})
        with self._cond:
            self.calls.append(Call(method, params, status))
            if method == "sendMessage" and status == 200:
                self.delivered += 1
        if self.trip and self.delivered >= self.trip[0]:
            fn, self.trip = self.trip[1], None
            fn()
        return status, payload

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout:
                self._cond.wait(timeout)
            return list(self._updates)

    def _result(self, method: str, params: dict):
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Docs",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
            }
        if method in ("sendMessage", "editMessageText"):
            chat_id = params.get("chat_id")
            with self._cond:
                self._next_message += 1
                message_id = params.get("message_id") or self._next_message
            chat = self._chats.get(chat_id, {"id": chat_id, "type": "private" if isinstance(chat_id, int) and chat_id > 0 else "group"})
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Docs", "username": BOT_USERNAME},
                "text": params.get("text", ""),
            }
        if method == "getChatMember":
            status = "administrator" if (params.get("chat_id"), params.get("user_id")) in self.group_admins else "member"
            user = {"id": params.get("user_id"), "is_bot": False, "first_name": "Member"}
            if status == "administrator":
                return {"status": status, "user": user, "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                        "can_delete_messages": True, "can_manage_video_chats": True, "can_restrict_members": True,
                        "can_promote_members": False, "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                        "can_edit_stories": False, "can_delete_stories": False}
            return {"status": status, "user": user}
        return True


def _error(status: int, retry_after: int) -> dict:
    if status == 429:
        return {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry_after}", "parameters": {"retry_after": retry_after}}
    if status == 403:
        return {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    return {"ok": False, "error_code": status, "description": "Internal Server Error" if status == 500 else "Bad Gateway"}
