package channel

import (
	"bytes"
	"io"

	"github.com/calldir/calldir/shard/outfs"
)

// Mark is how calldir recognises a release channel it made: a channel.json
// that decodes as a pointer envelope (its signature needs the key, which
// recognition does not). Registered with shard/outfs, it makes every other
// command refuse to write inside a channel; publish itself proves the rest
// of the directory with inspectChannel.
var Mark = &outfs.Mark{Kind: "release channel", Manifest: PointerName, Read: readMark}

func init() { outfs.Register(Mark) }

func readMark(r io.Reader) (*outfs.Contents, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPointerBytes+1))
	if err != nil {
		return nil, err
	}
	_, payload, err := Decode(data)
	if err != nil {
		return nil, err
	}
	p, err := ReadPointer(bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	c := &outfs.Contents{Value: p}
	for _, b := range p.Builds {
		c.Files = append(c.Files, b.ManifestPath())
	}
	for _, d := range p.Deltas {
		c.Files = append(c.Files, d.ManifestPath())
	}
	return c, nil
}
