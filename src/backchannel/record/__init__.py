"""The record: the talks' append-only, tamper-evident log of every event (sans-I/O).

Events enter as salted commitments (:mod:`.leaf`), which become leaves of an RFC 9162 Merkle
tree (:mod:`.merkle` for hashing and proofs, :mod:`.tree` for the in-memory tree). The log's
signed heads and the participants' cosignatures use the C2SP checkpoint formats
(:mod:`.checkpoint`). Nothing here reads files, sockets, clocks or randomness; salts, keys and
timestamps are passed in, and a store can serve proofs through :class:`NodeReader`.
"""

from backchannel.record.checkpoint import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    NoteKey,
    NoteSignature,
    check_cosignature,
    cosign,
    key_id,
    open_checkpoint,
    open_note,
    sign_checkpoint,
)
from backchannel.record.leaf import SALT_SIZE, canonical_event, commit, opens
from backchannel.record.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    ConsistencyProof,
    InclusionProof,
    NodeReader,
    check_consistency,
    check_inclusion,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)
from backchannel.record.tree import MerkleTree

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "SALT_SIZE",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "MerkleTree",
    "NodeReader",
    "Note",
    "NoteKey",
    "NoteSignature",
    "canonical_event",
    "check_consistency",
    "check_cosignature",
    "check_inclusion",
    "commit",
    "consistency_proof",
    "cosign",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "opens",
    "root_at",
    "sign_checkpoint",
    "subtree_hash",
    "verify_consistency",
    "verify_inclusion",
]
