"""Server fixtures: a real uvicorn on 127.0.0.1 (in a thread) over each store, and test devices.

A test device holds real Ed25519 keys (PyNaCl): an identity key that signs the device
certificate, and the device key that signs challenges. Its curve25519 key is 32 random bytes: the
host treats keys as opaque. The clock is injected, so tests expire tokens by moving it forward.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey

from backchannel.server import HostConfig, Limits
from backchannel.server.auth import b64, certificate_message, challenge_message
from backchannel.server.local import serve_locally
from backchannel.store import Store, open_store
from tests.store.embedded import new_database, postgres_server

__all__ = ["postgres_server"]

#: No rate limit unless a test asks for one.
UNLIMITED = Limits(rate_per_s=0)


class Clock:
    """A settable clock (seconds since the epoch) shared by a test and its host."""

    def __init__(self) -> None:
        self._now = 1_800_000_000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += seconds


@dataclass
class LiveHost:
    """A running host: its URL, its database URL and its clock."""

    url: str
    db_url: str
    clock: Clock

    def client(self) -> httpx.Client:
        """An HTTP client for this host (close it, or use it as a context manager)."""
        return httpx.Client(base_url=self.url, timeout=30.0)

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A second handle on the host's database, to inspect what was stored."""
        opened = open_store(self.db_url, migrate=False)
        try:
            yield opened
        finally:
            opened.close()


@contextmanager
def running_host(db_url: str, limits: Limits = UNLIMITED) -> Iterator[LiveHost]:
    """Serve the app with uvicorn on a free 127.0.0.1 port, in a thread, until the block ends."""
    clock = Clock()
    with serve_locally(HostConfig(db_url=db_url, limits=limits, clock=clock)) as url:
        yield LiveHost(url, db_url, clock)


def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database on the named engine."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'host.db'}"
    return new_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live_host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveHost]:
    """One host per test module and engine (tests create their own devices and talks)."""
    db_url = database_url(request.param, tmp_path_factory.mktemp("host"), request)
    with running_host(db_url) as host:
        yield host


@pytest.fixture
def client(live_host: LiveHost) -> Iterator[httpx.Client]:
    """An HTTP client for the module's host."""
    with live_host.client() as opened:
        yield opened


@dataclass(eq=False)
class Dev:
    """A test device: real Ed25519 identity and device keys, and its bearer token once logged in."""

    device_id: str
    identity: SigningKey
    key: SigningKey
    curve25519: bytes = field(default_factory=lambda: os.urandom(32))
    token: str | None = None

    @classmethod
    def new(cls, identity: SigningKey | None = None) -> Dev:
        """A fresh device (of a fresh identity unless one is given)."""
        return cls(
            "dev-" + secrets.token_hex(8), identity or SigningKey.generate(), SigningKey.generate()
        )

    def registration(self) -> dict[str, Any]:
        """The registration body, with a certificate signed by the identity key."""
        identity = bytes(self.identity.verify_key)
        ed25519 = bytes(self.key.verify_key)
        message = certificate_message(self.device_id, identity, self.curve25519, ed25519)
        return {
            "device_id": self.device_id,
            "identity": b64(identity),
            "curve25519": b64(self.curve25519),
            "ed25519": b64(ed25519),
            "certificate": b64(self.identity.sign(message).signature),
        }

    def sign_challenge(self, challenge: str) -> dict[str, Any]:
        """The token request answering a challenge."""
        raw = base64.b64decode(challenge)
        signature = self.key.sign(challenge_message(self.device_id, raw)).signature
        return {"device_id": self.device_id, "challenge": challenge, "signature": b64(signature)}

    def login(self, client: httpx.Client) -> str:
        """Get a challenge, sign it, keep the token."""
        got = client.post("/v1/auth/challenge", json={"device_id": self.device_id})
        assert got.status_code == 201, got.text
        issued = client.post("/v1/auth/token", json=self.sign_challenge(got.json()["challenge"]))
        assert issued.status_code == 201, issued.text
        self.token = issued.json()["token"]
        return self.token

    def join(self, client: httpx.Client) -> Dev:
        """Register and log in."""
        response = client.post("/v1/devices", json=self.registration())
        assert response.status_code == 201, response.text
        self.login(client)
        return self

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header."""
        assert self.token is not None
        return {"Authorization": f"Bearer {self.token}"}


def create_talks(client: httpx.Client, creator: Dev) -> str:
    """Create a talks as ``creator``; return its id."""
    response = client.post("/v1/talks", json={}, headers=creator.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["talks_id"])


def admit(client: httpx.Client, talks_id: str, inviter: Dev, invitee: Dev) -> None:
    """Invite and admit a device."""
    invite = client.post(f"/v1/talks/{talks_id}/invites", json={}, headers=inviter.auth)
    assert invite.status_code == 201, invite.text
    accepted = client.post(
        "/v1/invites/accept", json={"code": invite.json()["code"]}, headers=invitee.auth
    )
    assert accepted.status_code == 200, accepted.text


def send(
    client: httpx.Client, talks_id: str, sender: Dev, to: dict[Dev, bytes], msg_id: str
) -> httpx.Response:
    """Send one ciphertext per recipient."""
    body = {
        "client_msg_id": msg_id,
        "ciphertexts": {d.device_id: b64(c) for d, c in to.items()},
    }
    return client.post(f"/v1/talks/{talks_id}/messages", json=body, headers=sender.auth)
