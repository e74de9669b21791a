package e164

import (
	"errors"
	"regexp/syntax"
	"sync"
)

// The fast path evaluates phonenumbers' metadata patterns on strings of ASCII
// digits without package regexp (whose submatch API allocates), with two
// engines built from the very program regexp runs, syntax.Compile of the
// simplified syntax.Parse(expr, syntax.Perl):
//
//   - digitDFA answers membership questions, where regexp's leftmost-first
//     preference cannot matter: "does the whole string match" (the
//     "^(?:…)$" national number patterns, MatchString) and "does some prefix
//     match" (the "^(?:…)" leading-digits patterns, MatchString). It is the
//     subset construction of the program over the alphabet 0-9, with the
//     zero-width assertions evaluated in their context (start, middle or end
//     of the input; a digit is a word character).
//   - btProg is a copy of regexp's backtracker (regexp/backtrack.go: the
//     same job stack, visit order and visited set), run anchored at the
//     start, for the questions where the preference matters: where a
//     match ends and what its groups capture (FindSubmatchIndex of the
//     national prefix rule, FindStringIndex of the international prefix).
//   - prefixTrie holds the backtracker's answers to those questions for the
//     leading digits that decide them, found by running the backtracker on
//     every start of an input until what follows no longer matters: a
//     lookup is a few array steps where a run is hundreds of instructions.
//     Past its size bound it answers "unknown", and the backtracker runs.

// errUnsupported marks a pattern the engines do not handle; every number
// that would need it falls back to Normalize.
var errUnsupported = errors.New("e164: pattern not supported by the fast path")

// compileProg is what regexp.Compile does before it picks a matcher.
func compileProg(expr string) (*syntax.Prog, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return syntax.Compile(re.Simplify())
}

// Empty-width contexts of a digit string: a digit is a word character and
// not a newline, so the context depends only on whether there is a digit
// before and after the position.
var (
	ctxEmpty = syntax.EmptyOpContext(-1, -1)
	ctxBegin = syntax.EmptyOpContext(-1, '0')
	ctxMid   = syntax.EmptyOpContext('0', '0')
	ctxEnd   = syntax.EmptyOpContext('0', -1)
)

// digitDFA is a deterministic automaton over the digits 0-9. State 0 is the
// start (position 0 of the input), state 1 the dead state.
//
// It is one flat array of dfaStride entries a state, indexed by the
// state's offset (its number times dfaStride): the offsets of the next
// states by digit, then the acceptance bits: accMore when the program
// reaches Match at this state with more input to follow, accEnd when it
// does at the end of the input.
type digitDFA struct {
	t []uint32
}

const (
	accMore = 1
	accEnd  = 2

	dfaStride = 11
	dfaAcc    = 10 // the acceptance bits' index within a state
	dfaDead   = 1 * dfaStride
	// maxDFAStates bounds one automaton; a pattern that needs more is left
	// to Normalize.
	maxDFAStates = 1 << 15
)

// compileDigitDFA builds the automaton of expr.
func compileDigitDFA(expr string) (*digitDFA, error) {
	prog, err := compileProg(expr)
	if err != nil {
		return nil, err
	}
	for i := range prog.Inst {
		switch prog.Inst[i].Op {
		case syntax.InstAlt, syntax.InstAltMatch, syntax.InstCapture, syntax.InstEmptyWidth,
			syntax.InstMatch, syntax.InstFail, syntax.InstNop,
			syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		default:
			return nil, errUnsupported
		}
	}
	b := dfaBuilder{prog: prog, mark: make([]uint32, len(prog.Inst)), index: map[string]int32{}}
	d := &digitDFA{}
	// A state is the set of instructions reached right after a digit (its
	// kernel); the closure is taken when the next position's context is
	// known. The start state is never shared with a kernel.
	kernels := [][]uint32{{uint32(prog.Start)}, {}}
	b.index[""] = 1 // the dead state
	for s := 0; s < len(kernels); s++ {
		ctxMore, ctxLast := ctxMid, ctxEnd
		if s == 0 {
			ctxMore, ctxLast = ctxBegin, ctxEmpty
		}
		var acc uint8
		if _, m := b.closure(kernels[s], ctxLast); m {
			acc |= accEnd
		}
		consumers, m := b.closure(kernels[s], ctxMore)
		if m {
			acc |= accMore
		}
		for digit := range 10 {
			r := rune('0' + digit)
			var k []uint32
			for _, pc := range consumers {
				in := &prog.Inst[pc]
				ok := false
				switch in.Op {
				case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
					ok = true
				default:
					ok = in.MatchRune(r)
				}
				if ok {
					k = append(k, in.Out)
				}
			}
			k = sortUnique(k)
			key := kernelKey(k)
			t, ok := b.index[key]
			if !ok {
				if len(kernels) >= maxDFAStates {
					return nil, errUnsupported
				}
				t = int32(len(kernels))
				b.index[key] = t
				kernels = append(kernels, k)
			}
			d.t = append(d.t, uint32(t)*dfaStride)
		}
		d.t = append(d.t, uint32(acc))
	}
	return d, nil
}

type dfaBuilder struct {
	prog  *syntax.Prog
	mark  []uint32
	gen   uint32
	stack []uint32
	index map[string]int32
}

// closure follows the empty transitions from kernel under the empty-width
// context ctx and returns the instructions that consume a rune, and
// whether Match is reached.
func (b *dfaBuilder) closure(kernel []uint32, ctx syntax.EmptyOp) (consumers []uint32, match bool) {
	b.gen++
	b.stack = append(b.stack[:0], kernel...)
	for len(b.stack) > 0 {
		pc := b.stack[len(b.stack)-1]
		b.stack = b.stack[:len(b.stack)-1]
		if b.mark[pc] == b.gen {
			continue
		}
		b.mark[pc] = b.gen
		in := &b.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			b.stack = append(b.stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			b.stack = append(b.stack, in.Out)
		case syntax.InstEmptyWidth:
			if op := syntax.EmptyOp(in.Arg); ctx&op == op {
				b.stack = append(b.stack, in.Out)
			}
		case syntax.InstMatch:
			match = true
		case syntax.InstFail:
		default:
			consumers = append(consumers, pc)
		}
	}
	return consumers, match
}

func sortUnique(k []uint32) []uint32 {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j-1] > k[j]; j-- {
			k[j-1], k[j] = k[j], k[j-1]
		}
	}
	out := k[:0]
	for i, v := range k {
		if i == 0 || v != k[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func kernelKey(k []uint32) string {
	b := make([]byte, 0, 4*len(k))
	for _, v := range k {
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	return string(b)
}

// full reports whether the whole of digits is in the language
// (regexp.MatchString of "^(?:p)$").
func (d *digitDFA) full(digits []byte) bool {
	t := d.t
	s := uint32(0)
	for _, c := range digits {
		s = t[s+uint32(c-'0')]
		if s == dfaDead {
			return false
		}
	}
	return t[s+dfaAcc]&accEnd != 0
}

// deadAfter reports that no prefix of any input that starts with p and
// goes on is in the language: prefix is false for all of them.
func (d *digitDFA) deadAfter(p []byte) bool {
	t := d.t
	s := uint32(0)
	for _, c := range p {
		if t[s+dfaAcc]&accMore != 0 {
			return false
		}
		s = t[s+uint32(c-'0')]
		if s == dfaDead {
			return true
		}
	}
	return false
}

// prefix reports whether some prefix of digits, the empty one included, is
// in the language (regexp.MatchString of "^(?:p)").
func (d *digitDFA) prefix(digits []byte) bool {
	t := d.t
	s := uint32(0)
	for _, c := range digits {
		if t[s+dfaAcc]&accMore != 0 {
			return true
		}
		s = t[s+uint32(c-'0')]
		if s == dfaDead {
			return false
		}
	}
	return t[s+dfaAcc]&accEnd != 0
}

// btProg is a program for the anchored backtracker.
type btProg struct {
	prog *syntax.Prog
	ncap int
}

func compileBT(expr string) (*btProg, error) {
	prog, err := compileProg(expr)
	if err != nil {
		return nil, err
	}
	if prog.StartCond()&syntax.EmptyBeginText == 0 {
		return nil, errUnsupported // only anchored patterns are run this way
	}
	for i := range prog.Inst {
		switch prog.Inst[i].Op {
		case syntax.InstAlt, syntax.InstCapture, syntax.InstEmptyWidth, syntax.InstMatch,
			syntax.InstFail, syntax.InstNop, syntax.InstRune, syntax.InstRune1,
			syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		default:
			return nil, errUnsupported // InstAltMatch: only for (?s).* patterns
		}
	}
	ncap := prog.NumCap
	if ncap < 2 {
		ncap = 2
	}
	return &btProg{prog: prog, ncap: ncap}, nil
}

type btJob struct {
	pc  uint32
	arg bool
	pos int
}

// btState is the backtracker's scratch space, pooled.
type btState struct {
	end      int
	cap      []int
	matchcap []int
	jobs     []btJob
	visited  []uint32
}

var btPool = sync.Pool{New: func() any { return new(btState) }}

func (b *btState) reset(p *btProg, end int) {
	b.end = end
	b.jobs = b.jobs[:0]
	n := (len(p.prog.Inst)*(end+1) + 31) / 32
	if cap(b.visited) < n {
		b.visited = make([]uint32, n)
	} else {
		b.visited = b.visited[:n]
		clear(b.visited)
	}
	if cap(b.cap) < p.ncap {
		b.cap = make([]int, p.ncap)
		b.matchcap = make([]int, p.ncap)
	}
	b.cap = b.cap[:p.ncap]
	b.matchcap = b.matchcap[:p.ncap]
	for i := range b.cap {
		b.cap[i] = -1
		b.matchcap[i] = -1
	}
}

func (b *btState) shouldVisit(pc uint32, pos int) bool {
	n := uint(int(pc)*(b.end+1) + pos)
	if b.visited[n/32]&(1<<(n&31)) != 0 {
		return false
	}
	b.visited[n/32] |= 1 << (n & 31)
	return true
}

func (b *btState) push(p *btProg, pc uint32, pos int, arg bool) {
	if p.prog.Inst[pc].Op != syntax.InstFail && (arg || b.shouldVisit(pc, pos)) {
		b.jobs = append(b.jobs, btJob{pc: pc, arg: arg, pos: pos})
	}
}

// context is the empty-width context at pos of in.
func context(in []byte, pos int) syntax.EmptyOp {
	r1, r2 := rune(-1), rune(-1)
	if pos > 0 {
		r1 = rune(in[pos-1])
	}
	if pos < len(in) {
		r2 = rune(in[pos])
	}
	return syntax.EmptyOpContext(r1, r2)
}

// match runs the program anchored at the start of in (ASCII) and, on a
// match, leaves the capture positions of regexp's leftmost-first match in
// b.matchcap (regexp.FindSubmatchIndex).
func (p *btProg) match(b *btState, in []byte) bool {
	m, _ := p.run(b, in, false)
	return m
}

// run is match; with partial, in is only the start of the input, and
// open is true when the outcome depends on what follows it: the first
// thread, in the backtracker's order, to need a byte past in (or the
// context at its end) stops the run. A run that is not open took the
// very steps it takes on every input that starts with in.
func (p *btProg) run(b *btState, in []byte, partial bool) (matched, open bool) {
	b.reset(p, len(in))
	b.cap[0] = 0
	b.push(p, uint32(p.prog.Start), 0, false)
	for len(b.jobs) > 0 {
		l := len(b.jobs) - 1
		pc, pos, arg := b.jobs[l].pc, b.jobs[l].pos, b.jobs[l].arg
		b.jobs = b.jobs[:l]
		goto skip
	checkAndLoop:
		if !b.shouldVisit(pc, pos) {
			continue
		}
	skip:
		inst := &p.prog.Inst[pc]
		switch inst.Op {
		case syntax.InstAlt:
			if arg {
				arg = false
				pc = inst.Arg
				goto checkAndLoop
			}
			b.push(p, pc, pos, true)
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstRune, syntax.InstRune1:
			if partial && pos >= len(in) {
				return false, true
			}
			if pos >= len(in) || !inst.MatchRune(rune(in[pos])) {
				continue
			}
			pos++
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstRuneAnyNotNL:
			if partial && pos >= len(in) {
				return false, true
			}
			if pos >= len(in) || in[pos] == '\n' {
				continue
			}
			pos++
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstRuneAny:
			if partial && pos >= len(in) {
				return false, true
			}
			if pos >= len(in) {
				continue
			}
			pos++
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstCapture:
			if arg {
				b.cap[inst.Arg] = pos
				continue
			}
			if inst.Arg < uint32(len(b.cap)) {
				b.push(p, pc, b.cap[inst.Arg], true)
				b.cap[inst.Arg] = pos
			}
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(inst.Arg)
			if partial && pos == len(in) {
				// The input ends here or goes on with a digit.
				r1 := rune(-1)
				if pos > 0 {
					r1 = rune(in[pos-1])
				}
				end := syntax.EmptyOpContext(r1, -1)&op == op
				if more := syntax.EmptyOpContext(r1, '0')&op == op; end != more {
					return false, true
				}
			}
			if context(in, pos)&op != op {
				continue
			}
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstNop:
			pc = inst.Out
			goto checkAndLoop
		case syntax.InstMatch:
			b.cap[1] = pos
			copy(b.matchcap, b.cap)
			return true, false
		default: // InstFail is never pushed; compileBT rejects the rest
			continue
		}
	}
	return false, false
}
