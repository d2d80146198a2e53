-- 0004_blobs: documents' ciphertext, stored as opaque blobs in chunks.
-- A blob belongs to one talks and one uploading device, which declares its chunk count and total
-- size first (both follow from the padded size, so they name only a size bucket); chunks arrive
-- one request each, in any order, and may be sent again (resume). Readers are the talks' devices,
-- once every declared chunk is held. The host never learns the key, the file name or the type.

CREATE TABLE blobs (
    talks_id TEXT NOT NULL REFERENCES talks (talks_id),
    blob_id TEXT NOT NULL,
    owner_device TEXT NOT NULL REFERENCES devices (device_id),
    chunks INTEGER NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (talks_id, blob_id)
);

CREATE TABLE blob_chunks (
    talks_id TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (talks_id, blob_id, idx),
    FOREIGN KEY (talks_id, blob_id) REFERENCES blobs (talks_id, blob_id)
);
