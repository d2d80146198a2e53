"""Diffie–Hellman PSI: honest sides agree on the intersection; every deviation is refused."""

from __future__ import annotations

from dataclasses import replace

import nacl.bindings as sodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.crypto import psi
from backchannel.errors import PsiError

SIZE = 8


def pair(mine: set[bytes], theirs: set[bytes], size: int = SIZE) -> tuple[psi.Session, psi.Session]:
    initiator = psi.Session.open("talks-1", "session-1", mine, initiator=True, size=size)
    responder = psi.Session.open("talks-1", "session-1", theirs, initiator=False, size=size)
    return initiator, responder


def run(initiator: psi.Session, responder: psi.Session) -> list[bytes]:
    """Both sides through the wire codec; the bytes of every message sent."""
    wire: list[bytes] = []

    def send(message: psi.Message | None) -> psi.Message:
        assert message is not None
        wire.append(psi.encode(message))
        return psi.decode(wire[-1])

    reply = responder.receive(send(initiator.start()))
    finish = initiator.receive(send(reply))
    confirm = responder.receive(send(finish))
    assert initiator.receive(send(confirm)) is None
    return wire


def code_of(call: object) -> str:
    with pytest.raises(PsiError) as caught:
        assert callable(call)
        call()
    return caught.value.code


items = st.sets(st.binary(min_size=0, max_size=12), max_size=SIZE)


@settings(max_examples=25, deadline=None)
@given(mine=items, theirs=items, canary=st.binary(min_size=8, max_size=16))
def test_honest_sides_learn_the_intersection_only(
    mine: set[bytes], theirs: set[bytes], canary: bytes
) -> None:
    """Each side's result is exactly its items the other holds; the wire shows no item."""
    theirs = set(list(theirs)[: SIZE - 1]) | {b"canary:" + canary}
    mine.discard(b"canary:" + canary)
    mine = set(list(mine)[:SIZE])
    initiator, responder = pair(mine, theirs)
    wire = run(initiator, responder)
    assert initiator.result.matched == responder.result.matched == frozenset(mine & theirs)
    assert initiator.result.other_size == responder.result.other_size == SIZE
    for raw in wire:
        assert canary not in raw and canary.hex().encode() not in raw


def test_padding_hides_the_count() -> None:
    """Whatever a side holds, every point list on the wire has the agreed size."""
    initiator, responder = pair({b"a"}, {b"a", b"b", b"c"})
    offer = initiator.start()
    reply = responder.receive(offer)
    assert isinstance(reply, psi.Reply)
    assert len(offer.points) == len(reply.points) == len(reply.echoed) == SIZE


def test_too_many_items_are_refused() -> None:
    """A side with more items than the agreed size cannot open a session."""
    assert code_of(lambda: pair({bytes([i]) for i in range(SIZE + 1)}, set())) == "psi.too_many"


def deviate_offer(change: object) -> str:
    initiator, responder = pair({b"a", b"b"}, {b"b"})
    offer = initiator.start()
    assert callable(change)
    bad = change(offer)
    code = code_of(lambda: responder.receive(bad))
    # Nothing changed: the honest offer still goes through afterwards.
    assert isinstance(responder.receive(offer), psi.Reply)
    return code


IDENTITY = b"\x01" + bytes(31)


def test_an_invalid_point_is_refused() -> None:
    """A point off the curve, or the identity, is refused with psi.invalid_point."""
    off = bytes(range(32))
    assert not sodium.crypto_core_ed25519_is_valid_point(off)
    assert deviate_offer(lambda o: replace(o, points=(off, *o.points[1:]))) == "psi.invalid_point"
    assert deviate_offer(lambda o: replace(o, points=(IDENTITY, *o.points[1:]))) == (
        "psi.invalid_point"
    )


def test_the_codec_refuses_an_invalid_point() -> None:
    """Decoding checks every point; the identity and bad hex never become a message."""
    initiator, _ = pair({b"a"}, set())
    good = psi.encode(initiator.start())
    raw = good.replace(good.split(b'"points":["')[1][:64], IDENTITY.hex().encode())
    assert code_of(lambda: psi.decode(raw)) == "psi.invalid_point"
    assert code_of(lambda: psi.decode(b'{"kind":"offer"}')) == "psi.malformed"
    assert code_of(lambda: psi.decode(b"\xff")) == "psi.malformed"
    bad = b'{"kind":"confirm","talks":"t","session":"s","confirm":"zz"}'
    assert code_of(lambda: psi.decode(bad)) == "psi.malformed"


def test_wrong_counts_and_duplicates_are_refused() -> None:
    """Fewer points than agreed, or one point twice, are refused."""
    assert deviate_offer(lambda o: replace(o, points=o.points[1:])) == "psi.wrong_count"
    assert deviate_offer(lambda o: replace(o, points=(o.points[0], *o.points[:-1]))) == (
        "psi.duplicate"
    )


def test_other_talks_or_session_are_refused() -> None:
    """A message of other talks or another session is refused with psi.wrong_context."""
    assert deviate_offer(lambda o: replace(o, talks="talks-2")) == "psi.wrong_context"
    assert deviate_offer(lambda o: replace(o, session="session-2")) == "psi.wrong_context"


def test_a_reflected_set_is_refused() -> None:
    """A responder that sends the initiator's own points back, as its set or unblinded, fails."""
    initiator, responder = pair({b"a", b"b"}, {b"b"})
    offer = initiator.start()
    reply = responder.receive(offer)
    assert isinstance(reply, psi.Reply)
    as_set = replace(reply, points=offer.points)
    assert code_of(lambda: initiator.receive(as_set)) == "psi.reflected"
    unblinded = replace(reply, echoed=offer.points)
    assert code_of(lambda: initiator.receive(unblinded)) == "psi.reflected"
    assert isinstance(initiator.receive(reply), psi.Finish)


def test_a_replayed_offer_is_refused_by_its_sender() -> None:
    """An initiator's own offer played back to it as a responder is refused."""
    initiator, _ = pair({b"a"}, set())
    offer = initiator.start()
    mirror = psi.Session.open("talks-1", "session-1", {b"a"}, initiator=False, size=SIZE)
    mirror._mine = offer.points  # the same key and points, as if one device answered itself
    assert code_of(lambda: mirror.receive(offer)) == "psi.reflected"


def test_out_of_order_messages_are_refused() -> None:
    """A message at the wrong step, a second start, or a result asked early is refused."""
    initiator, responder = pair({b"a"}, {b"a"})
    assert code_of(responder.start) == "psi.out_of_order"
    offer = initiator.start()
    assert code_of(initiator.start) == "psi.out_of_order"
    assert code_of(lambda: initiator.receive(offer)) == "psi.out_of_order"
    reply = responder.receive(offer)
    assert reply is not None
    assert code_of(lambda: responder.receive(offer)) == "psi.out_of_order"
    assert code_of(lambda: responder.result) == "psi.out_of_order"
    finish = initiator.receive(reply)
    assert code_of(lambda: initiator.result) == "psi.out_of_order"  # not before confirmation
    assert finish is not None and responder.receive(finish) is not None


def test_a_side_that_aborts_leaves_the_other_without_a_result() -> None:
    """The initiator learns first; if it stops there, the responder has no result at all."""
    initiator, responder = pair({b"a"}, {b"a"})
    reply = responder.receive(initiator.start())
    assert reply is not None and initiator.receive(reply) is not None
    assert code_of(lambda: responder.result) == "psi.out_of_order"


def test_a_dishonest_confirmation_is_detected() -> None:
    """A side that hides part of the intersection is caught by the other's confirmation."""
    initiator, responder = pair({b"a", b"b"}, {b"a", b"b"})
    reply = responder.receive(initiator.start())
    assert reply is not None
    finish = initiator.receive(reply)
    assert isinstance(finish, psi.Finish)
    # The initiator garbles one re-blinded point, so the responder would see a smaller match.
    garbled = tuple(psi.hash_to_point("t", "s", bytes([i])) for i in range(SIZE))
    assert code_of(lambda: responder.receive(replace(finish, echoed=garbled))) == (
        "psi.result_differs"
    )
    confirm = responder.receive(finish)
    assert isinstance(confirm, psi.Confirm)
    assert code_of(lambda: initiator.receive(replace(confirm, confirm=bytes(32)))) == (
        "psi.result_differs"
    )
    assert initiator.receive(confirm) is None and initiator.result.matched == {b"a", b"b"}


def test_points_are_bound_to_talks_and_session() -> None:
    """The same item hashes to unrelated points in other talks or another session."""
    point = psi.hash_to_point("t", "s", b"x")
    assert point != psi.hash_to_point("t2", "s", b"x") != psi.hash_to_point("t", "s2", b"x")
    assert sodium.crypto_core_ed25519_is_valid_point(point)
    assert "canary" not in repr(pair({b"canary"}, set())[0])


def test_a_reordered_reblinding_is_detected() -> None:
    """Points blinded again but sent out of order misattribute items: the confirmations differ."""
    initiator, responder = pair({b"a", b"b", b"c"}, {b"a"})
    offer = initiator.start()
    reply = responder.receive(offer)
    assert isinstance(reply, psi.Reply)
    rotated = replace(reply, echoed=reply.echoed[1:] + reply.echoed[:1])
    finish = initiator.receive(rotated)  # the initiator cannot tell yet
    assert isinstance(finish, psi.Finish)
    assert code_of(lambda: responder.receive(finish)) == "psi.result_differs"

    initiator, responder = pair({b"a"}, {b"a", b"b", b"c"})
    reply = responder.receive(initiator.start())
    assert reply is not None
    finish = initiator.receive(reply)
    assert isinstance(finish, psi.Finish)
    rotated_finish = replace(finish, echoed=finish.echoed[1:] + finish.echoed[:1])
    assert code_of(lambda: responder.receive(rotated_finish)) == "psi.result_differs"
