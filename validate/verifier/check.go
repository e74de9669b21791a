package verifier

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/calldir/calldir/validate/verifier/model"
)

// Metrics describe the database after a step.
type Metrics struct {
	Rows          int64 `json:"rows"`           // entries, all extensions, both kinds
	PhoneNumbers  int64 `json:"phone_numbers"`  // PhoneNumber rows, orphans included
	PageCount     int64 `json:"page_count"`     // PRAGMA page_count
	FreelistCount int64 `json:"freelist_count"` // PRAGMA freelist_count
	FileBytes     int64 `json:"file_bytes"`
	JournalBytes  int64 `json:"journal_bytes"`
	WALBytes      int64 `json:"wal_bytes"`
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readMetrics reads the metrics through conn (uncounted statements).
func readMetrics(ctx context.Context, conn *sql.Conn, path string) (Metrics, error) {
	var m Metrics
	for _, q := range []struct {
		sql string
		dst *int64
	}{
		{"SELECT (SELECT COUNT(*) FROM PhoneNumberBlockingEntry) + (SELECT COUNT(*) FROM PhoneNumberIdentificationEntry)", &m.Rows},
		{"SELECT COUNT(*) FROM PhoneNumber", &m.PhoneNumbers},
		{"PRAGMA page_count", &m.PageCount},
		{"PRAGMA freelist_count", &m.FreelistCount},
	} {
		if err := conn.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return m, err
		}
	}
	m.FileBytes = fileSize(path)
	m.JournalBytes = fileSize(path + "-journal")
	m.WALBytes = fileSize(path + "-wal")
	return m, nil
}

// quickCheck runs PRAGMA quick_check (or integrity_check when full) and
// returns "" when the database is well-formed, else what SQLite said.
func quickCheck(ctx context.Context, conn *sql.Conn, full bool) (string, error) {
	pragma := "PRAGMA quick_check"
	if full {
		pragma = "PRAGMA integrity_check"
	}
	rows, err := conn.QueryContext(ctx, pragma)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		if s != "ok" && len(msgs) < 5 {
			msgs = append(msgs, s)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return strings.Join(msgs, "; "), nil
}

// integrity runs the full integrity_check and says "ok" or what is wrong
// (a database too damaged to run the check gives the error).
func integrity(ctx context.Context, conn *sql.Conn) string {
	msg, err := quickCheck(ctx, conn, true)
	switch {
	case err != nil:
		return err.Error()
	case msg != "":
		return msg
	}
	return "ok"
}

// foreignKeyViolations counts PRAGMA foreign_key_check rows.
func foreignKeyViolations(ctx context.Context, conn *sql.Conn) (int, error) {
	rows, err := conn.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// dbFingerprint computes, from the database, the same fingerprint as
// rowSet.Fingerprint: per extension (ids from the ledger) its state and
// entry digests. It also returns the number of entry rows with a NULL
// phone_number_id or label_id.
func dbFingerprint(ctx context.Context, conn *sql.Conn, l *Ledger) (string, int64, error) {
	var b strings.Builder
	var nulls int64
	for _, name := range l.order {
		e := l.exts[name]
		state := 0
		err := conn.QueryRowContext(ctx, `SELECT state FROM Extension WHERE id = ?`, e.id).Scan(&state)
		if err != nil && err != sql.ErrNoRows {
			return "", 0, err
		}
		bd, id, err := dbDigests(ctx, conn, e.id)
		if err != nil {
			return "", 0, err
		}
		fmt.Fprintf(&b, "%s:%d:%s:%s;", name, state, bd, id)
	}
	err := conn.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM PhoneNumberBlockingEntry WHERE phone_number_id IS NULL) + (SELECT COUNT(*) FROM PhoneNumberIdentificationEntry WHERE phone_number_id IS NULL OR label_id IS NULL)`).Scan(&nulls)
	return b.String(), nulls, err
}

// dbDigests scans one extension's blocking and identification rows.
func dbDigests(ctx context.Context, conn *sql.Conn, extID int64) (bd, id digest, err error) {
	err = scan(ctx, conn, `SELECT p.number FROM PhoneNumberBlockingEntry e JOIN PhoneNumber p ON p.id = e.phone_number_id WHERE e.extension_id = ?`, extID, func(r *sql.Rows) error {
		var n int64
		if err := r.Scan(&n); err != nil {
			return err
		}
		bd.add(blockHash(n))
		return nil
	})
	if err != nil {
		return
	}
	err = scan(ctx, conn, `SELECT p.number, l.localized_label FROM PhoneNumberIdentificationEntry e JOIN PhoneNumber p ON p.id = e.phone_number_id JOIN Label l ON l.id = e.label_id WHERE e.extension_id = ?`, extID, func(r *sql.Rows) error {
		var n int64
		var l string
		if err := r.Scan(&n, &l); err != nil {
			return err
		}
		id.add(identHash(n, l))
		return nil
	})
	return
}

func scan(ctx context.Context, conn *sql.Conn, q string, arg any, fn func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// describeDiff explains how a fingerprint (of the database, or of what the
// driver committed: what names it) differs from the expected one, and
// says whether any extension's rows differ (rather than only its state).
func describeDiff(got, want, what string) (string, bool) {
	d := strings.Split(strings.TrimSuffix(got, ";"), ";")
	m := strings.Split(strings.TrimSuffix(want, ";"), ";")
	var out []string
	rows := false
	for i := range m {
		if i < len(d) && d[i] != m[i] {
			out = append(out, fmt.Sprintf("%s %s, model %s", what, d[i], m[i]))
			dp, mp := strings.SplitN(d[i], ":", 3), strings.SplitN(m[i], ":", 3)
			rows = rows || len(dp) < 3 || len(mp) < 3 || dp[2] != mp[2]
		}
	}
	return strings.Join(out, "; ") + " (name:state:block rows/digest:identification rows/digest)", rows
}

// diffOutcome is a database that differs from the model: rows lost when
// rows differ, state differs when only states do.
func diffOutcome(got, want string) Outcome {
	detail, rows := describeDiff(got, want, "database")
	if rows {
		return Outcome{Class: ClassRowsLost, Detail: detail}
	}
	return Outcome{Class: ClassState, Detail: detail}
}

// checkAfterStep checks what the driver committed against the model (a
// difference is the driver breaking a CallKit rule), then the database
// against the model: quick_check (or the full integrity_check on the last
// step), no NULL entry references, states and rows per extension. Rows
// are compared in full (every row, by digest) while extensions are below
// limit entries, and by count above it, except on the last step.
func checkAfterStep(ctx context.Context, d *Driver, mod *model.Model, final bool, limit int64) Outcome {
	m := mod.World()
	msg, err := quickCheck(ctx, d.conn, final)
	if err != nil {
		return outcomeOf(err)
	}
	if msg != "" {
		return Outcome{Class: ClassIntegrity, Code: 11, Detail: msg}
	}
	want := m.Fingerprint()
	if lf := d.ledger.Fingerprint(); lf != want {
		detail, _ := describeDiff(lf, want, "driver committed")
		return Outcome{Class: ClassModel, Detail: "model disagrees: " + detail}
	}
	full := final || m.Rows() <= limit*int64(max(1, len(m.Names())))
	if !full {
		return compareCounts(ctx, d, m)
	}
	got, nulls, err := dbFingerprint(ctx, d.conn, d.ledger)
	if err != nil {
		return outcomeOf(err)
	}
	if nulls > 0 {
		return Outcome{Class: ClassRowsLost, Detail: fmt.Sprintf("%d entry rows with a NULL phone_number_id or label_id", nulls)}
	}
	if got != want {
		return diffOutcome(got, want)
	}
	return Outcome{Class: ClassOK}
}

// compareCounts compares states and row counts per extension.
func compareCounts(ctx context.Context, d *Driver, m *model.World) Outcome {
	for _, name := range m.Names() {
		e := m.Ext(name)
		var state, nb, ni int64
		err := d.conn.QueryRowContext(ctx, `SELECT IFNULL((SELECT state FROM Extension WHERE id = ?1), 0), (SELECT COUNT(*) FROM PhoneNumberBlockingEntry WHERE extension_id = ?1), (SELECT COUNT(*) FROM PhoneNumberIdentificationEntry WHERE extension_id = ?1)`, d.ledger.ext(name).id).Scan(&state, &nb, &ni)
		if err != nil {
			return outcomeOf(err)
		}
		mb, mi := e.BlockRows(), e.IdentRows()
		if state == int64(e.State) && nb == mb && ni == mi {
			continue
		}
		class := ClassState
		if nb != mb || ni != mi {
			class = ClassRowsLost
		}
		return Outcome{Class: class, Detail: fmt.Sprintf("%s: database state %d, %d blocking, %d identification rows; model state %d, %d, %d", name, state, nb, ni, e.State, mb, mi)}
	}
	return Outcome{Class: ClassOK}
}
