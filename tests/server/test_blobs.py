"""The blob routes on both stores: declare, upload in any order, resume, read once complete.

Every fault changes nothing: an index past the declared count, bytes past the declared size,
other bytes at a held index, an oversize declaration, reading an incomplete blob.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from backchannel.server.auth import b64
from tests.server.conftest import Dev, LiveHost, create_talks


@pytest.fixture
def talks(live_host: LiveHost) -> tuple[httpx.Client, Dev, str]:
    client = live_host.client()
    creator = Dev.new().join(client)
    return client, creator, create_talks(client, creator)


def test_upload_in_any_order_resume_and_read(talks: tuple[httpx.Client, Dev, str]) -> None:
    """Chunks arrive out of order and twice; the state names what is missing; reads wait for
    completeness and then return each chunk's exact bytes."""
    client, dev, talks_id = talks
    url = f"/v1/talks/{talks_id}/blobs/b1"
    parts = [b"aaaa", b"bbbb", b"cc"]
    declared = client.put(url, json={"chunks": 3, "size": 10}, headers=dev.auth).json()
    assert declared["missing"] == [0, 1, 2] and not declared["complete"]
    client.put(url + "/chunks/2", json={"data": b64(parts[2])}, headers=dev.auth)
    early = client.get(url + "/chunks/2", headers=dev.auth)
    assert early.status_code == 409 and early.json()["code"] == "blob.incomplete"
    again = client.put(url, json={"chunks": 3, "size": 10}, headers=dev.auth).json()
    assert again["missing"] == [0, 1]
    for i in (0, 0, 1):
        state = client.put(f"{url}/chunks/{i}", json={"data": b64(parts[i])}, headers=dev.auth)
        assert state.status_code == 200, state.text
    assert state.json()["complete"] and state.json()["missing"] == []
    for i, part in enumerate(parts):
        got = client.get(f"{url}/chunks/{i}", headers=dev.auth).json()
        assert base64.b64decode(got["data"]) == part
    client.close()


def test_faults_change_nothing(talks: tuple[httpx.Client, Dev, str], live_host: LiveHost) -> None:
    """Bad index, overflow, conflicting bytes, conflicting declaration, oversize: refused, and
    the stored rows are what they were."""
    client, dev, talks_id = talks
    url = f"/v1/talks/{talks_id}/blobs/b2"
    client.put(url, json={"chunks": 2, "size": 6}, headers=dev.auth)
    client.put(url + "/chunks/0", json={"data": b64(b"xxx")}, headers=dev.auth)
    with live_host.store() as store:
        before = store.counts()
        cases = [
            (url + "/chunks/2", {"data": b64(b"yyy")}, 400, "input.invalid"),
            (url + "/chunks/1", {"data": b64(b"yyyy")}, 400, "input.invalid"),
            (url + "/chunks/0", {"data": b64(b"zzz")}, 409, "store.conflict"),
            (url, {"chunks": 3, "size": 6}, 409, "store.conflict"),
            (
                f"/v1/talks/{talks_id}/blobs/huge",
                {"chunks": 1000, "size": 2**30},
                400,
                "input.invalid",
            ),
            (f"/v1/talks/{talks_id}/blobs/b3", {"chunks": 1, "size": 2**21}, 400, "input.invalid"),
            (f"/v1/talks/{talks_id}/blobs/none/chunks/0", {"data": b64(b"q")}, 404, None),
        ]
        for target, body, status, code in cases:
            response = client.put(target, json=body, headers=dev.auth)
            assert response.status_code == status, (target, response.text)
            if code:
                assert response.json()["code"] == code
        assert store.counts() == before
    client.close()
