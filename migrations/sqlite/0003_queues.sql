-- ACD queues as data, and each user's own phone (until phones are administered).
-- A queue belongs to one tenant and one PBX connection; its Asterisk name is unique on that PBX
-- and never changes (statistics follow it). Its supervisor (SV) and agent (AG) profiles are rows
-- of `profiles` created and removed with it.

ALTER TABLE users ADD COLUMN own_phone TEXT NOT NULL DEFAULT '';

CREATE TABLE acd_queues (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id               INTEGER NOT NULL REFERENCES tenants (id),
    pbx                     TEXT    NOT NULL,
    name                    TEXT    NOT NULL,
    description             TEXT    NOT NULL,
    strategy                TEXT    NOT NULL,
    music_class             TEXT    NOT NULL,
    agent_announce          TEXT    NOT NULL,
    wrapup_secs             INTEGER NOT NULL,
    ring_timeout_secs       INTEGER NOT NULL,
    max_wait_secs           INTEGER NOT NULL,
    announce_frequency_secs INTEGER NOT NULL,
    periodic_announce_secs  INTEGER NOT NULL,
    announce_holdtime       TEXT    NOT NULL,
    announce_position       TEXT    NOT NULL,
    service_level_secs      INTEGER NOT NULL,
    supervisor_profile_id   INTEGER NOT NULL REFERENCES profiles (id),
    agent_profile_id        INTEGER NOT NULL REFERENCES profiles (id),
    created_at              INTEGER NOT NULL
);
CREATE UNIQUE INDEX acd_queues_name ON acd_queues (pbx, name);
CREATE INDEX acd_queues_tenant ON acd_queues (tenant_id);
