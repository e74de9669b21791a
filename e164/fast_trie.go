package e164

import "strconv"

// prefixTrie is a backtracker program's outcome on digit strings, as a
// decision tree over the leading digits: a node has an entry for each
// digit and one for the end of the input, either the next node or the
// outcome, the same for every input that goes that way. It is built by
// running the backtracker itself on every start of an input up to the
// point where the outcome no longer depends on what follows (btProg.run
// with partial), breadth first, so it is the backtracker's answer by
// construction; a lookup is a few steps where a run is hundreds. Past
// maxTrieNodes nodes the remaining entries are "unknown", and a lookup
// that reaches one runs the backtracker.
type prefixTrie struct {
	// next has trieStride entries a node, by offset: ≥ 0 the next node's
	// offset, < 0 the outcome ^i, res[i].
	next []int32
	res  []trieResult
}

// trieResult is the outcome of one match: whether it matched, and then
// the capture positions (FindSubmatchIndex); or unknown.
type trieResult struct {
	unknown bool
	ok      bool
	cap     []int
}

const (
	trieStride = 11
	trieEnd    = 10 // the end of input's entry within a node
	// maxTrieNodes bounds one trie: the outcomes that depend on many
	// digits ("([2-9]\d{6})$") stay the backtracker's.
	maxTrieNodes = 256
)

// lookup is the outcome of the program on x.
func (t *prefixTrie) lookup(x []byte) *trieResult {
	next := t.next
	n := int32(0)
	for i := 0; ; i++ {
		var e int32
		if i < len(x) {
			e = next[n+int32(x[i]-'0')]
		} else {
			e = next[n+trieEnd]
		}
		if e < 0 {
			return &t.res[^e]
		}
		n = e
	}
}

// after is the outcome of the program on every input that starts with
// p and goes on, or nil when that is not one outcome (or t is nil).
func (t *prefixTrie) after(p []byte) *trieResult {
	if t == nil {
		return nil
	}
	n := int32(0)
	for _, c := range p {
		e := t.next[n+int32(c-'0')]
		if e < 0 {
			if r := &t.res[^e]; !r.unknown {
				return r
			}
			return nil
		}
		n = e
	}
	return nil
}

// buildPrefixTrie builds p's trie.
func buildPrefixTrie(p *btProg) *prefixTrie {
	t := &prefixTrie{res: []trieResult{{unknown: true}}}
	const unknown = ^int32(0)
	b := new(btState)
	index := map[string]int32{}
	var key []byte
	outcome := func(ok bool) int32 {
		key = key[:0]
		if ok {
			key = append(key, 1)
			for _, c := range b.matchcap {
				key = strconv.AppendInt(key, int64(c), 10)
				key = append(key, ',')
			}
		}
		if i, ok := index[string(key)]; ok {
			return ^i
		}
		r := trieResult{ok: ok}
		if ok {
			r.cap = append([]int(nil), b.matchcap...)
		}
		i := int32(len(t.res))
		t.res = append(t.res, r)
		index[string(key)] = i
		return ^i
	}
	// The open starts of inputs, breadth first: each becomes a node, whose
	// entry slot is at (-1 for the root).
	type open struct {
		in [maxFastDigits]byte
		n  int
		at int
	}
	queue := []open{{at: -1}}
	for q := 0; q < len(queue); q++ {
		o := queue[q]
		if len(t.next)/trieStride >= maxTrieNodes || o.n >= maxFastDigits {
			t.next[o.at] = unknown
			continue
		}
		node := int32(len(t.next))
		t.next = append(t.next, make([]int32, trieStride)...)
		if o.at >= 0 {
			t.next[o.at] = node
		}
		m, _ := p.run(b, o.in[:o.n], false)
		t.next[node+trieEnd] = outcome(m)
		for c := range 10 {
			next := o
			next.in[o.n] = byte('0' + c)
			next.n++
			next.at = int(node) + c
			if m, isOpen := p.run(b, next.in[:next.n], true); !isOpen {
				t.next[node+int32(c)] = outcome(m)
			} else {
				queue = append(queue, next)
			}
		}
	}
	return t
}
