-- Identity and access: tenants, users, profiles, sessions, login throttling.
-- Flags are INTEGER 0/1 and instants are Unix milliseconds (see DESIGN §5); the PostgreSQL twin
-- of this file has the same tables, columns and meanings.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    is_operator INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    currency    TEXT    NOT NULL DEFAULT 'EUR',
    time_zone   TEXT    NOT NULL DEFAULT 'Europe/Paris',
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX tenants_name_key ON tenants (lower(name));

-- The operator hosting the service is tenant 1; its users administer every tenant.
INSERT INTO tenants (id, name, is_operator, active, currency, time_zone, created_at)
VALUES (1, 'Operator', 1, 1, 'EUR', 'Europe/Paris', 0);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           INTEGER NOT NULL REFERENCES tenants (id),
    login               TEXT    NOT NULL UNIQUE,
    first_name          TEXT    NOT NULL,
    last_name           TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);

-- Profiles are data: built-in ones have no tenant; per-queue SV/AG profiles (later) carry a tenant.
CREATE TABLE profiles (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER REFERENCES tenants (id),
    kind      TEXT    NOT NULL,
    name      TEXT    NOT NULL
);
CREATE UNIQUE INDEX profiles_builtin_kind ON profiles (kind) WHERE tenant_id IS NULL;

INSERT INTO profiles (tenant_id, kind, name) VALUES
    (NULL, 'operator_admin',   'Operator administrator'),
    (NULL, 'client_admin',     'Client administrator'),
    (NULL, 'supervisor',       'Supervisor'),
    (NULL, 'agent',            'Agent'),
    (NULL, 'department_head',  'Department head'),
    (NULL, 'accounting',       'Accounting'),
    (NULL, 'statistics',       'Statistics'),
    (NULL, 'call_log',         'Call log'),
    (NULL, 'incident_manager', 'Incident manager'),
    (NULL, 'external_forward', 'External forward');

CREATE TABLE user_profiles (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, profile_id)
);

-- Only a SHA-256 of the session token is stored: a leaked table opens no session.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    address      TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_throttle (
    throttle_key      TEXT    PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until      INTEGER NOT NULL DEFAULT 0
);
