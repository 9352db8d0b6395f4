-- Call-centre agents and the agent desk.
-- An agent is a user with the agent profile; their internal extension is their own phone (an
-- Asterisk interface) and calls to contacts show their external caller number. Agents work the
-- campaigns they are assigned to (campaign_agents), and each desk opening is an agent session
-- (login/logout history per campaign).
-- campaign_contacts holds where each contact of an active campaign stands:
--   fresh (never handed out), reserved (by agent_id until due_at; an expired reservation is free
--   again), callback (due at due_at, for agent_id or anyone when NULL), retry (no answer; due at
--   due_at), done. Activating a campaign adds its base's contacts as fresh.
-- crm_calls records each handled contact with its result and the argument-tree version walked;
-- crm_answers holds the answers (form 'tree': item = node key, answer = yes/no/undecided/hangup),
-- with the call's campaign, agent and time copied so statistics read this table alone.
-- A campaign's call results (codes, labels, flags) are JSON in campaigns.results ('[]': the
-- default list); campaigns.pbx names the PBX connection its click-to-call goes through.

ALTER TABLE users ADD COLUMN caller_number TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN results TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN pbx TEXT NOT NULL DEFAULT '';

CREATE TABLE campaign_agents (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, user_id)
);
CREATE INDEX campaign_agents_user ON campaign_agents (user_id);

CREATE TABLE campaign_contacts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    status      TEXT    NOT NULL,
    agent_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    due_at      INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    taken_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaign_contacts_pick ON campaign_contacts (campaign_id, status, due_at);

CREATE TABLE crm_calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL,
    agent_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    phone           TEXT    NOT NULL,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER NOT NULL,
    result          TEXT    NOT NULL,
    tree_version_id INTEGER REFERENCES argument_tree_versions (id),
    callback_at     INTEGER,
    note            TEXT    NOT NULL DEFAULT ''
);
-- Covering indexes: statistics group calls and answers without reading the tables.
CREATE INDEX crm_calls_campaign ON crm_calls (campaign_id, started_at, agent_id, result);
CREATE INDEX crm_calls_agent ON crm_calls (agent_id, started_at);

CREATE TABLE crm_answers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id     INTEGER NOT NULL REFERENCES crm_calls (id) ON DELETE CASCADE,
    campaign_id INTEGER NOT NULL,
    agent_id    INTEGER,
    at          INTEGER NOT NULL,
    form        TEXT    NOT NULL,
    item        TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    position    INTEGER NOT NULL
);
CREATE INDEX crm_answers_funnel ON crm_answers (campaign_id, form, item, answer, at, agent_id);
CREATE INDEX crm_answers_call ON crm_answers (call_id);

CREATE TABLE agent_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    started_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX agent_sessions_user ON agent_sessions (user_id, started_at);
