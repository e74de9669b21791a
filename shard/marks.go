package shard

import (
	"io"
	"path"

	"github.com/calldir/calldir/shard/outfs"
)

// BuildMark and DeltaMark are how calldir recognises the build and delta
// directories it made (shard/outfs): their manifests, listing every file.
var (
	BuildMark = &outfs.Mark{Kind: "build", Manifest: ManifestName, Read: readBuildMark}
	DeltaMark = &outfs.Mark{Kind: "delta", Manifest: DeltaManifestName, Read: readDeltaMark}
)

func init() {
	outfs.Register(BuildMark)
	outfs.Register(DeltaMark)
}

func readBuildMark(r io.Reader) (*outfs.Contents, error) {
	m, err := ReadManifest(r)
	if err != nil {
		return nil, err
	}
	return &outfs.Contents{Files: m.Files(), Counts: m.Counts(), Value: m}, nil
}

func readDeltaMark(r io.Reader) (*outfs.Contents, error) {
	d, err := ReadDeltaManifest(r)
	if err != nil {
		return nil, err
	}
	c := &outfs.Contents{Value: d}
	for _, x := range d.Extensions {
		for _, r := range x.Requests {
			for _, f := range r.Files {
				c.Files = append(c.Files, path.Clean(f.File))
			}
		}
	}
	return c, nil
}

// Files lists the shard files of the build.
func (m *Manifest) Files() []string {
	files := make([]string, len(m.Shards))
	for i, s := range m.Shards {
		files[i] = s.File
	}
	return files
}

// Counts is the build's entries per kind ("block", "identify"): what the
// empty and shrink guards compare.
func (m *Manifest) Counts() map[string]int64 {
	c := map[string]int64{}
	for _, s := range m.Shards {
		c[s.Kind] += s.Count
	}
	return c
}
