package livelookup

import (
	"io"

	"github.com/calldir/calldir/shard/outfs"
)

// Mark is how calldir recognises an export it made (shard/outfs): its
// manifest, listing every file. Its counts are the numbers per database
// ("block", "identity"), for the empty and shrink guards.
var Mark = &outfs.Mark{Kind: "Live Caller ID Lookup export", Manifest: ManifestName, Read: readMark}

func init() { outfs.Register(Mark) }

func readMark(r io.Reader) (*outfs.Contents, error) {
	m, err := ReadManifest(r)
	if err != nil {
		return nil, err
	}
	return &outfs.Contents{Files: m.Files(), Counts: m.Counts(), Value: m}, nil
}

// Counts is the numbers each database of the export holds, by kind.
func (m *Manifest) Counts() map[string]int64 {
	c := map[string]int64{}
	for _, d := range m.Databases {
		c[d.Kind] += d.Numbers
	}
	return c
}
