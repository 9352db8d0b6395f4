-- CRM contact bases, imported from CSV or Excel. A base is 'importing' until its import
-- committed everything; only 'ready' bases are shown or used, and an import that fails (or a
-- server stopped mid-import) removes its base, so no half base is ever visible.
-- Phones are stored in E.164 (+33612345678); custom fields are a JSON array of values aligned
-- with the base's JSON array of custom field names. `search` holds names, phone and variables
-- folded (lower case, no accents) for searching the same way on both backends.

ALTER TABLE tenants ADD COLUMN default_country TEXT NOT NULL DEFAULT 'FR';

CREATE TABLE contact_bases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    name          TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    source_file   TEXT    NOT NULL,
    country       TEXT    NOT NULL,
    custom_fields TEXT    NOT NULL,
    rows_read     INTEGER NOT NULL DEFAULT 0,
    contacts      INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX contact_bases_name ON contact_bases (tenant_id, lower(name));

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    base_id    INTEGER NOT NULL REFERENCES contact_bases (id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    first_name TEXT    NOT NULL,
    last_name  TEXT    NOT NULL,
    phone      TEXT    NOT NULL,
    var1       TEXT    NOT NULL,
    var2       TEXT    NOT NULL,
    custom     TEXT    NOT NULL,
    search     TEXT    NOT NULL
);
CREATE INDEX contacts_base ON contacts (base_id);

CREATE TABLE contact_rejects (
    id      INTEGER PRIMARY KEY,
    base_id INTEGER NOT NULL REFERENCES contact_bases (id) ON DELETE CASCADE,
    line    INTEGER NOT NULL,
    reason  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    raw     TEXT    NOT NULL
);
CREATE INDEX contact_rejects_base ON contact_rejects (base_id);
