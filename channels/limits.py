"""Budgets that a shopper cannot reset by starting a new session, and who the shopper is.

A per-conversation limit alone is escaped by asking for a new session before every
message (each new conversation brings a fresh budget). So every message is also counted
against the socket it came on and the client address, and every new session against
the socket and the address. One message is accepted only when every budget it is counted
against has room; a refused one is counted nowhere, so a flood does not lock a shopper
out for longer than the window.

Budgets are sliding windows (a log of timestamps per key). With `WEBCHAT_REDIS_URL` they
live in Redis, checked and taken by one Lua script so that two workers cannot both take
the last place; keys carry the channel's prefix and expire with their window. Without
Redis they live in the process (one worker). If Redis cannot be reached the message is
let through and a warning logged: the chat keeps working, only unthrottled.

The client address is the TCP peer, unless the peer is a trusted proxy: then the
right-most address in X-Forwarded-For that is not itself a trusted proxy. Without that
rule anyone could send a made-up X-Forwarded-For per request and never run out of
budget. IPv6 clients are counted per /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from channels.settings import IPNetwork, Rate

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
#: (key, rate) pairs that one event is counted against.
Checks = Sequence[tuple[str, Rate]]

# Memory stores stay bounded however many sockets and addresses come and go.
MAX_MEMORY_KEYS = 100_000


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[IPNetwork]) -> str:
    """The address to count a client against (see the module docstring)."""
    address = _parse(peer)
    if address is None:
        return peer or "unknown"
    if forwarded_for and _is_trusted(address, trusted):
        for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
            parsed = _parse(hop)
            if parsed is None:
                break  # the trusted proxy wrote something we cannot read: use the peer
            address = parsed
            if not _is_trusted(parsed, trusted):
                break
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _is_trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[IPNetwork]
) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


class Budgets(Protocol):
    async def take(self, checks: Checks) -> float:
        """Count one event against every budget if all have room and return 0; else
        count nothing and return the seconds until the fullest one has room again."""
        ...

    async def close(self) -> None: ...


class MemoryBudgets:
    """Sliding windows in this process: enough for one worker."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    async def take(self, checks: Checks) -> float:
        now = self._clock()
        wait = 0.0
        for key, rate in checks:
            stamps = self._seen.get(key)
            if stamps is None:
                continue
            while stamps and now - stamps[0] >= rate.seconds:
                stamps.popleft()
            if len(stamps) >= rate.limit:
                wait = max(wait, stamps[-rate.limit] + rate.seconds - now)
        if wait > 0:
            return wait
        for key, _rate in checks:
            self._seen.setdefault(key, deque()).append(now)
            self._seen.move_to_end(key)
        while len(self._seen) > MAX_MEMORY_KEYS:
            self._seen.popitem(last=False)  # the least recently counted key
        return 0.0

    async def close(self) -> None:
        return None


# KEYS: one sorted set per budget. ARGV: now (ms), a unique member, then limit and window
# (ms) per key. Returns 0 when counted, else the milliseconds until there is room.
_TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local until_free = tonumber(oldest[2]) + window - now
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return math.ceil(wait) end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(window))
end
return 0
"""


class RedisBudgets:
    """The same windows in Redis, shared by every worker and instance."""

    def __init__(self, url: str, prefix: str, clock: Clock = time.time) -> None:
        self._url = url
        self._prefix = prefix
        self._clock = clock
        self._redis: Any = None
        self._script: Any = None
        self._warned_at = -math.inf

    def _client(self) -> Any:
        # Created on first use, inside the worker's event loop (never before the fork).
        if self._redis is None:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(self._url, socket_timeout=2.0)
            self._script = self._redis.register_script(_TAKE_SCRIPT)
        return self._redis

    async def take(self, checks: Checks) -> float:
        if not checks:
            return 0.0
        self._client()
        now_ms = self._clock() * 1000.0
        args: list[Any] = [now_ms, f"{now_ms:.3f}:{uuid.uuid4().hex[:12]}"]
        for _key, rate in checks:
            args += [rate.limit, rate.seconds * 1000.0]
        keys = [f"{self._prefix}:budget:{key}" for key, _rate in checks]
        try:
            wait_ms = await self._script(keys=keys, args=args)
        except Exception as error:  # Redis down must not stop the chat
            self._warn(error)
            return 0.0
        return float(wait_ms) / 1000.0

    def _warn(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            logger.warning(
                "web chat: Redis budgets unavailable, messages are not throttled (%s: %s)",
                type(error).__name__,
                error,
            )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()
            self._redis = None


class OfferedButtons(Protocol):
    """Button payloads the bot offered per conversation: the only "/intent" texts a
    shopper may send (see channels/webchat.py)."""

    async def remember(self, conversation_id: str, payloads: Sequence[str]) -> None: ...

    async def offered(self, conversation_id: str, payload: str) -> bool: ...


# A widget shows buttons only while its page is open; a day covers a page left open.
BUTTON_MEMORY_SECONDS = 24 * 3600
MAX_PAYLOADS_PER_CONVERSATION = 64


class MemoryButtons:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._offered: OrderedDict[str, tuple[float, set[str]]] = OrderedDict()

    async def remember(self, conversation_id: str, payloads: Sequence[str]) -> None:
        _stamp, known = self._offered.pop(conversation_id, (0.0, set()))
        if len(known) + len(payloads) > MAX_PAYLOADS_PER_CONVERSATION:
            known = set()
        known.update(payloads)
        self._offered[conversation_id] = (self._clock(), known)
        while len(self._offered) > MAX_MEMORY_KEYS:
            self._offered.popitem(last=False)

    async def offered(self, conversation_id: str, payload: str) -> bool:
        stamp, known = self._offered.get(conversation_id, (0.0, set()))
        return payload in known and self._clock() - stamp < BUTTON_MEMORY_SECONDS


class RedisButtons:
    """A Redis set per conversation, so that whichever worker holds the shopper's socket
    knows what the worker that ran the bot's turn offered."""

    def __init__(self, budgets: RedisBudgets, prefix: str) -> None:
        self._budgets = budgets  # shares its lazily made client
        self._prefix = prefix

    def _key(self, conversation_id: str) -> str:
        return f"{self._prefix}:buttons:{conversation_id}"

    async def remember(self, conversation_id: str, payloads: Sequence[str]) -> None:
        if not payloads:
            return
        client = self._budgets._client()
        key = self._key(conversation_id)
        try:
            async with client.pipeline(transaction=True) as pipe:
                pipe.sadd(key, *payloads)
                pipe.expire(key, BUTTON_MEMORY_SECONDS)
                await pipe.execute()
        except Exception as error:  # a lost button: plain text
            self._budgets._warn(error)

    async def offered(self, conversation_id: str, payload: str) -> bool:
        client = self._budgets._client()
        try:
            return bool(await client.sismember(self._key(conversation_id), payload))
        except Exception as error:
            self._budgets._warn(error)
            return False
