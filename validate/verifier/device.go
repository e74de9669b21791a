package verifier

import (
	"context"
	"database/sql"
	"errors"

	"github.com/calldir/calldir/shard"
)

// A device is one simulated phone's CallDirectory.db that outlives a
// replay: the fleet simulation (package validate/fleet) keeps one per
// phone in a scratch directory, opens a Driver on it only while the
// phone's refresh runs, and judges its rows against published builds.
// These entry points expose the daemon model without its plan runner.

// CreateDevice makes a fresh model database at path with the schema and
// the extensions registered (state 1), as a replay's first step does.
// path must be in a scratch directory of the caller: it and its journal,
// WAL and shared memory are replaced.
func CreateDevice(ctx context.Context, path string, set Settings, exts []ExtDef) error {
	return createDB(ctx, path, set, exts)
}

// OpenDevice opens the database at path as the daemon does (set.VFS may
// name the crash VFS, package crashvfs, after crashvfs.Start for path).
// The caller closes the Driver.
func OpenDevice(ctx context.Context, path string, set Settings, exts []ExtDef) (*Driver, error) {
	return newDriver(ctx, path, set, exts)
}

// Content is one extension's entries as order-independent digests: a
// count and a sum of entry hashes per kind, the fingerprint the judge
// compares databases and the model with. Two Contents are equal when the
// entries are (up to a 64-bit hash collision).
type Content struct {
	Block, Ident       int64  // entries of each kind
	BlockSum, IdentSum uint64 // wrapping sums of the entry hashes
}

// Entries is the number of entries of both kinds.
func (c Content) Entries() int64 { return c.Block + c.Ident }

func contentOf(bd, id digest) Content {
	return Content{Block: bd.n, Ident: id.n, BlockSum: bd.sum, IdentSum: id.sum}
}

// Content reads an extension's state and entries from the database (a
// full scan of its rows). A removed extension reads as state 0.
func (d *Driver) Content(name string) (state int, c Content, err error) {
	state, err = d.readState(name)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, Content{}, nil
		}
		return 0, Content{}, err
	}
	bd, id, err := dbDigests(d.ctx, d.conn, d.ledger.ext(name).id)
	if err != nil {
		return state, Content{}, err
	}
	return state, contentOf(bd, id), nil
}

// BuildContents are a build's entries per extension, named as plans name
// them (ExtName): what a device that loaded the build must hold. An
// extension the build has not is empty.
func BuildContents(b *shard.Build) map[string]Content {
	out := map[string]Content{}
	for name, d := range buildDigests(b) {
		out[name] = contentOf(d[0], d[1])
	}
	return out
}

// buildDigests are the blocking and identification digests of each of a
// build's extensions, by plan name: what the database of a device that
// loaded it must hold (expectBuild, BuildContents).
func buildDigests(b *shard.Build) map[string][2]digest {
	out := map[string][2]digest{}
	for ext, e := range b.Exts {
		var bd, id digest
		for i, n := range e.Numbers {
			if e.Kind == shard.KindIdentify {
				id.add(identHash(n, e.Labels[i]))
			} else {
				bd.add(blockHash(n))
			}
		}
		out[extName(ext)] = [2]digest{bd, id}
	}
	return out
}

// ExtName is the plan name of manifest extension e ("ext3"), as
// PlanFromBuild and expect-build name it.
func ExtName(e int) string { return extName(e) }

// RollbackCommits is how many commits before the last a power loss may
// take back under s (-1: any since the last checkpoint), and why: what
// SQLite documents for the journal mode and synchronous setting (see
// rollbackAllowed). A fleet simulation widens what it accepts after a
// power loss by it.
func RollbackCommits(s Settings) (commits int, why string) {
	r := rollbackAllowed(s)
	return r.commits, r.why
}

// State reads an extension's state as the daemon does (0: no row).
func (d *Driver) State(name string) (int, error) {
	st, err := d.readState(name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return st, err
}
