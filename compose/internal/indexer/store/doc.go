// Package store is the indexer's database: blocks, transactions and item
// ownership, written one block per transaction and queried by player. The
// same SQL runs on PostgreSQL (pgx) for the compose stack and on SQLite
// (modernc, pure Go) for the embedded default; the URL scheme picks.
package store
