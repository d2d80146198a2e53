-- 0002_record: each talks' Merkle log (RFC 9162), as docs/record.md addresses it.
-- A leaf entry is an opaque 32-byte commitment H(salt || canonical event) computed by the
-- sending client; the host never sees the salt or the event. Nodes are the roots of perfect
-- subtrees, named (level, idx) and written once: a row never changes after it exists, so a
-- root at any size and every proof are O(log n) primary-key reads.

ALTER TABLE talks ADD COLUMN log_size BIGINT NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN leaf_index BIGINT;

CREATE UNIQUE INDEX events_leaf_index ON events (talks_id, leaf_index);

CREATE TABLE record_leaves (
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    idx BIGINT NOT NULL,
    entry BLOB NOT NULL,
    PRIMARY KEY (talks_id, idx)
);

CREATE TABLE record_nodes (
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (talks_id, level, idx)
);

CREATE TABLE record_checkpoints (
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    size BIGINT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (talks_id, size)
);
