"""A real device talks to a real host: login, keys, invites, and an Olm message end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from backchannel.client import HostClient
from backchannel.crypto import Context, Device, Identity, Recipient, Sessions, verify_device
from backchannel.errors import AuthInvalid, Forbidden, KeysExhausted, OneTimeKeyClaimed
from tests.server.conftest import LiveHost

CANARY = "CANARY-5f1d-مطلب-إيران"


def device_for(host: LiveHost, name: str) -> tuple[HostClient, Identity]:
    identity = Identity.generate()
    client = HostClient(host.url, Device(f"{name}-{Identity.generate().public_key.hex()[:8]}"))
    client.register(identity)
    return client, identity


def test_an_encrypted_message_crosses_the_host(live_host: LiveHost) -> None:
    """Oman's device seals a message for Iran's device; only Iran's device can open it."""
    oman, _ = device_for(live_host, "oman")
    iran, iran_identity = device_for(live_host, "iran")
    outsider, _ = device_for(live_host, "outsider")
    with oman, iran, outsider:
        talks = oman.create_talks()
        assert iran.accept(oman.invite(talks)) == talks
        assert iran.publish_one_time_keys(3) == 3
        # Oman checks Iran's device against the identity it verified out of band.
        certificate = verify_device(
            oman.device_certificate(iran.device.device_id), iran_identity.public_key
        )
        key = oman.claim_one_time_key(iran.device.device_id)
        sessions = Sessions(oman.device)
        context = Context(talks, "iran-caucus", oman.device.device_id, "msg-1")
        sealed = sessions.seal(
            CANARY.encode(),
            context,
            [Recipient(iran.device.device_id, certificate.curve25519, key)],
        )
        seq = oman.send(talks, "msg-1", sealed).seq
        deliveries, _ = iran.sync()
        (delivery,) = deliveries
        assert (delivery.seq, delivery.sender_device, delivery.talks_id) == (
            seq,
            oman.device.device_id,
            talks,
        )
        opened = Sessions(iran.device).open(delivery.ciphertext, oman.device.curve25519, context)
        assert opened.decode() == CANARY
        assert iran.ack([delivery.position]) == 1
        assert outsider.sync()[0] == []
        with pytest.raises(Forbidden):
            outsider.talks_devices(talks)
    with live_host.store() as store:
        counts = store.counts()
    assert counts  # the host stored something, but never the words:
    if live_host.db_url.startswith("sqlite:///"):
        # The database file and its write-ahead log, byte for byte.
        base = Path(live_host.db_url.removeprefix("sqlite:///"))
        for path in (base, base.with_name(base.name + "-wal")):
            if path.exists():
                assert CANARY.encode() not in path.read_bytes()


def test_one_time_keys_are_claimed_once(live_host: LiveHost) -> None:
    """The one key a device published is handed out once to a peer; the next claim finds none."""
    alice, _ = device_for(live_host, "alice")
    bob, _ = device_for(live_host, "bob")
    with alice, bob:
        bob.accept(alice.invite(alice.create_talks()))
        bob.publish_one_time_keys(1)
        alice.claim_one_time_key(bob.device.device_id)
        with pytest.raises((OneTimeKeyClaimed, KeysExhausted)):
            alice.claim_one_time_key(bob.device.device_id)


def test_a_session_starts_on_the_fallback_key_and_top_up_restores_the_keys(
    live_host: LiveHost,
) -> None:
    """With every one-time key claimed, a joiner holding an invite (not admitted yet) still gets
    the convener's fallback key and its Olm message opens; top-up uploads what was claimed."""
    convener, _ = device_for(live_host, "convener")
    joiner, _ = device_for(live_host, "joiner")
    with convener, joiner:
        talks = convener.create_talks()
        assert convener.top_up_one_time_keys(2) == 2
        assert convener.key_status() == (2, True)
        code = convener.invite(talks)
        for _ in range(2):
            joiner.claim_one_time_key(convener.device.device_id, invite=code)
        fallback = joiner.claim_one_time_key(convener.device.device_id, invite=code)
        certificate = joiner.device_certificate(convener.device.device_id, invite=code)
        context = Context(talks, "-", joiner.device.device_id, "hello")
        sealed = Sessions(joiner.device).seal(
            CANARY.encode(),
            context,
            [Recipient(certificate.device_id, certificate.curve25519, fallback)],
        )[convener.device.device_id]
        opened = Sessions(convener.device).open(sealed, joiner.device.curve25519, context)
        assert opened.decode() == CANARY
        assert joiner.accept(code) == talks
        assert convener.key_status() == (0, True)
        assert convener.top_up_one_time_keys(2) == 2
        assert convener.key_status() == (2, True)


def test_a_device_cannot_log_in_as_another(live_host: LiveHost) -> None:
    """Signing the challenge with the wrong device key is refused."""
    alice, _ = device_for(live_host, "alice")
    with alice:
        impostor = HostClient(live_host.url, Device(alice.device.device_id))
        with impostor, pytest.raises(AuthInvalid):
            impostor.login()
