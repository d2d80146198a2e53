"""Olm envelopes: round trips to many devices, ratchets both ways, binding, tampering, restarts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.crypto import Context, Device, Recipient, Sessions
from backchannel.errors import DecryptionFailed


def pair_up(sender: Sessions, receivers: list[Sessions]) -> list[Recipient]:
    """Recipients for a first message: each receiver publishes one one-time key."""
    recipients = []
    for receiver in receivers:
        (key,) = receiver.device.publish_one_time_keys(1).values()
        recipients.append(Recipient(receiver.device.device_id, receiver.device.curve25519, key))
    return recipients


def context(sender: str, message: str = "m1", room: str = "caucus") -> Context:
    return Context(talks="t", room=room, sender=sender, message=message)


@settings(max_examples=12, deadline=None)
@given(st.text(max_size=300), st.integers(2, 30))
def test_seal_open_round_trip_to_many_devices(text: str, count: int) -> None:
    """Any text (Arabic and Persian included) reaches every one of 2–30 devices intact."""
    alice = Sessions(Device("alice"))
    others = [Sessions(Device(f"d{i}")) for i in range(count)]
    sealed = alice.seal(text.encode(), context("alice"), pair_up(alice, others))
    assert set(sealed) == {o.device.device_id for o in others}
    for other in others:
        opened = other.open(
            sealed[other.device.device_id], alice.device.curve25519, context("alice")
        )
        assert opened.decode() == text


def test_ratchet_both_ways_in_order() -> None:
    """After the first message, replies and further messages flow both ways."""
    alice, bob = Sessions(Device("alice")), Sessions(Device("bob"))
    first = alice.seal("سلام".encode(), context("alice", "m0"), pair_up(alice, [bob]))["bob"]
    assert bob.open(first, alice.device.curve25519, context("alice", "m0")).decode() == "سلام"
    for n in range(1, 6):
        back = bob.seal(
            f"reply {n}".encode(),
            context("bob", f"b{n}"),
            [Recipient("alice", alice.device.curve25519)],
        )["alice"]
        assert (
            alice.open(back, bob.device.curve25519, context("bob", f"b{n}"))
            == f"reply {n}".encode()
        )
        again = alice.seal(
            f"more {n}".encode(),
            context("alice", f"a{n}"),
            [Recipient("bob", bob.device.curve25519)],
        )["bob"]
        assert (
            bob.open(again, alice.device.curve25519, context("alice", f"a{n}"))
            == f"more {n}".encode()
        )


@pytest.mark.parametrize(
    "wrong",
    [
        context("alice", message="m2"),
        context("alice", room="plenary"),
        Context(talks="other", room="caucus", sender="alice", message="m1"),
    ],
)
def test_a_moved_ciphertext_fails_the_binding(wrong: Context) -> None:
    """A ciphertext presented for another message, room or talks is refused."""
    alice, bob = Sessions(Device("alice")), Sessions(Device("bob"))
    sealed = alice.seal(b"x", context("alice"), pair_up(alice, [bob]))["bob"]
    with pytest.raises(DecryptionFailed):
        bob.open(sealed, alice.device.curve25519, wrong)


def test_every_flipped_byte_fails() -> None:
    """Flipping any byte of a ciphertext makes it fail to open."""
    alice = Sessions(Device("alice"))
    bob_device = Device("bob")
    recipients = pair_up(alice, [Sessions(bob_device)])
    sealed = alice.seal(b"secret", context("alice"), recipients)["bob"]
    for index in range(0, len(sealed), max(1, len(sealed) // 40)):
        bob = Sessions(Device.unpickle("bob", bob_device.pickle(b"k" * 32), b"k" * 32))
        altered = bytearray(sealed)
        altered[index] ^= 0x01
        with pytest.raises(DecryptionFailed):
            bob.open(bytes(altered), alice.device.curve25519, context("alice"))


def test_sessions_survive_a_restart() -> None:
    """Pickled account and sessions go on decrypting after being restored."""
    key = bytes(range(32))
    alice, bob = Sessions(Device("alice")), Sessions(Device("bob"))
    first = alice.seal(b"one", context("alice", "1"), pair_up(alice, [bob]))["bob"]
    bob.open(first, alice.device.curve25519, context("alice", "1"))
    restored = Sessions.unpickle(
        Device.unpickle("bob", bob.device.pickle(key), key), bob.pickle(key), key
    )
    second = alice.seal(b"two", context("alice", "2"), [Recipient("bob", bob.device.curve25519)])
    assert restored.open(second["bob"], alice.device.curve25519, context("alice", "2")) == b"two"


def test_first_message_needs_a_one_time_key() -> None:
    """Without a session or a claimed one-time key there is nothing to encrypt with."""
    alice = Sessions(Device("alice"))
    with pytest.raises(ValueError, match="one-time key"):
        alice.seal(b"x", context("alice"), [Recipient("bob", Device("bob").curve25519)])
