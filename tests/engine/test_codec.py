"""The event codec: every event round-trips, the encoding is canonical, bad input is refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import Label, Level, RelayMode, Role, RoomKind
from backchannel.errors import EventMalformed
from backchannel.record.leaf import canonical_event

ids = st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)
texts = st.text(max_size=60)
names = st.dictionaries(
    st.sampled_from(["ar", "fa", "en-GB", "zh-Hant"]),
    st.text(min_size=1, max_size=30).filter(str.strip),
    max_size=4,
).map(Names.of)
times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=4)), timezone(timedelta(hours=-5))]),
)
FIELD_STRATEGIES = {
    "at": times,
    "expires": st.none() | times,
    "actor": ids,
    "device": st.none() | ids,
    "level": st.sampled_from(list(Level)),
    "label": st.sampled_from(list(Label)),
    "mode": st.sampled_from(list(RelayMode)),
    "role": st.sampled_from(list(Role)),
    "kind": st.sampled_from(list(RoomKind)),
    "party": ids,
    "via": st.none() | ids,
    "text": texts,
    "name": texts,
    "names": names,
    "lang": st.sampled_from(["", "en", "ar", "fa"]),
    "version": st.integers(min_value=1, max_value=2**53 - 1),
    "days": st.integers(min_value=1, max_value=3650),
    "amended": st.booleans(),
}


def event_strategy(cls: type[ev.Event]) -> st.SearchStrategy[ev.Event]:
    fields = {f.name: FIELD_STRATEGIES.get(f.name, ids) for f in dataclasses.fields(cls)}
    if cls is ev.CreateRoom:
        fields["party"] = st.none() | ids
    if cls is ev.Carry:
        fields["proposal"] = st.booleans()
    return st.builds(cls, **fields)


any_event = st.one_of([event_strategy(cls) for cls in codec.EVENT_TYPES.values()])


@given(any_event)
def test_every_event_round_trips(event: ev.Event) -> None:
    """decode(encode(e)) == e for every kind of event and every value."""
    assert codec.decode(codec.encode(event)) == event


@given(any_event)
def test_encoding_is_record_canonical(event: ev.Event) -> None:
    """The encoded dict is accepted by the record's canonical encoding, and is stable."""
    first = canonical_event(codec.encode(event))
    assert first == canonical_event(dict(reversed(codec.encode(event).items())))


def test_every_action_has_a_codec() -> None:
    """Each event class the engine handles can be encoded and decoded, under its own action."""
    classes = {
        cls
        for cls in vars(ev).values()
        if isinstance(cls, type) and issubclass(cls, ev.Event) and cls is not ev.Event
    }
    assert set(codec.EVENT_TYPES.values()) == classes
    assert all(action is cls.action for action, cls in codec.EVENT_TYPES.items())


GOOD = codec.encode(
    ev.Send(
        at=datetime(2024, 1, 10, tzinfo=UTC),
        actor="a",
        message="m",
        room="r",
        text="t",
        label=Label.CARRY_GIST,
    )
)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"action": "shout"}, "action"),
        ({"action": None}, "action"),
        ({"label": "secret"}, "label"),
        ({"at": "2024-01-10T10:00:00"}, "at"),
        ({"at": "yesterday"}, "at"),
        ({"room": None}, "room"),
        ({"room": 7}, "room"),
        ({"colour": "red"}, "colour"),
        ({"text": "x" * 70_000}, "text"),
        ({"text": True}, "text"),
    ],
)
def test_malformed_events_name_the_field(change: dict, field: str) -> None:
    """Anything but an exact event is refused with EventMalformed naming the field."""
    with pytest.raises(EventMalformed) as caught:
        codec.decode({**GOOD, **change})
    assert caught.value.field == field


ARTICLE_CONSENT = codec.encode(
    ev.AgreeArticle(
        at=datetime(2026, 3, 18, 11, 55, tzinfo=UTC), actor="us-p", article="a1", version=2
    )
)


@pytest.mark.parametrize("version", ["2", 0, -1, True, 2.0, 2**53, None])
def test_a_version_is_a_whole_positive_number(version: object) -> None:
    """A version must be an I-JSON safe positive integer: no string, bool, float or zero."""
    with pytest.raises(EventMalformed) as caught:
        codec.decode({**ARTICLE_CONSENT, "version": version})
    assert caught.value.field == "version"
    assert codec.decode(ARTICLE_CONSENT).version == 2  # type: ignore[attr-defined]


def test_missing_field_is_refused() -> None:
    """A required field left out is named."""
    broken = dict(GOOD)
    del broken["message"]
    with pytest.raises(EventMalformed, match="message: is missing"):
        codec.decode(broken)
    with pytest.raises(EventMalformed):
        codec.decode(["not", "an", "object"])  # type: ignore[arg-type]


@given(st.sampled_from([ev.AddParty, ev.AddMember, ev.CreateRoom]).flatmap(event_strategy))
def test_no_names_encode_as_before_the_field(event: ev.Event) -> None:
    """An event without names in other languages encodes with no ``names`` key at all (its
    signature and record leaf are unchanged); with some, they encode as a tag → name object."""
    encoded = codec.encode(event)
    assert isinstance(event, ev.AddParty | ev.AddMember | ev.CreateRoom)
    given_names = event.names
    if given_names:
        assert encoded["names"] == given_names.to_json()
    else:
        assert "names" not in encoded
        plain = dataclasses.replace(event, names=NO_NAMES)
        assert codec.encode(plain) == encoded


def test_an_old_add_party_encodes_byte_for_byte_as_before() -> None:
    """A party added without names keeps the canonical bytes it had before ``names`` existed."""
    at = datetime(2024, 1, 10, 9, tzinfo=UTC)
    event = ev.AddParty(at=at, actor="iran", party="iran", role=Role.PARTY, name="Iran")
    assert canonical_event(codec.encode(event)) == (
        b'{"action":"add_party","actor":"iran","at":"2024-01-10T09:00:00+00:00",'
        b'"device":null,"name":"Iran","party":"iran","role":"party"}'
    )


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        ("ایران", "must be an object"),
        ({"AR": "إيران"}, "not a language tag"),
        ({"ar": ""}, "non-empty"),
        ({"ar": 3}, "non-empty"),
        ({"ar": "x" * 201}, "longer than 200"),
        ({f"a{chr(97 + i)}": "x" for i in range(17)}, "more than 16"),
        (None, "must be an object"),
    ],
)
def test_malformed_names_are_refused(names: object, reason: str) -> None:
    """``names`` must be a small object of language tag to non-empty, bounded name."""
    at = datetime(2024, 1, 10, 9, tzinfo=UTC)
    encoded = dict(codec.encode(ev.AddParty(at=at, actor="iran", party="iran", name="Iran")))
    encoded["names"] = names  # type: ignore[assignment]
    with pytest.raises(EventMalformed, match=reason) as caught:
        codec.decode(encoded)
    assert caught.value.field == "names"


def test_a_name_falls_back_to_the_default() -> None:
    """in_lang picks the language, then its primary language, then the default name."""
    found = Names.of({"ar": "إيران", "fa": "ایران"})
    assert found.in_lang("ar", "Iran") == "إيران"
    assert found.in_lang("fa-IR", "Iran") == "ایران"
    assert found.in_lang("en", "Iran") == "Iran"
