package fleet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/shard/channel"
	"github.com/calldir/calldir/validate/verifier"
)

// History is what a channel published, read from its files by the
// simulation itself: the expectations every invariant is judged against.
type History struct {
	Dir      string
	Pointers []Published // servable pointers, by sequence
	// Skipped counts the older pointers of pointers/ that name a file the
	// channel no longer has (publish removes what no live pointer offers).
	Skipped int
	// Builds are each offered build's entries per extension name.
	Builds map[string]map[string]verifier.Content
	// Genuine holds the SHA-256 of every file a pointer offers, directly
	// or through a manifest; Payloads that of every pointer payload.
	Genuine  map[string]bool
	Payloads map[string]bool
	Exts     []int            // every extension number of every build
	Full     map[string]int64 // build ID → bytes of its manifest and shards
}

// Published is one pointer of the history.
type Published struct {
	Envelope []byte
	Pointer  *channel.Pointer
}

// HistoryError is a channel whose history cannot be simulated.
type HistoryError struct{ Msg string }

func (e *HistoryError) Error() string { return "channel history: " + e.Msg }

// ReadHistory reads every pointer of dir's pointers/, verifies it with
// keys, and keeps the longest run of the newest ones whose files are all
// present and are the files signed.
func ReadHistory(dir string, keys []ed25519.PublicKey) (*History, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("channel: %w", err)
	}
	defer root.Close()
	ents, err := fs.ReadDir(root.FS(), channel.PointersDir)
	if err != nil {
		return nil, &HistoryError{fmt.Sprintf("%s: %v (publish keeps every pointer there)", channel.PointersDir, err)}
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && len(e.Name()) == len("0000000001.json") && path.Ext(e.Name()) == ".json" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, &HistoryError{"no pointer in " + channel.PointersDir}
	}
	h := &History{Dir: dir, Builds: map[string]map[string]verifier.Content{}, Genuine: map[string]bool{}, Payloads: map[string]bool{}, Full: map[string]int64{}}
	exts := map[int]bool{}
	var kept []Published
	for i := len(names) - 1; i >= 0; i-- {
		rel := channel.PointersDir + "/" + names[i]
		data, err := shard.ReadRegular(root, rel, channel.MaxPointerBytes)
		if err != nil {
			return nil, &HistoryError{err.Error()}
		}
		p, payload, err := channel.Open(data, keys)
		if err != nil {
			return nil, &HistoryError{fmt.Sprintf("%s: %v", rel, err)}
		}
		if channel.HistoryName(p.Sequence) != names[i] {
			return nil, &HistoryError{fmt.Sprintf("%s: holds sequence %d", rel, p.Sequence)}
		}
		// Equal times are fine: one publish of several builds signs them
		// all within a second (publish times are whole seconds).
		if len(kept) > 0 && p.Published.After(kept[len(kept)-1].Pointer.Published) {
			next := kept[len(kept)-1].Pointer
			return nil, &HistoryError{fmt.Sprintf("%s: published %s, after the next pointer (sequence %d, published %s)", rel, p.Published.UTC().Format(time.RFC3339), next.Sequence, next.Published.UTC().Format(time.RFC3339))}
		}
		if err := h.addOffers(root, p, exts); err != nil {
			if errors.Is(err, fs.ErrNotExist) && len(kept) > 0 {
				h.Skipped = i + 1
				break
			}
			return nil, &HistoryError{fmt.Sprintf("%s: %v", rel, err)}
		}
		h.Payloads[sum(payload)] = true
		kept = append(kept, Published{Envelope: data, Pointer: p})
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	h.Pointers = kept
	for e := range exts {
		h.Exts = append(h.Exts, e)
	}
	sort.Ints(h.Exts)
	return h, nil
}

// addOffers reads and checks every build and delta p offers.
func (h *History) addOffers(root *os.Root, p *channel.Pointer, exts map[int]bool) error {
	for _, b := range p.Builds {
		rel := b.ManifestPath()
		data, err := h.readSigned(root, rel, b.ManifestSHA256, b.ManifestBytes)
		if err != nil {
			return err
		}
		if _, ok := h.Builds[b.ID]; ok {
			continue
		}
		m, err := shard.ReadManifest(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if m.BuildID != b.ID {
			return fmt.Errorf("%s: manifest of build %.12s…", rel, m.BuildID)
		}
		full := int64(len(data))
		for _, s := range m.Shards {
			if !fs.ValidPath(s.File) {
				return fmt.Errorf("%s: shard %q outside the build", rel, s.File)
			}
			if _, err := h.readSigned(root, path.Join(channel.BuildPath(b.ID), s.File), s.SHA256, s.Size); err != nil {
				return err
			}
			full += s.Size
			exts[s.Extension] = true
		}
		build, err := shard.LoadBuild(filepath.Join(h.Dir, filepath.FromSlash(channel.BuildPath(b.ID))))
		if err != nil {
			return err
		}
		h.Builds[b.ID] = verifier.BuildContents(build)
		h.Full[b.ID] = full
	}
	for _, d := range p.Deltas {
		rel := d.ManifestPath()
		data, err := h.readSigned(root, rel, d.ManifestSHA256, d.ManifestBytes)
		if err != nil {
			return err
		}
		dm, err := shard.ReadDeltaManifest(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for _, x := range dm.Extensions {
			for _, rq := range x.Requests {
				for _, f := range rq.Files {
					if !fs.ValidPath(f.File) {
						return fmt.Errorf("%s: file %q outside the delta", rel, f.File)
					}
					if _, err := h.readSigned(root, path.Join(channel.DeltaPath(d.Base, d.Target), f.File), f.SHA256, -1); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// readSigned reads a channel file and requires its signed SHA-256 (and
// size, unless -1); the hash is recorded as genuine.
func (h *History) readSigned(root *os.Root, rel, want string, size int64) ([]byte, error) {
	limit := size
	if limit < 0 {
		limit = 1 << 30
	}
	data, err := shard.ReadRegular(root, rel, limit)
	if err != nil {
		return nil, err
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, fmt.Errorf("%s: %d bytes, signed %d", rel, len(data), size)
	}
	if got := sum(data); got != want {
		return nil, fmt.Errorf("%s: SHA-256 %.12s…, signed %.12s…", rel, got, want)
	}
	h.Genuine[want] = true
	return data, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

type channelDelta = channel.DeltaOffer

func readManifest(dir string) (*shard.Manifest, error) { return shard.ReadManifestFile(dir) }
