package plan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calldir/calldir/shard"
)

// PlanHeader opens every plan file.
const PlanHeader = "calldir-plan 1"

// Corruptible are the b-trees of CallDirectory.db a corrupt step may
// damage.
var Corruptible = []string{"SchemaVersion", "Extension", "PhoneNumber", "Label", "PhoneNumberBlockingEntry", "PhoneNumberIdentificationEntry", "idx_PhoneNumberIdentificationEntry_FK_Label"}

// Plan is a replayable sequence of reloads, maintenance and faults. Its text
// form (docs/VERIFIER.md) is line-oriented so that plans diff well.
type Plan struct {
	Seed       uint64
	Settings   Settings
	Extensions []ExtDef
	Kill       *KillFault  // the writer process is killed before SQL statement Kill.At
	Power      *PowerFault // power loss or a full disk through the crash VFS (powerfault.go)
	Steps      []Step
	Dir        string // directory that relative shard paths are resolved against
}

// ExtDef declares an extension.
type ExtDef struct {
	Name   string
	Bundle string
}

// KillFault kills the writer before statement At (0-based, counting every
// SQL statement the driver issues) and optionally deletes the hot journal or
// WAL before the database is reopened.
type KillFault struct {
	At   int64
	Then string // "", "delete-journal" or "delete-wal"
}

// StepKind is what a step does.
type StepKind string

const (
	StepLoad        StepKind = "load"             // one reload request
	StepMaintenance StepKind = "maintenance"      // state-2 cleanup, orphans, VACUUM
	StepDisable     StepKind = "disable"          // the Settings switch off: state 2
	StepRemoveExt   StepKind = "remove-extension" // DELETE FROM Extension
	StepPrepare     StepKind = "prepare"          // reset extensions stuck in state 3 to 4
	StepDiskFull    StepKind = "disk-full"        // PRAGMA max_page_count
	StepBusy        StepKind = "busy"             // a second writer holds the lock during the next step
	StepReader      StepKind = "reader"           // a reader holds a read transaction during the next step
	StepWriter      StepKind = "writer"           // a second writer process loads its own extension during the next step
	StepCheck       StepKind = "check"            // full integrity_check and foreign_key_check now
	StepExpect      StepKind = "expect-build"     // every extension's rows must equal a build's
	StepUnavailable StepKind = "unavailable"      // state 5: loads get error 102 [inferred trigger]
	StepReopen      StepKind = "reopen"           // the daemon's open path: schema-version probe, recovery on SQLITE_CORRUPT
	StepCorrupt     StepKind = "corrupt"          // another process damages a table's root page
)

// Step is one line (or block) of a plan.
type Step struct {
	Kind        StepKind
	Line        int // line in the plan file, for messages
	Ext         string
	Incremental bool
	FailAfter   int // extension crashes after this many flushes; -1 never
	Ops         []Op
	Pages       int           // disk-full: max_page_count (0 = off)
	Extra       int           // disk-full: max_page_count = current page_count + Extra
	Hold        time.Duration // busy, reader: how long the lock is held
	Count       int           // writer: entries the second writer loads
	Path        string        // expect-build: the build directory
	Table       string        // corrupt: the table or index whose root page is damaged
	Tag         string        // where the step came from ("delta 3", "maintenance after delta 7"); not in the text form
}

// OpKind is what an op does within a load.
type OpKind string

const (
	OpBlock             OpKind = "block"
	OpIdentify          OpKind = "identify"
	OpRemoveBlock       OpKind = "remove-block"
	OpRemoveIdentify    OpKind = "remove-identify"
	OpRemoveAll         OpKind = "remove-all" // removeAllBlockingEntries and removeAllIdentificationEntries
	OpRemoveAllBlock    OpKind = "remove-all-block"
	OpRemoveAllIdentify OpKind = "remove-all-identify"
)

// Op adds or removes entries from a source.
type Op struct {
	Kind   OpKind
	Source Source
	Label  string // identify from a range or numbers
}

// Source is where an op's numbers come from: exactly one of the forms.
type Source struct {
	Numbers []int64
	First   int64 // range
	Last    int64
	Step    int64
	Shard   string // shard file path
	// Root is the directory Shard must stay inside: it is opened through
	// an os.Root of Root (shard.OpenIn), so a ".." or a symlink leading
	// out is refused. A plan file's shards stay inside the plan's
	// directory, a build's or delta's inside that directory. Empty for a
	// shard named on the command line, opened as given.
	Root string
}

// Count is how many numbers a range or list yields (-1 for a shard).
func (s Source) Count() int64 {
	switch {
	case s.Shard != "":
		return -1
	case s.Step > 0:
		return (s.Last-s.First)/s.Step + 1
	}
	return int64(len(s.Numbers))
}

// Plan-file limits: a hostile plan cannot make the parser allocate or loop
// without bound.
const (
	MaxLine        = 1 << 20 // bytes per plan line
	maxPlanLines   = 1_000_000
	maxPlanEntries = 500_000_000 // numbers over all ranges
	maxExtensions  = 64
)

// PlanError is a plan-file error with its line.
type PlanError struct {
	File string
	Line int
	Msg  string
}

func (e *PlanError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParsePlan reads a plan. name is used in messages and dir resolves
// relative shard paths.
func Parse(r io.Reader, name, dir string) (*Plan, error) {
	ps := &planParser{p: &Plan{Settings: DefaultSettings(), Dir: dir}, name: name, dir: dir, exts: map[string]bool{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		ps.ln++
		if err != nil {
			return nil, ps.fail("%v", err)
		}
		if ps.ln > maxPlanLines {
			return nil, ps.fail("more than %d lines", maxPlanLines)
		}
		f, err := fields(line)
		if err != nil {
			return nil, ps.fail("%v", err)
		}
		if err := ps.line(f); err != nil {
			return nil, err
		}
	}
	if !ps.sawHeader {
		return nil, &PlanError{File: name, Line: 1, Msg: "empty plan (the first line must be " + strconv.Quote(PlanHeader) + ")"}
	}
	if ps.cur != nil {
		return nil, &PlanError{File: name, Line: ps.cur.Line, Msg: "load block without end"}
	}
	return ps.p, nil
}

// planParser is ParsePlan's state between lines.
type planParser struct {
	p         *Plan
	name, dir string
	ln        int
	cur       *Step // open load block
	total     int64 // numbers over all ranges
	exts      map[string]bool
	sawHeader bool
}

func (ps *planParser) fail(format string, a ...any) error {
	return &PlanError{File: ps.name, Line: ps.ln, Msg: fmt.Sprintf(format, a...)}
}

// line reads one line's words: the header, an op of the open load block,
// or a directive.
func (ps *planParser) line(f []string) error {
	switch {
	case len(f) == 0:
		return nil
	case !ps.sawHeader:
		if strings.Join(f, " ") != PlanHeader {
			return ps.fail("not a calldir plan: the first line must be %q", PlanHeader)
		}
		ps.sawHeader = true
		return nil
	case ps.cur == nil:
		return ps.directive(f)
	case f[0] == "end":
		if len(f) != 1 {
			return ps.fail("end takes nothing")
		}
		ps.p.Steps = append(ps.p.Steps, *ps.cur)
		ps.cur = nil
		return nil
	}
	op, err := parseOp(f, ps.dir)
	if err != nil {
		return ps.fail("%v", err)
	}
	if c := op.Source.Count(); c > 0 {
		ps.total += c
		if ps.total > maxPlanEntries {
			return ps.fail("more than %d numbers in the plan", maxPlanEntries)
		}
	}
	ps.cur.Ops = append(ps.cur.Ops, op)
	return nil
}

// directive reads a line outside a load block: the plan's header
// directives here, the steps in step.
func (ps *planParser) directive(f []string) error {
	p, fail, exts := ps.p, ps.fail, ps.exts
	kv, args := options(f[1:])
	var err error
	switch f[0] {
	case "seed":
		if len(args) != 1 || len(kv) > 0 {
			return fail("seed takes one number")
		}
		if p.Seed, err = strconv.ParseUint(args[0], 10, 64); err != nil {
			return fail("seed %q: %v", args[0], err)
		}
	case "set":
		if len(args) > 0 || len(kv) == 0 {
			return fail("set takes KEY=VALUE pairs")
		}
		for _, k := range sortedKeys(kv) {
			if err := p.Settings.Set(k, kv[k]); err != nil {
				return fail("%v", err)
			}
		}
	case "extension":
		if len(args) != 2 || len(kv) > 0 {
			return fail("extension takes NAME BUNDLE_ID")
		}
		if exts[args[0]] {
			return fail("extension %q declared twice", args[0])
		}
		if len(p.Extensions) >= maxExtensions {
			return fail("more than %d extensions", maxExtensions)
		}
		exts[args[0]] = true
		p.Extensions = append(p.Extensions, ExtDef{Name: args[0], Bundle: args[1]})
	case "fault":
		if len(args) == 1 && (args[0] == "power-loss" || args[0] == "disk-full") {
			if p.Kill != nil || p.Power != nil {
				return fail("only one fault per plan")
			}
			if p.Power, err = parsePowerFault(args[0], kv); err != nil {
				return fail("%v", err)
			}
			return nil
		}
		if len(args) != 1 || args[0] != "kill" {
			return fail(powerFaultUsage)
		}
		if p.Kill != nil || p.Power != nil {
			return fail("only one kill fault per plan, and no other fault with it")
		}
		k := &KillFault{}
		at, ok := kv["at"]
		if !ok {
			return fail("fault kill needs at=K")
		}
		if k.At, err = strconv.ParseInt(at, 10, 64); err != nil || k.At < 0 {
			return fail("fault kill at=%q: want a statement index, 0 or more", at)
		}
		switch k.Then = kv["then"]; k.Then {
		case "", "delete-journal", "delete-wal":
		default:
			return fail("fault kill then=%q: want delete-journal or delete-wal", k.Then)
		}
		if extra := unknownKeys(kv, "at", "then"); extra != "" {
			return fail("fault kill: unknown option %s", extra)
		}
		p.Kill = k
	default:
		return ps.step(f, kv, args)
	}
	return nil
}

// step reads a directive that is a step of the plan.
func (ps *planParser) step(f []string, kv map[string]string, args []string) error {
	p, fail, exts, dir := ps.p, ps.fail, ps.exts, ps.dir
	var err error
	needExt := func() (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("%s takes one extension name", f[0])
		}
		if !exts[args[0]] {
			return "", fmt.Errorf("unknown extension %q (declare it with: extension NAME BUNDLE_ID)", args[0])
		}
		return args[0], nil
	}
	st := Step{Kind: StepKind(f[0]), Line: ps.ln, FailAfter: -1}
	switch f[0] {
	case "load":
		return ps.load(kv, args, st)
	case "maintenance", "prepare", "check", "reopen":
		if len(f) != 1 {
			return fail("%s takes nothing", f[0])
		}
		p.Steps = append(p.Steps, st)
	case "expect-build":
		if len(args) != 1 || len(kv) > 0 {
			return fail("expect-build takes one build DIR")
		}
		st.Path = args[0]
		if !filepath.IsAbs(st.Path) {
			st.Path = filepath.Join(dir, st.Path)
		}
		p.Steps = append(p.Steps, st)
	case "disable", "remove-extension", "unavailable":
		if st.Ext, err = needExt(); err != nil {
			return fail("%v", err)
		}
		p.Steps = append(p.Steps, st)
	case "disk-full":
		key := "pages"
		if _, ok := kv["extra"]; ok {
			key = "extra"
		}
		n, err := strconv.Atoi(kv[key])
		if len(kv) != 1 || err != nil || n < 0 || n > 1<<30 || len(args) > 0 {
			return fail("disk-full takes pages=N (a max_page_count; 0 lifts the limit) or extra=N (pages of room left)")
		}
		if key == "pages" {
			st.Pages = n
		} else {
			st.Extra = n
		}
		p.Steps = append(p.Steps, st)
	case "busy", "reader":
		d, err := time.ParseDuration(kv["hold"])
		if err != nil || d <= 0 || d > 10*time.Minute || len(args) > 0 {
			return fail("%s takes hold=DURATION (such as 500ms), at most 10m", f[0])
		}
		st.Hold = d
		p.Steps = append(p.Steps, st)
	case "corrupt":
		st.Table = kv["table"]
		if len(kv) != 1 || len(args) > 0 || !slices.Contains(Corruptible, st.Table) {
			return fail("corrupt takes table=NAME, one of %s", strings.Join(Corruptible, ", "))
		}
		p.Steps = append(p.Steps, st)
	case "writer":
		n, err := strconv.Atoi(kv["count"])
		if err != nil || n < 1 || n > shard.MaxEntriesPerRequest || len(args) > 0 {
			return fail("writer takes count=N (1..%d)", shard.MaxEntriesPerRequest)
		}
		st.Count = n
		p.Steps = append(p.Steps, st)
	default:
		return fail("unknown directive %q", f[0])
	}
	return nil
}

// load opens a load block: NAME complete|incremental [fail-after=N].
func (ps *planParser) load(kv map[string]string, args []string, st Step) error {
	fail, exts := ps.fail, ps.exts
	if len(args) != 2 || (args[1] != "complete" && args[1] != "incremental") {
		return fail("load takes NAME complete|incremental [fail-after=N]")
	}
	if !exts[args[0]] {
		return fail("unknown extension %q (declare it with: extension NAME BUNDLE_ID)", args[0])
	}
	st.Ext = args[0]
	st.Incremental = args[1] == "incremental"
	if v, ok := kv["fail-after"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fail("fail-after=%q: want a flush count, 0 or more", v)
		}
		st.FailAfter = n
	}
	if extra := unknownKeys(kv, "fail-after"); extra != "" {
		return fail("load: unknown option %s", extra)
	}
	ps.cur = &st
	return nil
}

func parseOp(f []string, dir string) (Op, error) {
	op := Op{Kind: OpKind(f[0])}
	switch op.Kind {
	case OpBlock, OpIdentify, OpRemoveBlock, OpRemoveIdentify:
	case OpRemoveAll, OpRemoveAllBlock, OpRemoveAllIdentify:
		if len(f) != 1 {
			return op, fmt.Errorf("%s takes nothing", op.Kind)
		}
		return op, nil
	default:
		return op, fmt.Errorf("unknown op %q in a load block (want block, identify, remove-block, remove-identify, remove-all, remove-all-block, remove-all-identify or end)", f[0])
	}
	kv, args := options(f[1:])
	if len(args) == 0 {
		return op, fmt.Errorf("%s needs a source: range FIRST LAST [step=N], numbers N..., or shard PATH", op.Kind)
	}
	l, hasLabel := kv["label"]
	if hasLabel {
		if op.Kind != OpIdentify {
			return op, fmt.Errorf("label= only applies to identify")
		}
		// An empty label, or one of 65,535 bytes or more, is accepted:
		// CallKit drops such entries silently, and the plan tests that.
		if err := shard.CheckLabel(l); err != nil && len(l) != 0 && len(l)+1 <= 0xFFFF {
			return op, err
		}
		op.Label = l
	}
	src, err := parseSource(args, kv, dir)
	if err != nil {
		return op, err
	}
	op.Source = src
	if op.Kind == OpIdentify && op.Source.Shard == "" && !hasLabel {
		return op, errors.New(`identify from a range or numbers needs label="…"`)
	}
	if extra := unknownKeys(kv, "label", "step"); extra != "" {
		return op, fmt.Errorf("unknown option %s", extra)
	}
	return op, nil
}

// parseSource reads an op's source: range FIRST LAST [step=N], numbers
// N..., or shard PATH (inside dir).
func parseSource(args []string, kv map[string]string, dir string) (Source, error) {
	var src Source
	switch args[0] {
	case "range":
		if len(args) != 3 {
			return src, errors.New("range takes FIRST LAST [step=N]")
		}
		first, err1 := parseNumber(args[1])
		last, err2 := parseNumber(args[2])
		if err := errors.Join(err1, err2); err != nil {
			return src, err
		}
		step := int64(1)
		if v, ok := kv["step"]; ok {
			s, err := strconv.ParseInt(v, 10, 64)
			if err != nil || s < 1 {
				return src, fmt.Errorf("step=%q: want 1 or more", v)
			}
			step = s
		}
		if last < first {
			return src, fmt.Errorf("range %d..%d: last below first", first, last)
		}
		src = Source{First: first, Last: last, Step: step}
	case "numbers":
		if len(args) < 2 {
			return src, errors.New("numbers takes one or more numbers")
		}
		for _, a := range args[1:] {
			n, err := parseNumber(a)
			if err != nil {
				return src, err
			}
			src.Numbers = append(src.Numbers, n)
		}
	case "shard":
		if len(args) != 2 {
			return src, errors.New("shard takes one PATH")
		}
		path, root := args[1], dir
		if root == "" {
			root = "."
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		// A plan reads shards inside its own directory only: a plan from
		// elsewhere must not make replay read "../../etc/shadow". The
		// lexical check gives the line; the os.Root at open time refuses
		// symlinks leading out as well.
		if rel, err := filepath.Rel(root, path); err != nil || !filepath.IsLocal(rel) {
			return src, fmt.Errorf("shard %q: refused: the path leads outside the plan's directory %s (a plan reads shards inside its directory only)", args[1], root)
		}
		src.Shard, src.Root = path, root
	default:
		return src, fmt.Errorf("unknown source %q (want range, numbers or shard)", args[0])
	}
	return src, nil
}

// parseNumber reads a CallKit number, with or without '+'. It accepts 0 and
// numbers out of CallKit's range on purpose: plans test what CallKit does
// with them (error 4 for 0).
func parseNumber(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: want E.164 digits (an Int64)", s)
	}
	return n, nil
}
