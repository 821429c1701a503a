package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Errors ApplyBlock returns when a block does not extend the stored chain.
var (
	ErrDuplicateBlock = errors.New("block already stored")
	ErrBlockGap       = errors.New("block does not follow the stored head")
	ErrParentMismatch = errors.New("block's parent is not the stored head")
	ErrBadDSN         = errors.New("bad database URL")
)

// Dialect is the database behind a DB.
type Dialect string

// The two databases the indexer runs on.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Head is the newest stored block; zero when nothing is stored.
type Head struct {
	Number           uint64
	Hash             string
	ProducedUnixNano int64
}

type config struct {
	slowHistory bool
}

// Option configures Open.
type Option func(*config)

// SlowHistory switches on the seeded FAULT_SLOW_QUERY: History matches the
// player case-insensitively with lower(player), which no index serves, so
// every call scans and sorts the whole txs table.
func SlowHistory(on bool) Option { return func(c *config) { c.slowHistory = on } }

// ParseDSN splits a --db URL into dialect and driver data source:
// postgres://… (or postgresql://…) and sqlite:///path/file.db.
func ParseDSN(dsn string) (Dialect, string, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return "", "", fmt.Errorf("%w %q: want postgres://… or sqlite:///path/file.db", ErrBadDSN, dsn)
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if _, err := url.Parse(dsn); err != nil {
			return "", "", fmt.Errorf("%w: %v", ErrBadDSN, err)
		}
		return Postgres, dsn, nil
	case "sqlite":
		if rest == "" || strings.ContainsAny(rest, "?#\x00") {
			return "", "", fmt.Errorf("%w %q: want sqlite:///path/file.db without query", ErrBadDSN, dsn)
		}
		// Writers take the lock up front (immediate) so two writers never
		// deadlock upgrading; WAL lets readers run beside the writer.
		return SQLite, "file:" + rest + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate", nil
	}
	return "", "", fmt.Errorf("%w %q: unknown scheme %q (want postgres or sqlite)", ErrBadDSN, dsn, scheme)
}

// DB is a store on PostgreSQL or SQLite.
type DB struct {
	db      *sql.DB
	dialect Dialect
	cfg     config
}

// Open connects to the database at dsn, waits until it answers (within
// ctx) and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	dialect, source, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	driver := "pgx"
	if dialect == SQLite {
		driver = "sqlite"
	}
	sqlDB, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	d := &DB{db: sqlDB, dialect: dialect}
	for _, o := range opts {
		o(&d.cfg)
	}
	if dialect == Postgres {
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetConnMaxIdleTime(time.Minute)
	}
	if err := d.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if err := d.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return d, nil
}

// Dialect says which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: %s unreachable: %w", d.dialect, err)
	}
	return nil
}

// Close closes the connection pool.
func (d *DB) Close() error { return d.db.Close() }

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction, in file name order.
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_unix_nano BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s: name must start with a number: %w", base, err)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := d.apply(ctx, version, string(body)); err != nil {
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
	}
	return nil
}

func (d *DB) apply(ctx context.Context, version int, body string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_unix_nano) VALUES ($1, $2)`,
		version, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}
