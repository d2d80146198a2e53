"""Device-key authentication: registration, signed challenges, tokens, expiry and revocation."""

from __future__ import annotations

import httpx
from nacl.signing import SigningKey

from backchannel.server.auth import b64, canonical_json, revocation_message
from tests.server.conftest import Dev, LiveHost


def test_canonical_json_is_the_documented_encoding() -> None:
    """Canonical JSON sorts keys, has no spaces and keeps non-ASCII text as UTF-8."""
    assert canonical_json({"b": 1, "a": "مسقط"}) == '{"a":"مسقط","b":1}'.encode()


def test_register_then_login(client: httpx.Client) -> None:
    """A device with a valid certificate registers, signs a challenge and gets a token."""
    dev = Dev.new()
    registered = client.post("/v1/devices", json=dev.registration())
    assert registered.status_code == 201
    assert registered.json()["device_id"] == dev.device_id
    dev.login(client)
    got = client.get(f"/v1/devices/{dev.device_id}", headers=dev.auth)
    assert got.status_code == 200 and got.json()["revoked_at"] is None


def test_certificate_must_be_signed_by_the_identity(client: httpx.Client) -> None:
    """A certificate signed by another key, or over other fields, is refused; nothing stored."""
    dev = Dev.new()
    body = dev.registration()
    body["identity"] = b64(bytes(SigningKey.generate().verify_key))
    refused = client.post("/v1/devices", json=body)
    assert refused.status_code == 400 and refused.json()["code"] == "crypto.bad_signature"
    body = dev.registration()
    body["curve25519"] = b64(b"\x01" * 32)
    assert client.post("/v1/devices", json=body).json()["code"] == "crypto.bad_signature"
    challenge = client.post("/v1/auth/challenge", json={"device_id": dev.device_id})
    assert challenge.status_code == 201  # as for any id: the route is no oracle
    answer = client.post("/v1/auth/token", json=dev.sign_challenge(challenge.json()["challenge"]))
    assert answer.status_code == 401 and answer.json()["code"] == "auth.invalid"


def test_duplicate_registration_conflicts(client: httpx.Client) -> None:
    """Registering the same device id twice is a 409 conflict."""
    dev = Dev.new()
    assert client.post("/v1/devices", json=dev.registration()).status_code == 201
    again = client.post("/v1/devices", json=dev.registration())
    assert again.status_code == 409 and again.json()["code"] == "store.conflict"


def test_replayed_challenge_signature_is_rejected(client: httpx.Client) -> None:
    """A signed challenge yields one token; sending it again is a replay (409 auth.replay)."""
    dev = Dev.new()
    client.post("/v1/devices", json=dev.registration())
    challenge = client.post("/v1/auth/challenge", json={"device_id": dev.device_id})
    answer = dev.sign_challenge(challenge.json()["challenge"])
    assert client.post("/v1/auth/token", json=answer).status_code == 201
    replay = client.post("/v1/auth/token", json=answer)
    assert replay.status_code == 409 and replay.json()["code"] == "auth.replay"


def test_challenge_signed_by_wrong_key_or_for_another_device(client: httpx.Client) -> None:
    """A challenge signed by another key, or issued to another device, gives no token."""
    dev, other = Dev.new(), Dev.new()
    for d in (dev, other):
        client.post("/v1/devices", json=d.registration())
    challenge = client.post("/v1/auth/challenge", json={"device_id": dev.device_id}).json()
    forged = Dev(dev.device_id, dev.identity, SigningKey.generate())
    bad = client.post("/v1/auth/token", json=forged.sign_challenge(challenge["challenge"]))
    assert bad.status_code == 401 and bad.json()["code"] == "auth.invalid"
    stolen = client.post("/v1/auth/token", json=other.sign_challenge(challenge["challenge"]))
    assert stolen.status_code == 401 and stolen.json()["code"] == "auth.invalid"
    # The failed attempts did not burn the challenge for its rightful device.
    good = client.post("/v1/auth/token", json=dev.sign_challenge(challenge["challenge"]))
    assert good.status_code == 201


def test_tokens_and_challenges_expire(live_host: LiveHost, client: httpx.Client) -> None:
    """After its lifetime a token gets 401 auth.expired, and so does a stale challenge."""
    dev = Dev.new().join(client)
    challenge = client.post("/v1/auth/challenge", json={"device_id": dev.device_id}).json()
    live_host.clock.advance(16 * 60)
    expired = client.post("/v1/talks", json={}, headers=dev.auth)
    assert expired.status_code == 401 and expired.json()["code"] == "auth.expired"
    stale = client.post("/v1/auth/token", json=dev.sign_challenge(challenge["challenge"]))
    assert stale.status_code == 401 and stale.json()["code"] == "auth.expired"
    dev.login(client)
    assert client.post("/v1/talks", json={}, headers=dev.auth).status_code == 201


def test_missing_and_malformed_credentials(client: httpx.Client) -> None:
    """No token is 401 auth.required; a garbled or unknown one is 401 auth.invalid."""
    no = client.post("/v1/talks", json={})
    assert no.status_code == 401 and no.json()["code"] == "auth.required"
    assert no.headers["content-type"] == "application/problem+json"
    for header in ("Basic abc", "Bearer", "Bearer not-a-token", "Bearer a b"):
        bad = client.post("/v1/talks", json={}, headers={"Authorization": header})
        assert bad.status_code == 401 and bad.json()["code"] == "auth.invalid", header


def test_device_revokes_itself(client: httpx.Client) -> None:
    """A device that revokes itself gets 403 everywhere, and cannot log in again (its challenge
    looks like any other; answering it with the device's key is refused)."""
    dev = Dev.new().join(client)
    revoked = client.post(f"/v1/devices/{dev.device_id}/revoke", json={}, headers=dev.auth)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = client.post("/v1/talks", json={}, headers=dev.auth)
    assert after.status_code == 403 and after.json()["code"] == "access.forbidden"
    again = client.post("/v1/auth/challenge", json={"device_id": dev.device_id})
    assert again.status_code == 201
    answer = client.post("/v1/auth/token", json=dev.sign_challenge(again.json()["challenge"]))
    assert answer.status_code == 403 and answer.json()["code"] == "access.forbidden"


def test_identity_revokes_a_device(client: httpx.Client) -> None:
    """The identity key's signature revokes one of its devices, without any token."""
    dev = Dev.new().join(client)
    sibling = Dev.new(dev.identity).join(client)
    identity = bytes(dev.identity.verify_key)
    stranger = SigningKey.generate().sign(revocation_message(dev.device_id, identity))
    refused = client.post(
        f"/v1/devices/{dev.device_id}/revoke", json={"signature": b64(stranger.signature)}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "crypto.bad_signature"
    by_sibling = client.post(f"/v1/devices/{dev.device_id}/revoke", json={}, headers=sibling.auth)
    assert by_sibling.status_code == 403
    nobody = client.post(f"/v1/devices/{dev.device_id}/revoke", json={})
    assert nobody.status_code == 401 and nobody.json()["code"] == "auth.required"
    signed = dev.identity.sign(revocation_message(dev.device_id, identity)).signature
    done = client.post(f"/v1/devices/{dev.device_id}/revoke", json={"signature": b64(signed)})
    assert done.status_code == 200
    assert client.get(f"/v1/devices/{dev.device_id}", headers=dev.auth).status_code == 403
    assert client.get(f"/v1/devices/{dev.device_id}", headers=sibling.auth).status_code == 200
