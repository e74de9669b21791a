package verifier

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// Maintenance is the daemon's compaction (CALLKIT.md §1.7 step 10): extensions
// in state 2 lose their rows and go to 1, extensions in state 5 are purged
// (the purge timeout is not modelled: every state-5 extension counts as
// past it [inferred]), then orphan PhoneNumber and Label rows are deleted,
// then VACUUM.
func (d *Driver) Maintenance() error {
	for _, name := range d.ledger.order {
		state, err := d.readState(name)
		if errors.Is(err, sql.ErrNoRows) {
			continue // removed
		}
		if err != nil {
			return err
		}
		switch state {
		case StateSwitchedOff:
			if err := d.deleteAll(name, true, true); err != nil {
				return err
			}
			if err := d.setState(name, StateDisabled); err != nil {
				return err
			}
		case StateUnavailable:
			if err := d.RemoveExtension(name); err != nil {
				return err
			}
		}
	}
	if err := d.exec(nil, sqlOrphanNumbers); err != nil {
		return err
	}
	if err := d.exec(nil, sqlOrphanLabels); err != nil {
		return err
	}
	return d.exec(nil, sqlVacuum)
}

// Prepare is CDXPrepareStoreOperation's stuck-loading check: state 3 is
// reset to 4 without cleaning up rows (CALLKIT.md §1.7 step 9; the 1-hour age
// is not modelled: every state-3 extension counts as stuck).
func (d *Driver) Prepare() error {
	for _, name := range d.ledger.order {
		state, err := d.readState(name)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if state == StateLoading {
			if err := d.setState(name, StateLoaded); err != nil {
				return err
			}
		}
	}
	return nil
}

// Disable is the Settings switch turned off: state → 2.
func (d *Driver) Disable(name string) error { return d.setState(name, StateSwitchedOff) }

// Unavailable puts an extension in state 5. What does this on a device is
// not known (CALLKIT.md §1.7 names only the state and error 102): the
// directive is [inferred].
func (d *Driver) Unavailable(name string) error { return d.setState(name, StateUnavailable) }

// RemoveExtension deletes the extension's row; the entries go with it by
// ON DELETE CASCADE [Inf].
func (d *Driver) RemoveExtension(name string) error {
	return d.exec(func(l *Ledger) {
		ex := l.ext(name)
		ex.clearAll()
		ex.state = 0 // gone
	}, `DELETE FROM Extension WHERE (bundle_id = ?)`, d.bundles[name])
}

// SetMaxPageCount applies the disk-full fault: a fixed max_page_count, or
// the current page count plus extra pages of room.
func (d *Driver) SetMaxPageCount(pages, extra int) error {
	if extra > 0 {
		var cur int
		if err := d.conn.QueryRowContext(d.ctx, "PRAGMA page_count").Scan(&cur); err != nil {
			return err
		}
		pages = cur + extra
	}
	if pages == 0 {
		pages = 1 << 30
	}
	_, err := d.conn.ExecContext(d.ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
	return err
}

// reconnect closes the daemon's connection and opens a new one, as a new
// daemon process would (prepared statements are per connection).
func (d *Driver) reconnect() error {
	d.Close()
	db, conn, err := openDB(d.ctx, d.path, d.set, false)
	if err != nil {
		return err
	}
	d.db, d.conn = db, conn
	return nil
}

// Reopen is the daemon starting again: it opens the database and probes
// it with SELECT MAX(version) FROM SchemaVersion. Only SQLITE_CORRUPT (11)
// from that probe counts as corruption (CALLKIT.md §3.5): the daemon then
// deletes the file, copies the template again and registers the
// extensions again (in state 1, with no rows: the re-synchronisation is
// [inferred]), and recovered is true. Otherwise it runs the stuck-loading
// check. Damage the probe does not read stays, and later writes meet it.
func (d *Driver) Reopen() (recovered bool, err error) {
	if err := d.reconnect(); err != nil {
		return false, err
	}
	var v sql.NullInt64
	err = d.query(sqlSchemaVersion, nil, &v)
	if SQLiteCode(err) != 11 {
		if err != nil {
			return false, err
		}
		return false, d.Prepare()
	}
	d.Close()
	var exts []ExtDef
	for _, name := range d.ledger.order {
		if d.ledger.ext(name).state != 0 {
			exts = append(exts, ExtDef{Name: name, Bundle: d.bundles[name]})
		}
	}
	if err := createDB(d.ctx, d.path, d.set, exts); err != nil {
		return true, fmt.Errorf("recreate the database: %w", err)
	}
	db, conn, err := openDB(d.ctx, d.path, d.set, false)
	if err != nil {
		return true, err
	}
	d.db, d.conn = db, conn
	for _, e := range exts {
		x := d.ledger.ext(e.Name)
		x.clearAll()
		x.state = StateDisabled
		if err := conn.QueryRowContext(d.ctx, `SELECT id FROM Extension WHERE bundle_id = ?`, e.Bundle).Scan(&x.id); err != nil {
			return true, err
		}
	}
	return true, nil
}

// Corrupt damages the root page of one table or index the way another
// process overwriting the file would (howtocorrupt §1): it closes the
// daemon's connection, writes an invalid b-tree page type over the page's
// first byte, and opens the file again without the daemon's probe (a
// reopen step runs that).
func (d *Driver) Corrupt(table string) error {
	var root, pageSize int64
	if err := d.conn.QueryRowContext(d.ctx, `SELECT rootpage FROM sqlite_master WHERE name = ?`, table).Scan(&root); err != nil {
		return fmt.Errorf("corrupt %s: %w", table, err)
	}
	if err := d.conn.QueryRowContext(d.ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return err
	}
	if d.set.JournalMode == "wal" { // the page's newest copy must be in the file
		if _, err := d.conn.ExecContext(d.ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return err
		}
	}
	d.Close()
	f, err := os.OpenFile(d.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt([]byte{0}, (root-1)*pageSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	db, conn, err := openDB(d.ctx, d.path, d.set, false)
	if err != nil {
		return err
	}
	d.db, d.conn = db, conn
	return nil
}
