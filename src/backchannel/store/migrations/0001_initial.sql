-- 0001_initial: the host's tables.
-- Everything here is opaque to the host: random ids, public keys, signature blobs, ciphertexts,
-- sizes and times (milliseconds since the Unix epoch). There is no column for a name, a text or
-- a label. Portable SQL: the only dialect substitution is BLOB (BYTEA on PostgreSQL).

CREATE TABLE identities (
    identity_key BLOB PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    identity_key BLOB NOT NULL REFERENCES identities (identity_key),
    curve25519 BLOB NOT NULL,
    ed25519 BLOB NOT NULL UNIQUE,
    certificate BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_position BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX devices_identity ON devices (identity_key);

CREATE TABLE one_time_keys (
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    key_id TEXT NOT NULL,
    public_key BLOB NOT NULL,
    uploaded_at BIGINT NOT NULL,
    claimed_at BIGINT,
    claimed_by TEXT REFERENCES devices (device_id),
    PRIMARY KEY (device_id, key_id)
);

CREATE TABLE talks (
    talks_id TEXT PRIMARY KEY,
    creator_device TEXT NOT NULL REFERENCES devices (device_id),
    created_at BIGINT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE talks_members (
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    admitted_at BIGINT NOT NULL,
    PRIMARY KEY (talks_id, device_id)
);

CREATE INDEX talks_members_device ON talks_members (device_id);

CREATE TABLE invites (
    code_hash BLOB PRIMARY KEY,
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    created_by TEXT NOT NULL REFERENCES devices (device_id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    used_by TEXT REFERENCES devices (device_id)
);

CREATE TABLE events (
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    seq BIGINT NOT NULL,
    sender_device TEXT NOT NULL REFERENCES devices (device_id),
    client_msg_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    size BIGINT NOT NULL,
    leaf BLOB,
    PRIMARY KEY (talks_id, seq),
    UNIQUE (talks_id, sender_device, client_msg_id)
);

CREATE TABLE deliveries (
    recipient_device TEXT NOT NULL REFERENCES devices (device_id),
    pos BIGINT NOT NULL,
    talks_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    ciphertext BLOB NOT NULL,
    acked_at BIGINT,
    PRIMARY KEY (recipient_device, pos),
    FOREIGN KEY (talks_id, seq) REFERENCES events (talks_id, seq)
);

CREATE TABLE challenges (
    nonce BLOB PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE tokens (
    token_hash BLOB PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices (device_id),
    expires_at BIGINT NOT NULL
);
