package verifier

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/calldir/calldir/shard/outfs"
)

// ChildEnv marks a process started as a verifier child: a writer to be
// killed, or a second process that holds a lock or writes at the same time.
// The calldir binary's main and the tests' TestMain check IsChild first
// thing and run RunChild.
const ChildEnv = "CALLDIR_VERIFIER_CHILD"

// job is what a child is asked to do, as JSON on its stdin.
type job struct {
	Role   string        `json:"role"` // kill-writer, busy, reader, writer
	DB     string        `json:"db"`
	Plan   string        `json:"plan"` // plan text (kill-writer), or settings and seed
	Dir    string        `json:"dir"`
	KillAt int64         `json:"kill_at"`
	Hold   time.Duration `json:"hold"`
	Count  int           `json:"count"`
}

// IsChild reports whether this process was started as a verifier child
// (ChildEnv is set): main then calls RunChild instead of the CLI.
func IsChild() bool { return os.Getenv(ChildEnv) == "1" }

// RunChild runs the job a parent wrote as JSON to in, and reports to it on
// out: "ready" once a lock is held or a writer started, "done N" after a
// kill-writer's plan, and "error: …" as the last line when the job fails,
// which it also returns (the process then exits non-zero; the parent reads
// the line, not the status).
func RunChild(ctx context.Context, in io.Reader, out io.Writer) error {
	var j job
	err := json.NewDecoder(in).Decode(&j)
	if err != nil {
		err = fmt.Errorf("verifier child: bad job: %w", err)
	} else {
		err = runChild(ctx, j, out)
	}
	if err != nil {
		fmt.Fprintln(out, "error:", err)
	}
	return err
}

func runChild(ctx context.Context, j job, out io.Writer) error {
	p, err := ParsePlan(strings.NewReader(j.Plan), "child plan", j.Dir)
	if err != nil {
		return err
	}
	switch j.Role {
	case "kill-writer":
		return killWriter(ctx, j, p, out)
	case "busy", "reader":
		return holdLock(ctx, j, p, out)
	case "writer":
		return secondWriter(ctx, j, p, out)
	}
	return fmt.Errorf("unknown role %q", j.Role)
}

// killWriter runs the plan's steps and SIGKILLs itself before statement
// j.KillAt.
func killWriter(ctx context.Context, j job, p *Plan, out io.Writer) error {
	d, err := newDriver(ctx, j.DB, p.Settings, p.Extensions)
	if err != nil {
		return err
	}
	defer d.Close()
	d.before = func(i int64) {
		if i == j.KillAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	for _, st := range p.Steps {
		if _, err := runStep(d, st); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "done %d\n", d.n)
	return nil
}

// holdLock takes the write lock (busy) or a read transaction after a
// blocking lookup (reader) and holds it for j.Hold.
func holdLock(ctx context.Context, j job, p *Plan, out io.Writer) error {
	db, conn, err := openDB(ctx, j.DB, p.Settings, false)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	begin := "BEGIN IMMEDIATE" // takes the write lock
	if j.Role == "reader" {
		begin = "BEGIN"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return err
	}
	if j.Role == "reader" { // a lookup takes the shared lock and keeps it
		var b bool
		if err := conn.QueryRowContext(ctx, sqlLookup, 14155550100).Scan(&b); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "ready")
	time.Sleep(j.Hold)
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// secondWriter registers its own extension and loads j.Count entries into
// it while the parent's step runs.
func secondWriter(ctx context.Context, j job, p *Plan, out io.Writer) error {
	bundle := fmt.Sprintf("com.calldir.second-writer.%d", os.Getpid())
	db, conn, err := openDB(ctx, j.DB, p.Settings, false)
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, sqlInsertExtension, bundle)
	conn.Close()
	db.Close()
	if err != nil {
		return err
	}
	d, err := newDriver(ctx, j.DB, p.Settings, []ExtDef{{Name: "second", Bundle: bundle}})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintln(out, "ready")
	base := int64(19_000_000_000) + int64(p.Seed%1000)*1_000_000
	res := d.Load(Step{Kind: StepLoad, Ext: "second", FailAfter: -1, Ops: []Op{{Kind: OpBlock, Source: Source{First: base, Last: base + int64(j.Count) - 1, Step: 1}}}})
	if res.Err != nil {
		return fmt.Errorf("second writer's load: %w", res.Err)
	}
	return nil
}

// child is a running child process.
type child struct {
	cmd  *exec.Cmd
	out  *bufio.Reader
	role string
}

// spawn starts this executable as a verifier child with a job.
func spawn(ctx context.Context, j job) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	b, _ := json.Marshal(j)
	cmd.Stdin = strings.NewReader(string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start verifier child: %w", err)
	}
	return &child{cmd: cmd, out: bufio.NewReader(out), role: j.Role}, nil
}

// startHelper starts the concurrent process a busy, reader or writer step
// asked for and waits until it holds its lock or has started writing.
func startHelper(ctx context.Context, st Step, path string, p *Plan) (*child, error) {
	j := job{Role: string(st.Kind), DB: path, Plan: p.Format(p.Dir), Dir: p.Dir, Hold: st.Hold, Count: st.Count}
	c, err := spawn(ctx, j)
	if err != nil {
		return nil, err
	}
	line, err := c.out.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		rest, _ := io.ReadAll(c.out)
		c.cmd.Wait()
		return nil, fmt.Errorf("%s process did not start: %s%s %v", st.Kind, line, rest, err)
	}
	return c, nil
}

// wait waits for a helper and returns a note on how it ended.
func (c *child) wait() string {
	rest, _ := io.ReadAll(c.out)
	err := c.cmd.Wait()
	msg := strings.TrimSpace(string(rest))
	if err != nil {
		return fmt.Sprintf("%s process: %s", c.role, strings.TrimPrefix(msg, "error: "))
	}
	return ""
}

func (c *child) stop() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// KillReport describes a kill-at-K replay.
type KillReport struct {
	At         int64  `json:"at"`
	Then       string `json:"then,omitempty"`
	Statements int64  `json:"statements"` // statements in the whole plan
	Killed     bool   `json:"killed"`     // false when At is past the last statement
	State      string `json:"state"`      // before, after, between (rows lost), malformed
}

// golden is the commit-point history of a plan run without faults: the
// ledger fingerprint after every commit point, and the run's outcome
// (which a fault never hides).
type golden struct {
	initial string
	points  []int64
	prints  []string
	writes  []int64 // write points done at each commit point (power faults: traceWrites)
	total   int64
	outcome Outcome
}

func goldenRun(ctx context.Context, p *Plan) (*golden, error) {
	dir, remove, err := outfs.ScratchDir("calldir-golden-")
	if err != nil {
		return nil, err
	}
	defer remove()
	g := &golden{}
	q := *p
	q.Kill = nil
	rep, err := replayInProcess(ctx, &q, dir+"/CallDirectory.db", Options{FullCheckRows: 1 << 62}, func(i int64, l *Ledger) {
		g.points = append(g.points, i)
		g.prints = append(g.prints, l.Fingerprint())
	})
	if err != nil {
		return nil, err
	}
	g.total, g.outcome = rep.Statements, rep.Outcome
	g.initial = initialLedger(p).Fingerprint()
	return g, nil
}

// initialLedger is the state of a fresh database: every extension
// registered (ids 1, 2, … in plan order), state 1, no rows.
func initialLedger(p *Plan) *Ledger {
	l := newLedger()
	for i, e := range p.Extensions {
		l.addExt(e.Name, int64(i+1))
	}
	return l
}

// allowed returns the fingerprints a kill before statement k may leave:
// the state of the last commit point before k, and of the first at or
// after it (a kill during a commit may land either side).
func (g *golden) allowed(k int64) (before, after string) {
	before, after = g.initial, ""
	for i, at := range g.points {
		if at < k {
			before = g.prints[i]
			continue
		}
		after = g.prints[i]
		break
	}
	return before, after
}

// replayKill runs the plan in a child writer that is killed before
// statement K, optionally deletes the hot journal or WAL, reopens the
// database and requires integrity and the before-or-after state.
func replayKill(ctx context.Context, p *Plan, path string) (*Report, error) {
	g, err := goldenRun(ctx, p)
	if err != nil {
		return nil, err
	}
	return killCase(ctx, p, g, path)
}

// killCase runs one kill and reports the worse of the fault-free run's
// outcome and the kill check's, naming both: a finding of the plan itself
// (a duplicate, a zero-row extension) is not hidden by the fault.
func killCase(ctx context.Context, p *Plan, g *golden, path string) (*Report, error) {
	k := p.Kill
	if err := createDB(ctx, path, p.Settings, p.Extensions); err != nil {
		return nil, err
	}
	kr := &KillReport{At: k.At, Then: k.Then, Statements: g.total}
	rep := &Report{Settings: p.Settings.Short(), Kill: kr, Statements: g.total}
	killed, err := runKilled(ctx, p, path)
	if err != nil {
		return nil, err
	}
	kr.Killed = killed
	fault := checkKilled(ctx, p, g, path, rep)
	if !kr.Killed {
		fault.Detail = joinDetail(fault.Detail, fmt.Sprintf("kill point %d is past the plan's %d statements", k.At, g.total))
	}
	faultVerdict(rep, g.outcome, fault)
	return rep, nil
}

// runKilled runs the writer child until it kills itself (killed) or ends
// the plan, then deletes the hot journal or WAL when the fault says so.
func runKilled(ctx context.Context, p *Plan, path string) (bool, error) {
	c, err := spawn(ctx, job{Role: "kill-writer", DB: path, Plan: p.Format(p.Dir), Dir: p.Dir, KillAt: p.Kill.At})
	if err != nil {
		return false, err
	}
	out, _ := io.ReadAll(c.out)
	werr := c.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
	case werr != nil:
		return false, fmt.Errorf("writer process: %v: %s", werr, out)
	default:
		return false, nil
	}
	switch p.Kill.Then {
	case "delete-journal":
		outfs.RemoveScratch(path + "-journal")
	case "delete-wal":
		outfs.RemoveScratch(path + "-wal")
		outfs.RemoveScratch(path + "-shm")
	}
	return true, nil
}

// checkKilled reopens the database after the kill and requires integrity
// and the state of the commit point before or after the kill. It fills
// the report's integrity, kill state and reopen row, and returns the
// kill's outcome.
func checkKilled(ctx context.Context, p *Plan, g *golden, path string, rep *Report) Outcome {
	kr := rep.Kill
	db, conn, err := openDB(ctx, path, p.Settings, false)
	if err != nil {
		kr.State, rep.Integrity = "malformed", err.Error()
		return Outcome{Class: ClassIntegrity, Code: SQLiteCode(err), Detail: "reopen: " + err.Error()}
	}
	defer db.Close()
	defer conn.Close()
	rep.Integrity = integrity(ctx, conn)
	if rep.Integrity != "ok" {
		kr.State = "malformed"
		return Outcome{Class: ClassIntegrity, Code: 11, Detail: "after the kill: " + rep.Integrity}
	}
	if mt, err := readMetrics(ctx, conn, path); err == nil {
		rep.Steps = append(rep.Steps, StepReport{Step: "reopen after the kill", Metrics: mt})
	}
	got, nulls, err := dbFingerprint(ctx, conn, initialLedger(p))
	if err != nil {
		kr.State = "malformed"
		if out := outcomeOf(err); out.Class == ClassIntegrity {
			return out
		}
		return Outcome{Class: ClassIntegrity, Code: SQLiteCode(err), Detail: "reading the rows: " + err.Error()}
	}
	before, after := g.allowed(kr.At)
	switch {
	case nulls > 0:
		kr.State = "between"
		return Outcome{Class: ClassRowsLost, Detail: fmt.Sprintf("%d entry rows with NULL references", nulls)}
	case got == before:
		kr.State = "before"
	case got == after:
		kr.State = "after"
	default:
		kr.State = "between"
		out := diffOutcome(got, before)
		out.Detail = "neither the state before nor after the interrupted transaction: " + out.Detail
		return out
	}
	return Outcome{Class: ClassOK}
}
