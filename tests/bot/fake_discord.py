"""A small, honest fake of Discord for end-to-end tests of the bot with the real discord.py client.

It serves, on 127.0.0.1 only:
- the REST routes the bot calls (`/api/v10/...`): the bot user, the application, command sync (global and
  guild), interaction callbacks, webhook follow-ups and @original edits, channel messages, typing,
  threads started from a message, and `/gateway/bot` (for the sharded client);
- attachment downloads (`/attachments/<name>`), standing in for the CDN;
- a gateway websocket: HELLO, heartbeat ACKs, IDENTIFY -> READY + GUILD_CREATE, RESUME -> replay of
  missed events + RESUMED, dispatch of events from the test (INTERACTION_CREATE, MESSAGE_CREATE; the fake
  itself sends THREAD_CREATE when the bot starts a thread), and a way to drop the connection.

It records every REST request and every gateway frame the bot sends, with a timestamp, and mimics the
checks real Discord makes that the flows could trip over: an interaction acknowledged twice or later
than 3 s, a follow-up before the acknowledgement, empty messages, content over 2,000 characters and
embeds over their limits are answered with the documented errors (and recorded as violations).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web

API = "/api/v10"
TOKEN = "fake-bot-token.for-tests-only"
EPHEMERAL = 64
ACK_DEADLINE_S = 3.0


@dataclass
class Recorded:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: dict[str, bytes]
    at: float
    status: int = 200


@dataclass
class InteractionRecord:
    """An interaction the test dispatched and everything the bot sent for it."""

    id: str
    token: str
    payload: dict[str, Any]
    dispatched_at: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # {type, data, at}
    followups: list[dict[str, Any]] = field(default_factory=list)  # message payloads (posted or edits)

    @property
    def acked_at(self) -> float | None:
        return self.callbacks[0]["at"] if self.callbacks else None

    @property
    def answered(self) -> bool:
        """The user sees something: an immediate reply, or a follow-up after a deferral."""
        if any(c["type"] == 4 for c in self.callbacks):
            return True
        return bool(self.followups)

    def messages(self) -> list[dict[str, Any]]:
        """What the user saw: immediate replies' data, then follow-ups."""
        out = [c["data"] for c in self.callbacks if c["type"] == 4]
        return out + self.followups

    def embeds(self) -> list[dict[str, Any]]:
        return [e for m in self.messages() for e in m.get("embeds") or []]

    def text(self) -> str:
        """All content and embed text the user saw, for simple assertions."""
        parts = []
        for m in self.messages():
            parts.append(m.get("content") or "")
            for e in m.get("embeds") or []:
                parts += [e.get("title", ""), e.get("description", ""), (e.get("footer") or {}).get("text", "")]
                parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields", [])]
        return "\n".join(p for p in parts if p)

    def ephemeral(self) -> bool:
        first = self.callbacks[0] if self.callbacks else None
        return bool(first and (first["data"].get("flags", 0) & EPHEMERAL))


def _json_response(data: Any, status: int = 200) -> web.Response:
    # Exactly `application/json`: discord.py treats `; charset=...` as text (see DISCORD_NOTES.md).
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json_response({"code": code, "message": message}, status)


def embed_size(embed: dict[str, Any]) -> int:
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len((embed.get("footer") or {}).get("text", "")) + len((embed.get("author") or {}).get("name", ""))
    total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", []))
    return total


def message_problems(data: dict[str, Any], has_files: bool = False) -> list[str]:
    """What real Discord would reject in a message body (50006 empty, 50035 over limits)."""
    problems = []
    embeds = data.get("embeds") or []
    if not (data.get("content") or embeds or has_files or data.get("components") or data.get("attachments")):
        problems.append("50006 empty message")
    if len(data.get("content") or "") > 2000:
        problems.append("50035 content over 2000")
    if len(embeds) > 10:
        problems.append("50035 more than 10 embeds")
    for e in embeds:
        if len(e.get("title", "")) > 256 or len(e.get("description", "")) > 4096:
            problems.append("50035 embed title/description over limit")
        if len(e.get("fields", [])) > 25:
            problems.append("50035 more than 25 fields")
        for f in e.get("fields", []):
            if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024 or not f.get("value"):
                problems.append("50035 field over limit or empty")
        if embed_size(e) > 6000:
            problems.append("50035 embed total over 6000")
    return problems


class FakeDiscord:
    """One fake guild with one text channel, a moderator role, a bot user; see the module docstring."""

    def __init__(self, heartbeat_interval_ms: int = 1000) -> None:
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.app_id = self.snowflake()
        self.bot_user = {"id": self.app_id, "username": "Compute Desk", "discriminator": "0", "global_name": None,
                         "avatar": None, "bot": True, "flags": 0}
        self.guild_id = self.snowflake()
        self.channel_id = self.snowflake()
        self.other_channel_id = self.snowflake()
        self.moderator_role_id = self.snowflake()
        self.owner_id = self.snowflake()
        self.requests: list[Recorded] = []
        self.gateway_frames: list[dict[str, Any]] = []  # frames the bot sent (op, d) with 'at'
        self.violations: list[str] = []  # things real Discord would have rejected
        self.interactions: dict[str, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.channel_messages: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # 'global' or guild id -> synced commands
        self.attachments: dict[str, bytes] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.identifies = 0
        self.resumes = 0
        self._ws: web.WebSocketResponse | None = None
        self._sessions: set[str] = set()
        self._seq = 0
        self._sent_events: list[dict[str, Any]] = []  # every dispatch, for RESUME replay
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- ids and payloads -------------------------------------------------------------------------
    def snowflake(self) -> str:
        return str(next(self._ids))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def user(self, user_id: str | None = None, name: str = "member") -> dict[str, Any]:
        return {"id": user_id or self.snowflake(), "username": name, "discriminator": "0", "global_name": name,
                "avatar": None, "bot": False, "flags": 0}

    def member(self, user: dict[str, Any], roles: list[str] = (), permissions: int = 0) -> dict[str, Any]:
        return {"user": user, "roles": list(roles), "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False,
                "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False,
                "permissions": str(permissions)}

    def text_channel(self, channel_id: str, name: str) -> dict[str, Any]:
        return {"id": channel_id, "type": 0, "guild_id": self.guild_id, "name": name, "position": 0,
                "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}

    def guild_payload(self) -> dict[str, Any]:
        role = {"name": "@everyone", "permissions": str(1 << 11 | 1 << 10), "position": 0, "color": 0,
                "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        return {
            "id": self.guild_id, "name": "Fake Guild", "owner_id": self.owner_id, "unavailable": False,
            "member_count": 3, "large": False, "joined_at": "2024-01-01T00:00:00+00:00", "features": [],
            "roles": [{**role, "id": self.guild_id},
                      {**role, "id": self.moderator_role_id, "name": "Moderators", "permissions": "0", "position": 1}],
            "channels": [self.text_channel(self.channel_id, "general"),
                         self.text_channel(self.other_channel_id, "random")],
            "threads": list(self.threads.values()), "members": [self.member(self.bot_user)],
            "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "emojis": [], "stickers": [], "preferred_locale": "en-US",
        }

    def message_payload(self, channel_id: str, body: dict[str, Any], author: dict[str, Any] | None = None,
                        files: dict[str, bytes] | None = None, **extra: Any) -> dict[str, Any]:
        msg_id = self.snowflake()
        attachments = [{"id": self.snowflake(), "filename": name, "size": len(data),
                        "url": f"{self.base_url}/attachments/{name}", "proxy_url": f"{self.base_url}/attachments/{name}"}
                       for name, data in (files or {}).items()]
        msg = {
            "id": msg_id, "channel_id": channel_id, "author": author or self.bot_user,
            "content": body.get("content") or "", "timestamp": "2024-05-01T00:00:00+00:00",
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": attachments, "embeds": body.get("embeds") or [], "pinned": False, "type": 0,
            "flags": body.get("flags", 0), "components": body.get("components") or [],
        }
        if channel_id in {self.channel_id, self.other_channel_id} or channel_id in self.threads:
            msg["guild_id"] = self.guild_id
        msg.update(extra)
        return msg

    # -- server lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{name}", self._attachment)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- REST -------------------------------------------------------------------------------------
    async def _read_body(self, request: web.Request) -> tuple[Any, dict[str, bytes]]:
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(form.get("payload_json", "{}"))
            for key, value in form.items():
                if hasattr(value, "file"):
                    files[value.filename] = value.file.read()
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), files

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        body, files = await self._read_body(request)
        path = "/" + request.match_info["tail"]
        rec = Recorded(request.method, path, dict(request.query), body, files, time.monotonic())
        self.requests.append(rec)
        auth = request.headers.get("Authorization", "")
        parts = path.strip("/").split("/")
        # Interaction callbacks and webhook calls authenticate by their token in the path.
        if parts[0] not in {"interactions", "webhooks"} and auth != f"Bot {TOKEN}":
            rec.status = 401
            return _error(401, 0, "401: Unauthorized")
        response = await self._route(request.method, parts, body or {}, files)
        rec.status = response.status
        return response

    async def _route(self, method: str, parts: list[str], body: Any, files: dict[str, bytes]) -> web.Response:
        match (method, parts):
            case ("GET", ["users", "@me"]):
                return _json_response(self.bot_user)
            case ("GET", ["oauth2", "applications", "@me"]):
                return _json_response({"id": self.app_id, "name": "Compute Desk", "description": "", "icon": None,
                                       "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                                       "flags": 0, "owner": self.user(self.owner_id, "owner"), "team": None})
            case ("GET", ["gateway", "bot"]):
                return _json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                    "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
            case ("PUT", ["applications", _, "commands"]):
                return _json_response(self._sync("global", body))
            case ("PUT", ["applications", _, "guilds", guild_id, "commands"]):
                return _json_response(self._sync(guild_id, body))
            case ("POST", ["interactions", iid, token, "callback"]):
                return self._callback(iid, token, body, files)
            case ("POST", ["webhooks", _, token]):
                return self._followup(token, body, files)
            case ("PATCH", ["webhooks", _, token, "messages", "@original"]):
                return self._followup(token, body, files, edit=True)
            case ("POST", ["channels", channel_id, "typing"]):
                return web.Response(status=204)
            case ("POST", ["channels", channel_id, "messages"]):
                problems = message_problems(body, bool(files))
                if problems:
                    self.violations += problems
                    return _error(400, 50035, "; ".join(problems))
                msg = self.message_payload(channel_id, body, files=files)
                if body.get("message_reference"):
                    msg["type"] = 19
                    msg["message_reference"] = body["message_reference"]
                self.channel_messages.setdefault(channel_id, []).append(msg)
                return _json_response(msg)
            case ("POST", ["channels", channel_id, "messages", message_id, "threads"]):
                thread = {"id": message_id, "type": 11, "guild_id": self.guild_id, "parent_id": channel_id,
                          "owner_id": self.app_id, "name": body.get("name", "thread"), "last_message_id": None,
                          "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                          "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                              "archive_timestamp": "2024-05-01T00:00:00+00:00"}}
                self.threads[message_id] = thread
                await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
                return _json_response(thread)
        return _error(404, 0, f"404: the fake does not serve {method} /{'/'.join(parts)}")

    def _sync(self, scope: str, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for command in body:
            out.append({**command, "id": self.snowflake(), "application_id": self.app_id, "version": "1",
                        **({"guild_id": scope} if scope != "global" else {})})
        self.commands[scope] = out
        return out

    def _callback(self, iid: str, token: str, body: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        rec = self.interactions.get(iid)
        if rec is None or rec.token != token:
            return _error(404, 10062, "Unknown interaction")
        now = time.monotonic()
        if rec.callbacks:
            self.violations.append(f"40060 interaction {iid} acknowledged twice")
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if now - rec.dispatched_at > ACK_DEADLINE_S:
            self.violations.append(f"10062 interaction {iid} acknowledged after {now - rec.dispatched_at:.1f} s")
            return _error(404, 10062, "Unknown interaction")
        kind, data = body.get("type"), body.get("data") or {}
        if kind == 4:
            problems = message_problems(data, bool(files))
            if problems:
                self.violations += problems
                return _error(400, 50035, "; ".join(problems))
        rec.callbacks.append({"type": kind, "data": data, "at": now})
        interaction = {"id": iid, "type": rec.payload["type"], "response_message_loading": kind == 5,
                       "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL)}
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):
            msg = self.message_payload(rec.payload.get("channel_id", self.channel_id), data,
                                       webhook_id=self.app_id, application_id=self.app_id)
            interaction["response_message_id"] = msg["id"]
            resource["message"] = msg
        return _json_response({"interaction": interaction, "resource": resource})

    def _followup(self, token: str, body: dict[str, Any], files: dict[str, bytes], edit: bool = False) -> web.Response:
        rec = self._by_token.get(token)
        if rec is None:
            return _error(404, 10015, "Unknown Webhook")
        if not rec.callbacks:
            self.violations.append(f"follow-up before the acknowledgement of interaction {rec.id}")
            return _error(404, 10015, "Unknown Webhook")
        problems = message_problems(body, bool(files))
        if problems:
            self.violations += problems
            return _error(400, 50035, "; ".join(problems))
        msg = self.message_payload(rec.payload.get("channel_id", self.channel_id), body, files=files,
                                   webhook_id=self.app_id, application_id=self.app_id)
        rec.followups.append({**msg, "files": list(files), "edit": edit})
        return _json_response(msg)

    async def _attachment(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests.append(Recorded("GET", f"/attachments/{name}", {}, None, {}, time.monotonic()))
        if name not in self.attachments:
            return web.Response(status=404)
        return web.Response(body=self.attachments[name], headers={"Content-Type": "application/octet-stream"})

    # -- gateway ----------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op, data = frame.get("op"), frame.get("d")
            self.gateway_frames.append({"op": op, "d": data, "at": time.monotonic()})
            if op == 1:  # heartbeat
                await ws.send_json({"op": 11, "s": None, "t": None, "d": None})
            elif op == 2:  # identify
                if (data or {}).get("token") != TOKEN:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                self.identifies += 1
                session = f"session-{self.snowflake()}"
                self._sessions.add(session)
                self._seq = 0
                self._sent_events.clear()
                await self.dispatch("READY", {
                    "v": 10, "user": self.bot_user, "session_id": session, "resume_gateway_url": self.gateway_url,
                    "guilds": [{"id": self.guild_id, "unavailable": True}], "private_channels": [],
                    "application": {"id": self.app_id, "flags": 0}, "shard": [0, 1],
                }, ws=ws)
                await self.dispatch("GUILD_CREATE", self.guild_payload(), ws=ws)
                self._connected.set()
            elif op == 6:  # resume
                if (data or {}).get("token") != TOKEN or data.get("session_id") not in self._sessions:
                    await ws.send_json({"op": 9, "s": None, "t": None, "d": False})
                    continue
                self.resumes += 1
                missed = [e for e in self._sent_events if e["s"] > (data.get("seq") or 0)]
                for event in missed:
                    await ws.send_json(event)
                await self.dispatch("RESUMED", {}, ws=ws)
                self._connected.set()
        if self._ws is ws:
            self._ws = None
            self._connected.clear()
        return ws

    async def dispatch(self, event: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None) -> None:
        """Send a DISPATCH (op 0) with the next sequence number; kept for replay on RESUME."""
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._sent_events.append(frame)
        target = ws or self._ws
        if target is not None and not target.closed:
            await target.send_json(frame)

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the gateway websocket from the server side (as Discord does on a restart)."""
        ws = self._ws
        self._connected.clear()
        if ws is not None:
            self._ws = None
            await ws.close(code=code, message=b"fake gateway dropped the connection")

    # -- what the test sends ----------------------------------------------------------------------
    def _record(self, payload: dict[str, Any]) -> InteractionRecord:
        rec = InteractionRecord(payload["id"], payload["token"], payload, time.monotonic())
        self.interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        return rec

    def _command(self, name: str) -> dict[str, Any]:
        for scope in (self.guild_id, "global"):  # a guild command shadows a global one in that guild
            for c in self.commands.get(scope, []):
                if c["name"] == name:
                    return c
        raise AssertionError(f"/{name} was never synced by the bot")

    async def slash(self, name: str, options: list[dict[str, Any]] | None = None, *, user: dict | None = None,
                    roles: list[str] = (), permissions: int = 0, channel_id: str | None = None,
                    resolved: dict[str, Any] | None = None, interaction_type: int = 2) -> InteractionRecord:
        """Dispatch an application command (or autocomplete, type 4) as INTERACTION_CREATE."""
        channel_id = channel_id or self.channel_id
        command = self._command(name)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": options or []}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        payload = self._interaction_base(interaction_type, user, roles, permissions, channel_id)
        payload["data"] = data
        rec = self._record(payload)
        await self.dispatch("INTERACTION_CREATE", payload)
        return rec

    async def press(self, message: dict[str, Any], custom_id: str, *, user: dict | None = None) -> InteractionRecord:
        """Dispatch a button press on `message` (a message payload the bot sent)."""
        payload = self._interaction_base(3, user, [], 0, message.get("channel_id", self.channel_id))
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = {k: v for k, v in message.items() if k not in {"files", "edit"}}
        rec = self._record(payload)
        await self.dispatch("INTERACTION_CREATE", payload)
        return rec

    def _interaction_base(self, kind: int, user: dict | None, roles, permissions: int, channel_id: str) -> dict:
        user = user or self.user()
        channel = self.threads.get(channel_id) or self.text_channel(channel_id, "general")
        return {
            "id": self.snowflake(), "application_id": self.app_id, "type": kind, "token": f"itoken-{self.snowflake()}",
            "version": 1, "guild_id": self.guild_id, "channel_id": channel_id, "channel": channel,
            "member": self.member(user, list(roles), permissions), "locale": "en-US", "guild_locale": "en-US",
            "app_permissions": str((1 << 53) - 1), "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": self.guild_id}, "attachment_size_limit": 25 * 1024 * 1024,
        }

    async def user_message(self, content: str, *, user: dict | None = None, channel_id: str | None = None,
                           mention_bot: bool = False, dm: bool = False) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE from a member (or a DM when `dm`)."""
        user = user or self.user()
        channel_id = channel_id or (self.snowflake() if dm else self.channel_id)
        if mention_bot:
            content = f"<@{self.app_id}> {content}"
        msg = self.message_payload(channel_id, {"content": content}, author=user)
        if mention_bot:
            msg["mentions"] = [self.bot_user]
        if not dm:
            msg["guild_id"] = self.guild_id
            msg["member"] = {k: v for k, v in self.member(user).items() if k != "user"}
        else:
            msg.pop("guild_id", None)
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    # -- assertions helpers -------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.02)

    def replies_in(self, channel_id: str) -> list[dict[str, Any]]:
        return self.channel_messages.get(channel_id, [])

    def heartbeats(self) -> list[float]:
        return [f["at"] for f in self.gateway_frames if f["op"] == 1]
