"""Blobs in the store, on SQLite and PostgreSQL: declared, filled once per chunk, read back."""

from __future__ import annotations

import pytest

from backchannel.errors import Forbidden, InputError, NotFound, StoreConflict
from backchannel.store import Blob, Store
from tests.store.test_store import T0, make_device, make_talks


def test_blob_fills_once_and_reads_back(store: Store) -> None:
    """A declared blob takes each chunk once (the same bytes again are a no-op), says what is
    missing, is complete when every chunk is in, and returns each chunk's bytes."""
    make_device(store, "dev-a")
    make_talks(store, "dev-a")
    declared = store.declare_blob(Blob("talks-1", "b", "dev-a", 2, 7, T0))
    assert declared.missing == [0, 1] and not declared.complete
    assert store.declare_blob(Blob("talks-1", "b", "dev-a", 2, 7, T0 + 5)).created_at == T0
    store.put_blob_chunk("talks-1", "b", "dev-a", 1, b"def")
    assert store.put_blob_chunk("talks-1", "b", "dev-a", 1, b"def").missing == [0]
    done = store.put_blob_chunk("talks-1", "b", "dev-a", 0, b"abcd")
    assert done.complete and done.stored == 7
    assert store.blob_chunk("talks-1", "b", 0) == b"abcd"
    assert store.blob_chunk("talks-1", "b", 2) is None
    assert store.get_blob("talks-1", "nothing") is None


def test_blob_faults_change_nothing(store: Store) -> None:
    """Another device, an index or size past the declaration, other bytes at a held index, a
    clashing declaration, an undeclared blob: each refused, and the rows stay as they were."""
    make_device(store, "dev-a")
    make_device(store, "dev-b")
    make_talks(store, "dev-a")
    store.declare_blob(Blob("talks-1", "b", "dev-a", 2, 6, T0))
    store.put_blob_chunk("talks-1", "b", "dev-a", 0, b"abc")
    before = store.counts()
    with pytest.raises(Forbidden):
        store.put_blob_chunk("talks-1", "b", "dev-b", 1, b"xyz")
    with pytest.raises(InputError):
        store.put_blob_chunk("talks-1", "b", "dev-a", 2, b"xyz")
    with pytest.raises(InputError):
        store.put_blob_chunk("talks-1", "b", "dev-a", 1, b"wxyz")
    with pytest.raises(StoreConflict):
        store.put_blob_chunk("talks-1", "b", "dev-a", 0, b"abd")
    with pytest.raises(StoreConflict):
        store.declare_blob(Blob("talks-1", "b", "dev-b", 2, 6, T0))
    with pytest.raises(NotFound):
        store.put_blob_chunk("talks-1", "nothing", "dev-a", 0, b"a")
    assert store.counts() == before


def test_an_abandoned_upload_is_purged_and_a_complete_blob_kept(store: Store) -> None:
    """Purging deletes the incomplete blobs declared before the cut-off, with their chunks; a
    complete blob, or an incomplete one declared since, stays; a purged id can be declared
    again and filled from nothing (a resume after a day)."""
    make_device(store, "dev-a")
    make_talks(store, "dev-a")
    store.declare_blob(Blob("talks-1", "given-up", "dev-a", 2, 7, T0))
    store.put_blob_chunk("talks-1", "given-up", "dev-a", 0, b"abcd")
    store.declare_blob(Blob("talks-1", "empty", "dev-a", 1, 3, T0))
    store.declare_blob(Blob("talks-1", "done", "dev-a", 1, 3, T0))
    store.put_blob_chunk("talks-1", "done", "dev-a", 0, b"xyz")
    store.declare_blob(Blob("talks-1", "recent", "dev-a", 1, 3, T0 + 10))
    before = store.counts()
    assert store.purge_abandoned_blobs(T0 + 5) == 2
    assert store.get_blob("talks-1", "given-up") is None
    assert store.get_blob("talks-1", "empty") is None
    assert store.blob_chunk("talks-1", "given-up", 0) is None
    assert store.get_blob("talks-1", "done") is not None and store.blob_chunk("talks-1", "done", 0)
    assert store.get_blob("talks-1", "recent") is not None
    after = store.counts()
    assert (before["blobs"] - after["blobs"], before["blob_chunks"] - after["blob_chunks"]) == (
        2,
        1,
    )
    assert store.purge_abandoned_blobs(T0 + 5) == 0
    again = store.declare_blob(Blob("talks-1", "given-up", "dev-a", 2, 7, T0 + 20))
    assert again.missing == [0, 1]
