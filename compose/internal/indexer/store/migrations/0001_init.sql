-- Runs on PostgreSQL 15 and SQLite 3 alike: keep to the common subset.
CREATE TABLE IF NOT EXISTS blocks (
    number             BIGINT PRIMARY KEY,
    hash               TEXT   NOT NULL UNIQUE,
    parent_hash        TEXT   NOT NULL,
    produced_unix_nano BIGINT NOT NULL,
    tx_count           INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS txs (
    hash                TEXT    PRIMARY KEY,
    block_number        BIGINT  NOT NULL REFERENCES blocks (number),
    idx                 INTEGER NOT NULL,
    kind                TEXT    NOT NULL,
    player              TEXT    NOT NULL,
    item_id             BIGINT  NOT NULL,
    amount              BIGINT  NOT NULL,
    from_player         TEXT    NOT NULL,
    to_player           TEXT    NOT NULL,
    mission             TEXT    NOT NULL,
    step                INTEGER NOT NULL,
    submitted_unix_nano BIGINT  NOT NULL
);

-- History reads a player's newest transactions: this index serves both the
-- filter and the order, so it never sorts or scans the table.
CREATE INDEX IF NOT EXISTS txs_player_recent ON txs (player, block_number DESC, idx DESC);

-- Current owner of every item ever bought.
CREATE TABLE IF NOT EXISTS items (
    item_id      BIGINT PRIMARY KEY,
    owner        TEXT   NOT NULL,
    price        BIGINT NOT NULL,
    block_number BIGINT NOT NULL REFERENCES blocks (number)
);

CREATE INDEX IF NOT EXISTS items_owner ON items (owner, item_id);
