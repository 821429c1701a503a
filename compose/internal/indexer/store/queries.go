package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
)

// txBatch rows go in one INSERT: well under both databases' parameter
// limits (SQLite 32766, PostgreSQL 65535) at 12 columns a row.
const txBatch = 100

// ApplyBlock stores b, its transactions and the ownership changes of its
// buys in one database transaction. b must follow the stored head (any
// block is accepted into an empty store): otherwise it returns
// ErrDuplicateBlock, ErrBlockGap or ErrParentMismatch and stores nothing.
func (d *DB) ApplyBlock(ctx context.Context, b *pb.Block) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: block %d: begin: %w", b.GetNumber(), err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	head, err := headOf(ctx, tx)
	if err != nil {
		return fmt.Errorf("store: block %d: %w", b.GetNumber(), err)
	}
	if head.Number != 0 {
		switch {
		case b.GetNumber() <= head.Number:
			return fmt.Errorf("store: block %d: %w (head %d)", b.GetNumber(), ErrDuplicateBlock, head.Number)
		case b.GetNumber() != head.Number+1:
			return fmt.Errorf("store: block %d: %w %d", b.GetNumber(), ErrBlockGap, head.Number)
		case b.GetParentHash() != head.Hash:
			return fmt.Errorf("store: block %d: %w: parent %s, head %d is %s",
				b.GetNumber(), ErrParentMismatch, b.GetParentHash(), head.Number, head.Hash)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO blocks (number, hash, parent_hash, produced_unix_nano, tx_count)
		VALUES ($1, $2, $3, $4, $5)`, int64(b.GetNumber()), b.GetHash(), b.GetParentHash(), b.GetProducedUnixNano(), len(b.GetTxs())); err != nil {
		return fmt.Errorf("store: block %d: insert: %w", b.GetNumber(), err)
	}
	txs := b.GetTxs()
	for start := 0; start < len(txs); start += txBatch {
		if err := insertTxs(ctx, tx, b.GetNumber(), start, txs[start:min(start+txBatch, len(txs))]); err != nil {
			return fmt.Errorf("store: block %d: %w", b.GetNumber(), err)
		}
	}
	for i, t := range txs {
		if t.GetKind() != "buy" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO items (item_id, owner, price, block_number) VALUES ($1, $2, $3, $4)
			ON CONFLICT (item_id) DO UPDATE SET owner = excluded.owner, price = excluded.price, block_number = excluded.block_number`,
			t.GetItemId(), Buyer(t), t.GetAmount(), int64(b.GetNumber())); err != nil {
			return fmt.Errorf("store: block %d: tx %d (%s): ownership: %w", b.GetNumber(), i, t.GetHash(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: block %d: commit: %w", b.GetNumber(), err)
	}
	return nil
}

// Reset deletes every block, transaction and item in one database
// transaction, leaving an empty store that accepts any chain: the indexer's
// answer to a sequencer that no longer has the chain it stored. Readers see
// the old index or an empty one, never part of either.
func (d *DB) Reset(ctx context.Context) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: reset: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// Children first: txs and items reference blocks.
	for _, table := range []string{"items", "txs", "blocks"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			return fmt.Errorf("store: reset: %s: %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: reset: commit: %w", err)
	}
	return nil
}

// Buyer is who owns the item after a buy: the transfer's recipient, or the
// submitting player when the marketplace left it out.
func Buyer(t *pb.Tx) string {
	if t.GetTo() != "" {
		return t.GetTo()
	}
	return t.GetPlayer()
}

func insertTxs(ctx context.Context, tx *sql.Tx, block uint64, first int, txs []*pb.Tx) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO txs (hash, block_number, idx, kind, player, item_id, amount, from_player, to_player, mission, step, submitted_unix_nano) VALUES `)
	args := make([]any, 0, len(txs)*12)
	for i, t := range txs {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12)
		args = append(args, t.GetHash(), int64(block), first+i, t.GetKind(), t.GetPlayer(), t.GetItemId(), t.GetAmount(),
			t.GetFrom(), t.GetTo(), t.GetMission(), t.GetStep(), t.GetSubmittedUnixNano())
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert txs %d..%d: %w", first, first+len(txs)-1, err)
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func headOf(ctx context.Context, q queryer) (Head, error) {
	var h Head
	var n int64
	err := q.QueryRowContext(ctx, `SELECT number, hash, produced_unix_nano FROM blocks ORDER BY number DESC LIMIT 1`).
		Scan(&n, &h.Hash, &h.ProducedUnixNano)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("head: %w", err)
	}
	h.Number = uint64(n)
	return h, nil
}

// Head is the newest stored block, zero when the store is empty.
func (d *DB) Head(ctx context.Context) (Head, error) {
	h, err := headOf(ctx, d.db)
	if err != nil {
		return Head{}, fmt.Errorf("store: %w", err)
	}
	return h, nil
}

// Inventory is the items player owns now, by item id. The indexer knows
// items only from transactions, so Name is empty and Price is what the
// owner paid.
func (d *DB) Inventory(ctx context.Context, player string) ([]*pb.Item, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT item_id, owner, price FROM items WHERE owner = $1 ORDER BY item_id`, player)
	if err != nil {
		return nil, fmt.Errorf("store: inventory of %q: %w", player, err)
	}
	defer rows.Close()
	var items []*pb.Item
	for rows.Next() {
		it := &pb.Item{}
		if err := rows.Scan(&it.Id, &it.Owner, &it.Price); err != nil {
			return nil, fmt.Errorf("store: inventory of %q: %w", player, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: inventory of %q: %w", player, err)
	}
	return items, nil
}

const txColumns = `hash, kind, player, item_id, amount, from_player, to_player, mission, step, submitted_unix_nano`

func (d *DB) historyQuery() string {
	if d.cfg.slowHistory {
		// The seeded fault: an innocent-looking case-insensitive match that
		// defeats txs_player_recent, so the cost grows with the table.
		return `SELECT ` + txColumns + ` FROM txs WHERE lower(player) = lower($1) ORDER BY block_number DESC, idx DESC LIMIT $2`
	}
	return `SELECT ` + txColumns + ` FROM txs WHERE player = $1 ORDER BY block_number DESC, idx DESC LIMIT $2`
}

// History is player's newest transactions first, at most limit of them.
func (d *DB) History(ctx context.Context, player string, limit int) ([]*pb.Tx, error) {
	rows, err := d.db.QueryContext(ctx, d.historyQuery(), player, limit)
	if err != nil {
		return nil, fmt.Errorf("store: history of %q: %w", player, err)
	}
	defer rows.Close()
	var txs []*pb.Tx
	for rows.Next() {
		t := &pb.Tx{}
		if err := rows.Scan(&t.Hash, &t.Kind, &t.Player, &t.ItemId, &t.Amount, &t.From, &t.To, &t.Mission, &t.Step, &t.SubmittedUnixNano); err != nil {
			return nil, fmt.Errorf("store: history of %q: %w", player, err)
		}
		txs = append(txs, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: history of %q: %w", player, err)
	}
	return txs, nil
}

// ExplainHistory is the database's plan for History, one line per step:
// how to tell the index use from a table scan when chasing the hotspot.
func (d *DB) ExplainHistory(ctx context.Context, player string, limit int) (string, error) {
	rows, err := d.db.QueryContext(ctx, d.explainPrefix()+d.historyQuery(), player, limit)
	if err != nil {
		return "", fmt.Errorf("store: explain history: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", fmt.Errorf("store: explain history: %w", err)
		}
		// The plan text is the last column in both databases.
		switch v := vals[len(vals)-1].(type) {
		case []byte:
			lines = append(lines, string(v))
		default:
			lines = append(lines, fmt.Sprint(v))
		}
	}
	return strings.Join(lines, "\n"), rows.Err()
}

func (d *DB) explainPrefix() string {
	if d.dialect == SQLite {
		return "EXPLAIN QUERY PLAN "
	}
	return "EXPLAIN "
}
