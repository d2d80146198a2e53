"""The event codec: every event round-trips, the encoding is canonical, bad input is refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import Label, Level, RelayMode, Role, RoomKind
from backchannel.errors import EventMalformed
from backchannel.record.leaf import canonical_event

ids = st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)
texts = st.text(max_size=60)
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
    "lang": st.sampled_from(["", "en", "ar", "fa"]),
    "version": st.integers(min_value=1, max_value=2**53 - 1),
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
