"""Request parsing as a property: any JSON value either parses or is refused as bad input."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.errors import InputError, PayloadTooLarge
from backchannel.server.auth import b64
from backchannel.server.limits import Limits
from backchannel.server.schema import Schemas, parse_json

SCHEMAS = Schemas.from_limits(Limits())
BODIES = sorted(name for name in Schemas.__dataclass_fields__)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)


@pytest.mark.parametrize("name", BODIES)
@given(value=json_values)
def test_any_json_parses_or_is_bad_input(name: str, value: Any) -> None:
    """No JSON value makes a body parser fail with anything but InputError or PayloadTooLarge."""
    with contextlib.suppress(InputError, PayloadTooLarge):
        parse_json(json.dumps(value).encode(), getattr(SCHEMAS, name))


@given(raw=st.binary(max_size=64))
def test_any_bytes_parse_or_are_bad_input(raw: bytes) -> None:
    """Arbitrary bytes as a body are parsed or refused as bad input, never crash."""
    with contextlib.suppress(InputError, PayloadTooLarge):
        parse_json(raw, SCHEMAS.send)


@given(
    msg_id=ids,
    ciphertexts=st.dictionaries(ids, st.binary(min_size=1, max_size=64), min_size=1, max_size=5),
)
def test_send_round_trips(msg_id: str, ciphertexts: dict[str, bytes]) -> None:
    """A well-formed send body parses back to the same id and bytes."""
    body = {"client_msg_id": msg_id, "ciphertexts": {k: b64(v) for k, v in ciphertexts.items()}}
    parsed = parse_json(json.dumps(body).encode(), SCHEMAS.send)
    assert parsed == {"client_msg_id": msg_id, "ciphertexts": ciphertexts, "entry": None}


def test_empty_body_is_an_empty_object_only_when_nothing_is_required() -> None:
    """An empty body stands for {} where every field is optional, and is bad input elsewhere."""
    assert parse_json(b"", SCHEMAS.create_invite) == {"ttl_seconds": None}
    with pytest.raises(InputError):
        parse_json(b"", SCHEMAS.send)
