"""The host's limits: sizes it accepts, lifetimes it grants and how fast a device may call.

Every number a client can run into is here, so the docs, the request schemas and the rate limiter
read the same values. The rate limiter is a token bucket per caller (a device whose token the host
recognises without a database lookup, else the client address): ``rate_per_s`` tokens a second up
to ``rate_burst``; ``rate_per_s = 0`` turns it off (the durability test sends as fast as it can).
It is charged before any token is looked up, so made-up tokens cost their sender like anything
else. Acknowledged deliveries are kept ``retention_days`` (whole UTC days) and then purged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from backchannel.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Limits:
    """Sizes, lifetimes and rates the host enforces."""

    max_body_bytes: int = 4 * 1024 * 1024
    max_id_length: int = 64
    max_ciphertext_bytes: int = 64 * 1024
    max_recipients: int = 200
    max_one_time_keys: int = 100
    max_acks: int = 1000
    max_sync_limit: int = 500
    max_sync_timeout_s: int = 30
    token_ttl_s: int = 15 * 60
    challenge_ttl_s: int = 60
    default_invite_ttl_s: int = 24 * 60 * 60
    max_invite_ttl_s: int = 7 * 24 * 60 * 60
    rate_per_s: float = 20.0
    rate_burst: int = 100
    #: Whole days an acknowledged delivery (its ciphertext) is kept; 0: purged on the ack.
    retention_days: int = 7
    #: Seconds between housekeeping rounds (expired credentials, acknowledged deliveries).
    purge_every_s: float = 300.0
    #: Most bearer tokens recognised from memory (for the rate limiter) at once.
    max_cached_tokens: int = 10_000
    #: Largest document ciphertext (one blob): a 128 MiB file padded, plus chunk overhead.
    max_blob_bytes: int = 160 * 1024 * 1024
    #: Largest chunk of a blob (the client's 1 MiB chunk plus its authentication bytes).
    max_chunk_bytes: int = 1024 * 1024 + 64
    #: Seconds after its declaration an incomplete blob (an upload given up) is deleted; a
    #: device resuming later declares it again and sends every chunk.
    abandoned_blob_s: int = 24 * 60 * 60


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per caller key; raises RateLimited with the wait until the next token."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    #: Buckets kept at most; full buckets (callers idle long enough) are dropped first.
    MAX_BUCKETS = 100_000

    @property
    def enabled(self) -> bool:
        """Whether any call can be refused."""
        return self._rate > 0

    def check(self, key: str) -> None:
        """Take one token from the caller's bucket, or raise RateLimited."""
        if not self.enabled:
            return
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + max(0.0, now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            raise RateLimited(retry_after=float(math.ceil((1.0 - bucket.tokens) / self._rate)))
        bucket.tokens -= 1.0

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled (their callers would start full anyway)."""
        refill = self._burst / self._rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < refill}
