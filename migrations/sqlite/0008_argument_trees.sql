-- Argument trees: the scripts agents walk during calls. The body of each version is the tree as
-- JSON (nodes with yes / no / undecided branches). A version becomes frozen once a campaign using
-- the tree is activated; saving a frozen tree adds a version, so answers keep pointing at the
-- version they were given on. A campaign with the argument-tree form names its tree.

CREATE TABLE argument_trees (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX argument_trees_name ON argument_trees (tenant_id, lower(name));

CREATE TABLE argument_tree_versions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tree_id    INTEGER NOT NULL REFERENCES argument_trees (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    frozen     INTEGER NOT NULL DEFAULT 0,
    saved_at   INTEGER NOT NULL,
    UNIQUE (tree_id, version)
);

ALTER TABLE campaigns ADD COLUMN tree_id INTEGER REFERENCES argument_trees (id);
CREATE INDEX campaigns_tree ON campaigns (tree_id);
