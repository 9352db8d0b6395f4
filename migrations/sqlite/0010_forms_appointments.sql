-- Campaign forms and field sales appointments.
-- campaigns.questionnaire is JSON: the multiple-choice and yes/no questions and the contract's
-- fields, each with a key never reused (see app/src/crm/forms). Answers go to crm_answers with
-- form 'choice' (item = question key, answer = choice key, one row per chosen answer), 'yes_no'
-- (answer = yes/no) or 'contract' (item = field key, answer = the value).
-- sales_people are the field sales people who receive the appointments booked at the desk; an
-- appointment lasts from starts_at to ends_at (milliseconds) and one person's booked
-- appointments never overlap (checked in the booking transaction).

ALTER TABLE campaigns ADD COLUMN questionnaire TEXT NOT NULL DEFAULT '{}';

CREATE TABLE sales_people (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    first_name TEXT    NOT NULL,
    last_name  TEXT    NOT NULL,
    phone      TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    area       TEXT    NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX sales_people_tenant ON sales_people (tenant_id, last_name);

CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    sales_person_id INTEGER NOT NULL REFERENCES sales_people (id),
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    call_id         INTEGER NOT NULL REFERENCES crm_calls (id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL,
    agent_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    note            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX appointments_agenda ON appointments (sales_person_id, starts_at);
CREATE INDEX appointments_campaign ON appointments (campaign_id, starts_at);
