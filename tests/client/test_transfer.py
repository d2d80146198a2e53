"""Moving a document's bytes through a real host on 127.0.0.1, with its rate limit on.

A device seals a file of many small chunks, uploads it through a host whose rate limit is far
below the number of chunks, and downloads it back, verified: the transfer waits the limit out.
A download under the wrong key is refused and writes nothing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from backchannel.client import transfer
from backchannel.client.document import Descriptor
from backchannel.client.host import HostClient
from backchannel.crypto import Device, Identity
from backchannel.crypto.stream import new_key
from backchannel.errors import DecryptionFailed
from backchannel.server import HostConfig, Limits
from backchannel.server.local import serve_locally


def test_through_a_rate_limited_host(tmp_path: Path) -> None:
    """40 chunks through a 10-request burst: the upload and the download both complete, the
    file comes back byte for byte; under another key nothing is written."""
    data = os.urandom(40 * 64 - 30)
    source = tmp_path / "annex.bin"
    source.write_bytes(data)
    # The wall clock: the rate limiter's buckets refill as the transfer waits.
    limits = Limits(rate_per_s=50, rate_burst=10)
    with serve_locally(HostConfig(f"sqlite:///{tmp_path / 'h.db'}", limits)) as url:
        client = HostClient(url, Device(f"dev-{secrets.token_hex(6)}"))
        client.register(Identity.generate())
        talks = client.create_talks()
        spool = tmp_path / "spool"
        sealed = transfer.seal_file(source, spool, chunk=64)
        assert sealed.chunks > 10
        blob = secrets.token_hex(8)
        transfer.upload(client, talks, blob, sealed, spool)
        s = sealed
        descriptor = Descriptor(
            "annex.bin", s.size, "application/octet-stream", s.sha256, blob,
            s.ciphertext_sha256, s.key, s.header, s.chunk,
        )  # fmt: skip
        out = tmp_path / "out.bin"
        transfer.download(client, talks, descriptor, out)
        assert out.read_bytes() == data
        wrong = tmp_path / "wrong.bin"
        with pytest.raises(DecryptionFailed):
            transfer.download(client, talks, replace(descriptor, key=new_key()), wrong)
        assert not wrong.exists() and not list(tmp_path.glob(".bc-*"))
        client.close()
