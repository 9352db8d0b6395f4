-- Files tailed from each PBX: queue_log and CDR. queue_log lines imported from each PBX. One row per line; `source` names the PBX connection,
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

-- Call detail records from each PBX's Master.csv (cdr_csv), one row per line; times converted
-- from the PBX's local time to UTC milliseconds.
CREATE TABLE cdr_records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT    NOT NULL,
    file_id       TEXT    NOT NULL,
    line_offset   INTEGER NOT NULL,
    account_code  TEXT    NOT NULL,
    src           TEXT    NOT NULL,
    dst           TEXT    NOT NULL,
    dcontext      TEXT    NOT NULL,
    clid          TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    dst_channel   TEXT    NOT NULL,
    last_app      TEXT    NOT NULL,
    last_data     TEXT    NOT NULL,
    start_ms      INTEGER NOT NULL,
    answer_ms     INTEGER,
    end_ms        INTEGER NOT NULL,
    duration_secs INTEGER NOT NULL,
    billsec       INTEGER NOT NULL,
    disposition   TEXT    NOT NULL,
    ama_flags     TEXT    NOT NULL,
    uniqueid      TEXT    NOT NULL,
    userfield     TEXT    NOT NULL
);
CREATE UNIQUE INDEX cdr_records_line ON cdr_records (source, file_id, line_offset);
CREATE INDEX cdr_records_start ON cdr_records (start_ms);

-- Where each tailed file was read up to; moved in the same transaction as the rows it covers.
CREATE TABLE import_checkpoints (
    source      TEXT    PRIMARY KEY,
    file_id     TEXT    NOT NULL,
    byte_offset INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
