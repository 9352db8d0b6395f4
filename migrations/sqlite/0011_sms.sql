-- SMS campaigns over GSM modems.
-- modem_groups: one computer with USB modems, known by its MAC address; alias, expected modem
--   count, speed (parts per minute for the whole group, shared by its ready modems), started or
--   stopped. Its gateway agent authenticates with a token of which only the SHA-256 is kept.
-- modems: what the group's gateway last reported of each modem (keyed by IMEI), plus the
--   dispatcher's view: consecutive failures and set_aside_until after repeated ones.
-- sms_credit: a tenant's prepaid balance (minor units) and its price per part; sms_credit_moves
--   is the ledger (top-ups, a message's parts debited when first leased, refunds of parts that
--   definitively failed before going out).
-- sms_campaigns: a contact base and a template; state draft | active | paused | no_credit |
--   finished. Activating writes one sms_messages row per contact (text filled in).
-- sms_messages: state queued | leased | sent | delivered | failed | unknown | skipped.
--   A message is leased whole to one modem (lease_id grows with each lease; reports name it)
--   until lease_expires_at, which each report pushes back. modem_id is the modem its parts go
--   out from once one went: a phone only reassembles a long message sent from one number.
-- sms_parts: state queued | sent | delivered | failed | unknown | cancelled; reference is the
--   modem's <mr>, which status reports carry back.
-- sms_opt_outs: numbers that answered STOP, per tenant; later campaigns skip them.
-- sms_incoming: messages the modems received, with the tenant and message they answer.

CREATE TABLE modem_groups (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    mac              TEXT    NOT NULL UNIQUE,
    alias            TEXT    NOT NULL,
    modem_count      INTEGER NOT NULL,
    parts_per_minute INTEGER NOT NULL,
    started          INTEGER NOT NULL DEFAULT 0,
    token_hash       TEXT    NOT NULL UNIQUE,
    seen_at          INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);

CREATE TABLE modems (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id             INTEGER NOT NULL REFERENCES modem_groups (id) ON DELETE CASCADE,
    imei                 TEXT    NOT NULL UNIQUE,
    port                 TEXT    NOT NULL,
    imsi                 TEXT    NOT NULL DEFAULT '',
    operator             TEXT    NOT NULL DEFAULT '',
    sim                  TEXT    NOT NULL DEFAULT 'Unknown',
    registration         TEXT    NOT NULL DEFAULT 'Unknown',
    signal_dbm           INTEGER,
    signal_quality       INTEGER,
    error                TEXT    NOT NULL DEFAULT '',
    failures             INTEGER NOT NULL DEFAULT 0,
    set_aside_until      INTEGER NOT NULL DEFAULT 0,
    seen_at              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX modems_group ON modems (group_id);

CREATE TABLE sms_credit (
    tenant_id  INTEGER PRIMARY KEY REFERENCES tenants (id),
    balance    INTEGER NOT NULL DEFAULT 0,
    part_price INTEGER NOT NULL DEFAULT 5
);

CREATE TABLE sms_credit_moves (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    amount     INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    message_id INTEGER,
    parts      INTEGER NOT NULL DEFAULT 0,
    at         INTEGER NOT NULL
);
CREATE INDEX sms_credit_moves_tenant ON sms_credit_moves (tenant_id, at);

CREATE TABLE sms_campaigns (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    name           TEXT    NOT NULL,
    base_id        INTEGER NOT NULL REFERENCES contact_bases (id),
    template       TEXT    NOT NULL,
    status_reports INTEGER NOT NULL DEFAULT 1,
    state          TEXT    NOT NULL DEFAULT 'draft',
    created_at     INTEGER NOT NULL,
    activated_at   INTEGER,
    finished_at    INTEGER
);
CREATE INDEX sms_campaigns_tenant ON sms_campaigns (tenant_id, state);

CREATE TABLE sms_messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    campaign_id      INTEGER NOT NULL REFERENCES sms_campaigns (id) ON DELETE CASCADE,
    contact_id       INTEGER,
    number           TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    parts            INTEGER NOT NULL,
    concat_reference INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    reason           TEXT    NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    not_before       INTEGER NOT NULL DEFAULT 0,
    charged          INTEGER NOT NULL DEFAULT 0,
    modem_id         INTEGER REFERENCES modems (id) ON DELETE SET NULL,
    lease_id         INTEGER NOT NULL DEFAULT 0,
    lease_modem_id   INTEGER REFERENCES modems (id) ON DELETE SET NULL,
    lease_expires_at INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
-- The lease walks queued messages in id order and stops at the first due ones.
CREATE INDEX sms_messages_queue ON sms_messages (state, id);
CREATE INDEX sms_messages_kept ON sms_messages (modem_id, state, id);
CREATE INDEX sms_messages_number ON sms_messages (number);
CREATE INDEX sms_messages_campaign ON sms_messages (campaign_id, state);
CREATE INDEX sms_messages_lease ON sms_messages (state, lease_expires_at);

CREATE TABLE sms_parts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES sms_messages (id) ON DELETE CASCADE,
    sequence     INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'queued',
    modem_id     INTEGER REFERENCES modems (id) ON DELETE SET NULL,
    reference    INTEGER,
    detail       TEXT    NOT NULL DEFAULT '',
    sent_at      INTEGER,
    reported_at  INTEGER,
    UNIQUE (message_id, sequence)
);
CREATE INDEX sms_parts_report ON sms_parts (modem_id, reference, sent_at);

CREATE TABLE sms_opt_outs (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    number    TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE sms_incoming (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER REFERENCES tenants (id),
    message_id  INTEGER REFERENCES sms_messages (id) ON DELETE SET NULL,
    modem_id    INTEGER REFERENCES modems (id) ON DELETE SET NULL,
    sender      TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    opt_out     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sms_incoming_tenant ON sms_incoming (tenant_id, received_at);
