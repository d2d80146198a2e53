"""The wire codec: every item round-trips, and anything else is refused with the field named."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.client import wire
from backchannel.errors import WireMalformed

digests = st.binary(min_size=32, max_size=32)
events = st.dictionaries(st.sampled_from(["action", "actor", "at", "text"]), st.text(max_size=20))
originals = st.builds(wire.Original, event=events, signature=st.binary(min_size=1, max_size=64))
items = st.one_of(
    st.builds(
        wire.EventItem,
        event=events,
        signature=st.none() | st.binary(min_size=64, max_size=64),
        words=st.none() | digests,
        salt=st.none() | digests,
        commitment=st.none() | digests,
        mandate=st.none() | st.text(max_size=20),
        original=st.none() | originals,
        forwarded=st.booleans(),
    ),
    st.builds(wire.Introduce, intro=events, invite=st.none() | st.binary(min_size=1, max_size=16)),
    st.just(wire.Greet()),
    st.builds(wire.Cosigned, note=st.text(max_size=40), digest=st.none() | digests),
    st.builds(wire.SasKey, key=st.binary(min_size=1, max_size=32)),
)


@given(st.lists(items, max_size=5))
def test_payloads_round_trip(found: list[wire.Item]) -> None:
    """decode(encode(items)) gives the items back, each of its kind, field for field."""
    assert wire.decode(wire.encode(found)) == found


@given(st.binary(max_size=200))
def test_bytes_that_are_no_payload_are_refused_with_a_code(raw: bytes) -> None:
    """Arbitrary bytes are a payload only by chance; otherwise WireMalformed, never another
    exception."""
    try:
        wire.decode(raw)
    except WireMalformed as exc:
        assert exc.code == "wire.malformed" and exc.field


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"kind": "event"}, "items[0].commitment"),
        ({"kind": "nonsense"}, "items[0].kind"),
        ({"kind": "greet", "extra": 1}, "items[0].extra"),
        ({"kind": "sas", "key": "not base64!"}, "items[0].key"),
        ({"kind": "cosigned", "note": "n", "digest": "AAAA"}, "items[0].digest"),
        ({"kind": "introduce", "intro": [], "invite": None}, "items[0].intro"),
    ],
)
def test_each_malformed_item_names_its_field(item: dict[str, object], field: str) -> None:
    """A missing or unknown field, an unknown kind, bad base64 or a wrong size: the field named."""
    with pytest.raises(WireMalformed) as refused:
        wire.decode(json.dumps({"v": 1, "items": [item]}).encode())
    assert refused.value.field == field
