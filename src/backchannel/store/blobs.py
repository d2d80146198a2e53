"""The store's half of documents: blobs of ciphertext in numbered chunks, for both engines.

:class:`BlobQueries` is mixed into :class:`~backchannel.store.sql.SqlStore` (tables from migration
``0004_blobs``). A blob is declared once with its chunk count and total size; each chunk is one
row, written once: the same bytes again are accepted (an upload resumed after a lost answer), other
bytes at a held index are a :class:`~backchannel.errors.StoreConflict`, so a blob never mixes two
uploads. A blob is complete when every declared chunk is held and their sizes add up to the
declared size; only then may it be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from backchannel.errors import Forbidden, InputError, NotFound, StoreConflict
from backchannel.store.base import Blob
from backchannel.store.log import Cursor


class BlobQueries:
    """The blobs' queries; the concrete store supplies ``_transaction`` and ``_run``."""

    def _transaction(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError

    def _run(self, cur: Cursor, query: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def _blob(self, cur: Cursor, talks_id: str, blob_id: str) -> Blob | None:
        row = self._run(
            cur,
            "SELECT owner_device, chunks, size, created_at FROM blobs"
            " WHERE talks_id = ? AND blob_id = ?",
            (talks_id, blob_id),
        ).fetchone()
        if row is None:
            return None
        held = self._run(
            cur,
            "SELECT idx, size FROM blob_chunks WHERE talks_id = ? AND blob_id = ? ORDER BY idx",
            (talks_id, blob_id),
        ).fetchall()
        return Blob(
            talks_id,
            blob_id,
            row[0],
            int(row[1]),
            int(row[2]),
            int(row[3]),
            held=tuple(int(r[0]) for r in held),
            stored=sum(int(r[1]) for r in held),
        )

    def declare_blob(self, blob: Blob) -> Blob:
        """Declare a blob (idempotent for the same owner, count and size); its current state."""
        with self._transaction() as cur:
            found = self._blob(cur, blob.talks_id, blob.blob_id)
            if found is None:
                self._run(
                    cur,
                    "INSERT INTO blobs (talks_id, blob_id, owner_device, chunks, size, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        blob.talks_id,
                        blob.blob_id,
                        blob.owner_device,
                        blob.chunks,
                        blob.size,
                        blob.created_at,
                    ),
                )
                return replace(blob, held=(), stored=0)  # declared now: no chunk held yet
        if (found.owner_device, found.chunks, found.size) != (
            blob.owner_device,
            blob.chunks,
            blob.size,
        ):
            raise StoreConflict("Another blob has this id.", detail={"blob_id": blob.blob_id})
        return found

    def get_blob(self, talks_id: str, blob_id: str) -> Blob | None:
        """The blob and the chunks it holds; None if undeclared."""
        with self._transaction() as cur:
            return self._blob(cur, talks_id, blob_id)

    def put_blob_chunk(
        self, talks_id: str, blob_id: str, device_id: str, index: int, data: bytes
    ) -> Blob:
        """Store one chunk of the device's own blob (the same bytes again change nothing).

        NotFound if undeclared; Forbidden for another device's blob; InputError for an index
        past the declared count or bytes past the declared size; StoreConflict for other bytes
        at a held index."""
        with self._transaction() as cur:
            blob = self._blob(cur, talks_id, blob_id)
            if blob is None:
                raise NotFound("No such blob.", detail={"blob_id": blob_id})
            if blob.owner_device != device_id:
                raise Forbidden("Only the uploading device writes a blob.")
            if not 0 <= index < blob.chunks:
                raise InputError(
                    f"index: the blob has {blob.chunks} chunks", detail={"field": "index"}
                )
            if index in blob.held:
                row = self._run(
                    cur,
                    "SELECT data FROM blob_chunks WHERE talks_id = ? AND blob_id = ? AND idx = ?",
                    (talks_id, blob_id, index),
                ).fetchone()
                if bytes(row[0]) != data:
                    raise StoreConflict(
                        "This chunk is already held with other bytes.", detail={"index": index}
                    )
                return blob
            if blob.stored + len(data) > blob.size:
                raise InputError(
                    f"data: the blob's chunks would exceed its declared {blob.size} bytes",
                    detail={"field": "data"},
                )
            self._run(
                cur,
                "INSERT INTO blob_chunks (talks_id, blob_id, idx, size, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (talks_id, blob_id, index, len(data), data),
            )
        return replace(
            blob, held=tuple(sorted((*blob.held, index))), stored=blob.stored + len(data)
        )

    def purge_abandoned_blobs(self, declared_before: int) -> int:
        """Delete the incomplete blobs declared before ``declared_before``, with their chunks."""
        with self._transaction() as cur:
            rows = self._run(
                cur,
                "SELECT b.talks_id, b.blob_id FROM blobs b"
                " LEFT JOIN blob_chunks c ON c.talks_id = b.talks_id AND c.blob_id = b.blob_id"
                " WHERE b.created_at < ?"
                " GROUP BY b.talks_id, b.blob_id, b.chunks, b.size"
                " HAVING COUNT(c.idx) < b.chunks OR COALESCE(SUM(c.size), 0) <> b.size",
                (declared_before,),
            ).fetchall()
            for talks_id, blob_id in rows:
                for table in ("blob_chunks", "blobs"):  # chunks first: they reference the blob
                    self._run(
                        cur,
                        f"DELETE FROM {table} WHERE talks_id = ? AND blob_id = ?",
                        (talks_id, blob_id),
                    )
        return len(rows)

    def blob_chunk(self, talks_id: str, blob_id: str, index: int) -> bytes | None:
        """The bytes of one held chunk; None if not held."""
        with self._transaction() as cur:
            row = self._run(
                cur,
                "SELECT data FROM blob_chunks WHERE talks_id = ? AND blob_id = ? AND idx = ?",
                (talks_id, blob_id, index),
            ).fetchone()
        return None if row is None else bytes(row[0])
