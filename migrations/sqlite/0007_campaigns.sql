-- CRM campaigns: a named effort on one contact base over a period, with the forms its agents
-- fill (multiple choice, appointment, yes/no, contract, argument tree; their contents arrive
-- with their editors). State: draft, active (agents call) or closed. Dates are the tenant's
-- calendar days, 'YYYY-MM-DD'. A base used by a campaign cannot be deleted.

CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT    NOT NULL,
    product    TEXT    NOT NULL,
    base_id    INTEGER NOT NULL REFERENCES contact_bases (id),
    starts_on  TEXT    NOT NULL,
    ends_on    TEXT    NOT NULL,
    forms      TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX campaigns_name ON campaigns (tenant_id, lower(name));
CREATE INDEX campaigns_base ON campaigns (base_id);
