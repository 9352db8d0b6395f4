-- queue_log lines imported from each PBX. One row per line; `source` names the PBX connection,
-- and (source, file_id, line_offset) identifies a line for ever, so re-reading never double
-- counts. Typed figures are pulled out for the statistics; `data` keeps the raw rest.
CREATE TABLE queue_log_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT    NOT NULL,
    file_id       TEXT    NOT NULL,
    line_offset   INTEGER NOT NULL,
    time_ms       INTEGER NOT NULL,
    call_id       TEXT    NOT NULL,
    queue         TEXT    NOT NULL,
    agent         TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    data          TEXT    NOT NULL,
    hold_secs     INTEGER,
    talk_secs     INTEGER,
    wait_secs     INTEGER,
    position      INTEGER,
    original_position INTEGER
);
CREATE UNIQUE INDEX queue_log_events_line ON queue_log_events (source, file_id, line_offset);
CREATE INDEX queue_log_events_queue_time ON queue_log_events (queue, time_ms);

-- Where each tailed file was read up to; moved in the same transaction as the rows it covers.
CREATE TABLE import_checkpoints (
    source      TEXT    PRIMARY KEY,
    file_id     TEXT    NOT NULL,
    byte_offset INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
