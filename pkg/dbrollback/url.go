package dbrollback

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/vibestack/rollback/pkg/redact"
)

// Engine names a database engine.
type Engine string

// The supported database engines.
const (
	Postgres Engine = "postgres"
	MySQL    Engine = "mysql"
	SQLite   Engine = "sqlite"
)

// Display returns the engine's name for people: PostgreSQL, MySQL/MariaDB, SQLite.
func (e Engine) Display() string {
	switch e {
	case Postgres:
		return "PostgreSQL"
	case MySQL:
		return "MySQL/MariaDB"
	case SQLite:
		return "SQLite"
	}
	return string(e)
}

// Target is a parsed database URL: which engine, where, and how to connect,
// with the password kept apart so that it is never printed.
type Target struct {
	Engine   Engine
	Host     string
	Port     string
	User     string
	password string
	// Name is the database name (PostgreSQL, MySQL) or the file path (SQLite).
	Name  string
	query url.Values
}

// ParseURL parses a postgres://, postgresql://, mysql:// or sqlite:// URL.
// For SQLite the path follows the scheme: sqlite:///abs/path.db or
// sqlite://relative.db.
func ParseURL(raw string) (*Target, error) {
	if raw == "" {
		return nil, errors.New("no database URL: pass --database or set DATABASE_URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse database URL %s: invalid URL (a password with spaces or other special characters must be percent-encoded, e.g. %%20 for a space)", redact.URL(raw))
	}
	t := &Target{query: u.Query()}
	switch strings.ToLower(u.Scheme) {
	case "postgres", "postgresql":
		t.Engine, t.Port = Postgres, "5432"
	case "mysql", "mariadb":
		t.Engine, t.Port = MySQL, "3306"
	case "sqlite", "sqlite3", "file":
		t.Engine = SQLite
		p := u.Opaque
		if p == "" {
			p = u.Host + u.Path
		}
		if p == "" {
			return nil, fmt.Errorf("database URL %s has no file path: use sqlite:///path/to/db.sqlite", redact.URL(raw))
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("resolve sqlite path %s: %w", p, err)
		}
		t.Name = abs
		return t, nil
	default:
		return nil, fmt.Errorf("unsupported database URL scheme %q: use postgres://, mysql:// or sqlite://", u.Scheme)
	}
	if u.User != nil {
		t.User = u.User.Username()
		t.password, _ = u.User.Password()
	}
	if h := u.Hostname(); h != "" {
		t.Host = h
	} else {
		t.Host = "localhost"
	}
	if p := u.Port(); p != "" {
		t.Port = p
	}
	t.Name = strings.TrimPrefix(u.Path, "/")
	if t.Name == "" {
		return nil, fmt.Errorf("database URL %s names no database: add /DBNAME", redact.URL(raw))
	}
	return t, nil
}

// String returns the URL with the password replaced by "xxxxx".
func (t *Target) String() string {
	if t.Engine == SQLite {
		return "sqlite://" + t.Name
	}
	u := url.URL{Scheme: string(t.Engine), Host: net.JoinHostPort(t.Host, t.Port), Path: "/" + t.Name}
	if t.User != "" {
		if t.password != "" {
			u.User = url.UserPassword(t.User, "xxxxx")
		} else {
			u.User = url.User(t.User)
		}
	}
	return u.String()
}

// Key identifies the database independently of credentials: two URLs with
// the same key name the same database. Backups record it.
func (t *Target) Key() string {
	if t.Engine == SQLite {
		return "sqlite://" + t.Name
	}
	return fmt.Sprintf("%s://%s/%s", t.Engine, net.JoinHostPort(t.Host, t.Port), t.Name)
}

// WithName returns a copy of t that names another database on the same server
// (or another file for SQLite).
func (t *Target) WithName(name string) *Target {
	c := *t
	c.Name = name
	return &c
}

// pgURL returns a URL for pgx, with the password, and the extra run-time
// parameters (lock_timeout, ...) given.
func (t *Target) pgURL(params map[string]string) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(t.Host, t.Port), Path: "/" + t.Name}
	if t.password != "" {
		u.User = url.UserPassword(t.User, t.password)
	} else if t.User != "" {
		u.User = url.User(t.User)
	}
	q := url.Values{}
	for k, v := range t.query {
		q[k] = v
	}
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// libpqURL returns a URL without password for pg_dump and pg_restore; the
// password goes in PGPASSWORD. Only parameters libpq knows are kept.
func (t *Target) libpqURL() string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(t.Host, t.Port), Path: "/" + t.Name}
	if t.User != "" {
		u.User = url.User(t.User)
	}
	q := url.Values{}
	for _, k := range []string{"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name"} {
		if v := t.query.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// mysqlDSN returns a go-sql-driver DSN with multiStatements and parseTime,
// and the session variables given.
func (t *Target) mysqlDSN(vars map[string]string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = t.User, t.password, "tcp", net.JoinHostPort(t.Host, t.Port), t.Name
	if c.Passwd == "" {
		// As the mysql client does: a password the URL lacks may be in MYSQL_PWD.
		c.Passwd = os.Getenv("MYSQL_PWD")
	}
	c.MultiStatements, c.ParseTime = true, true
	c.Timeout = 10 * time.Second
	c.Params = map[string]string{}
	for k, v := range t.query {
		switch k {
		case "multiStatements", "parseTime":
		case "tls":
			c.TLSConfig = v[0]
		default:
			c.Params[k] = v[0]
		}
	}
	for k, v := range vars {
		c.Params[k] = v
	}
	return c.FormatDSN()
}

// env returns the environment entries that carry the password to pg_dump,
// pg_restore, mysqldump and mysql without putting it on a command line. A
// URL without a password sets nothing, so that a password the user put in
// PGPASSWORD or MYSQL_PWD (or ~/.pgpass, ~/.my.cnf) is used.
func (t *Target) env() []string {
	if t.password == "" {
		return nil
	}
	switch t.Engine {
	case Postgres:
		return []string{"PGPASSWORD=" + t.password}
	case MySQL:
		return []string{"MYSQL_PWD=" + t.password}
	}
	return nil
}

// Redact removes the password of t from s (plain and encoded forms, of any
// length) and every credential pkg/redact recognises.
func (t *Target) Redact(s string) string { return t.redactor().String(s) }

// redactor knows the password of t.
func (t *Target) redactor() *redact.Redactor {
	if t == nil {
		return nil
	}
	return redact.New(t.password)
}

// redactErr returns err with the password of t removed from its message; it
// still unwraps to err so that errors.Is and exit codes work.
func (t *Target) redactErr(err error) error { return t.redactor().Error(err) }
