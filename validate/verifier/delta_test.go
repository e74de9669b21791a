package verifier

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calldir/calldir/compiler"
	"github.com/calldir/calldir/shard"
	"github.com/calldir/calldir/validate"
)

// list is a build's content: sorted numbers, and labels for identify.
type list struct {
	kind   shard.Kind
	nums   []int64
	labels []string
}

func (l list) result() *compiler.Result {
	res := &compiler.Result{Kind: l.kind, Numbers: l.nums}
	if l.kind == shard.KindIdentify {
		ids := map[string]uint32{}
		for _, lb := range l.labels {
			id, ok := ids[lb]
			if !ok {
				id = uint32(len(res.Table))
				ids[lb] = id
				res.Table = append(res.Table, lb)
			}
			res.Labels = append(res.Labels, id)
		}
	}
	res.Totals.Entries = int64(len(l.nums))
	return res
}

// mustWriteBuild writes l as a build, on base's boundaries when base is set.
func mustWriteBuild(t testing.TB, dir string, l list, base *shard.Build, per int) *shard.Build {
	t.Helper()
	res := l.result()
	layout := compiler.Layout(len(l.nums), per)
	m := &shard.Manifest{Format: shard.ManifestFormat, FormatVersion: shard.ManifestVersion, ToolVersion: "test"}
	if base != nil {
		var err error
		if layout, err = compiler.StableLayout(compiler.NumberSlice(l.nums), base.Manifest, l.kind, per); err != nil {
			t.Fatal(err)
		}
		m.Base = base.Manifest.BuildID
	}
	if err := compiler.WriteBuild(context.Background(), dir, res, m, layout); err != nil {
		t.Fatal(err)
	}
	b, err := shard.LoadBuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var labelPool = []string{"Spam", "Scam Likely", "Telemarketer", "Survey", "Dentist", "Café ☕"}

// randomList makes n distinct numbers in a small range (so that base and
// target overlap), with random labels for identify.
func randomList(r *rand.Rand, kind shard.Kind, n int) list {
	seen := map[int64]bool{}
	l := list{kind: kind}
	for len(l.nums) < n {
		v := base + r.Int64N(int64(n)*3+10)
		if !seen[v] {
			seen[v] = true
			l.nums = append(l.nums, v)
		}
	}
	slices.Sort(l.nums)
	if kind == shard.KindIdentify {
		for range l.nums {
			l.labels = append(l.labels, labelPool[r.IntN(len(labelPool))])
		}
	}
	return l
}

// mutate derives a target from a base: removals, additions, relabels, or
// a full churn.
func mutate(r *rand.Rand, b list) list {
	if r.IntN(10) == 0 { // full churn: nothing in common
		out := randomList(r, b.kind, r.IntN(60))
		for i := range out.nums {
			out.nums[i] += 1_000_000
		}
		return out
	}
	out := list{kind: b.kind}
	keep := map[int64]string{}
	for i, n := range b.nums {
		if r.IntN(100) < 20 { // removed
			continue
		}
		lb := ""
		if b.kind == shard.KindIdentify {
			lb = b.labels[i]
			if r.IntN(100) < 20 {
				lb = labelPool[r.IntN(len(labelPool))] // relabelled (maybe to itself)
			}
		}
		keep[n] = lb
	}
	for k := r.IntN(40); k > 0; k-- { // additions, some overflowing a shard
		n := base + r.Int64N(int64(len(b.nums))*3+50)
		if _, ok := keep[n]; !ok {
			keep[n] = labelPool[r.IntN(len(labelPool))]
		}
	}
	for n := range keep {
		out.nums = append(out.nums, n)
	}
	slices.Sort(out.nums)
	if b.kind == shard.KindIdentify {
		for _, n := range out.nums {
			out.labels = append(out.labels, keep[n])
		}
	}
	return out
}

// For seeded random base/target pairs (empty
// lists, full churn, label changes, shards that overflow their base range),
// replaying the base and the delta on the SQLite model gives exactly the
// target, and validate finds nothing wrong with the delta. 2,000 cases with
// -tags long, 40 without (each case costs about 70 ms: two builds, a delta,
// a replay and a validation).
func TestDeltaProperty(t *testing.T) {
	cases := 40 // every kind of delta still shows up (checked below)
	if long {
		cases = 2000
	}
	const workers = 4
	stats := make([]map[string]int, workers)
	t.Run("cases", func(t *testing.T) {
		for w := 0; w < workers; w++ {
			stats[w] = map[string]int{}
			t.Run(fmt.Sprint(w), func(t *testing.T) {
				t.Parallel()
				deltaCases(t, uint64(w), cases/workers, stats[w])
			})
		}
	})
	all := map[string]int{}
	for _, st := range stats {
		for k, v := range st {
			all[k] += v
		}
	}
	t.Logf("%d cases; extension deltas by mode and cases with relabels: %v", cases, all)
	if all[shard.ModeComplete] == 0 || all[shard.ModeClear] == 0 || all[shard.ModeIncremental] == 0 || all["relabelled"] == 0 {
		t.Errorf("the generator missed a kind of delta: %v", all)
	}
}

func deltaCases(t *testing.T, seed uint64, cases int, stats map[string]int) {
	r := rand.New(rand.NewPCG(20261125, seed))
	ctx := context.Background()
	for c := 0; c < cases; c++ {
		kind := shard.KindBlock
		if r.IntN(3) == 0 {
			kind = shard.KindIdentify
		}
		per := 1 + r.IntN(40)
		var bl list
		switch r.IntN(8) {
		case 0:
			bl = list{kind: kind} // empty base
		default:
			bl = randomList(r, kind, r.IntN(80))
		}
		tl := mutate(r, bl)
		if r.IntN(12) == 0 {
			tl = list{kind: kind} // empty target
		}
		dir := t.TempDir()
		bb := mustWriteBuild(t, filepath.Join(dir, "base"), bl, nil, per)
		var tb *shard.Build
		if r.IntN(4) == 0 { // boundaries unrelated to the base's
			tb = mustWriteBuild(t, filepath.Join(dir, "target"), tl, nil, per)
		} else {
			tb = mustWriteBuild(t, filepath.Join(dir, "target"), tl, bb, per)
		}
		dm, err := compiler.WriteDelta(ctx, filepath.Join(dir, "delta"), bb, tb, compiler.DeltaOptions{Chunk: 1 + r.IntN(30), ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range dm.Extensions {
			stats[x.Mode]++
		}
		if dm.Summary.Relabelled > 0 {
			stats["relabelled"]++
		}
		vr, err := validate.Delta(ctx, filepath.Join(dir, "delta"), bb, tb)
		if err != nil || len(vr.Findings) > 0 {
			t.Fatalf("case %d: validate: %v %v", c, err, vr.Findings)
		}
		p, err := PlanFromDeltas(filepath.Join(dir, "base"), []string{filepath.Join(dir, "delta")}, filepath.Join(dir, "target"), 0)
		if err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
		p.Settings.Synchronous, p.Settings.JournalMode = "off", "memory" // correctness, not durability, is under test
		rep, err := Replay(ctx, p, Options{Dir: filepath.Join(dir, "db")})
		if err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
		if rep.Outcome.Class != ClassOK {
			var b strings.Builder
			for _, s := range rep.Steps {
				fmt.Fprintf(&b, "\n  %s: %s %s", s.Step, s.Outcome, s.Outcome.Detail)
			}
			t.Fatalf("case %d (%s, %d → %d entries, per %d): %s%s", c, kind, len(bl.nums), len(tl.nums), per, rep.Outcome, b.String())
		}
		os.RemoveAll(dir)
	}
}

// A delta on the wrong base is refused with a clear message
// before anything runs.
func TestDeltaWrongBaseRefused(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	a := randomList(r, shard.KindBlock, 50)
	b := mutate(r, a)
	ab := mustWriteBuild(t, filepath.Join(dir, "a"), a, nil, 100)
	bb := mustWriteBuild(t, filepath.Join(dir, "b"), b, ab, 100)
	if _, err := compiler.WriteDelta(context.Background(), filepath.Join(dir, "d"), ab, bb, compiler.DeltaOptions{Chunk: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := PlanFromDeltas(filepath.Join(dir, "b"), []string{filepath.Join(dir, "d")}, "", 0)
	if err == nil || !strings.Contains(err.Error(), "refused before any row changes") || !strings.Contains(err.Error(), ab.Manifest.BuildID[:12]) {
		t.Fatalf("wrong base: %v", err)
	}
	// A tampered request file is refused too.
	f := filepath.Join(dir, "d", "ext-0001", "0001-add.shard")
	if _, err := os.Stat(f); err == nil {
		data, _ := os.ReadFile(f)
		data[len(data)-1] ^= 1
		os.WriteFile(f, data, 0o644)
		if _, err := PlanFromDeltas(filepath.Join(dir, "a"), []string{filepath.Join(dir, "d")}, "", 0); err == nil || !strings.Contains(err.Error(), "damaged or replaced") {
			t.Fatalf("tampered delta: %v", err)
		}
	}
}

// One changed number in a 1,000,000-number build touches one
// shard, and the delta is under 1 KB per changed number.
func TestDeltaOneNumberOfAMillion(t *testing.T) {
	dir := t.TempDir()
	l := list{kind: shard.KindBlock}
	for i := int64(0); i < 1_000_000; i++ {
		l.nums = append(l.nums, 12_010_000_000+i*7)
	}
	old := mustWriteBuild(t, filepath.Join(dir, "old"), l, nil, 100_000)
	changed := list{kind: shard.KindBlock, nums: slices.Clone(l.nums)}
	changed.nums[543_210]++ // one number replaced by its neighbour
	nb := mustWriteBuild(t, filepath.Join(dir, "new"), changed, old, 100_000)
	same := 0
	for i, s := range nb.Manifest.Shards {
		if s.SHA256 == old.Manifest.Shards[i].SHA256 {
			same++
		}
	}
	if same != len(old.Manifest.Shards)-1 {
		t.Errorf("%d of %d shards unchanged, want all but one", same, len(old.Manifest.Shards))
	}
	dm, err := compiler.WriteDelta(context.Background(), filepath.Join(dir, "delta"), old, nb, compiler.DeltaOptions{Chunk: compiler.DefaultChunk})
	if err != nil {
		t.Fatal(err)
	}
	if len(dm.Extensions) != 1 || dm.Summary.Added != 1 || dm.Summary.Removed != 1 {
		t.Fatalf("delta: %+v", dm)
	}
	var size int64
	filepath.Walk(filepath.Join(dir, "delta"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			size += fi.Size()
		}
		return err
	})
	t.Logf("delta of one changed number: %d bytes in %d extension, %d request", size, len(dm.Extensions), len(dm.Extensions[0].Requests))
	if size >= 1024 {
		t.Errorf("delta is %d bytes for one changed number, want under 1 KB", size)
	}
}

// 50 daily deltas applied in turn end equal to a fresh
// complete build of the last day; the database size is reported each day,
// with maintenance (orphan cleanup, VACUUM) weekly. Without -tags long: 10
// days of 5,000 numbers.
func TestDeltaFiftyDays(t *testing.T) {
	days, size := 10, 5_000
	if long {
		days, size = 50, 20_000
	}
	ctx := context.Background()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(50, 50))
	cur := randomList(r, shard.KindBlock, size)
	prev := mustWriteBuild(t, filepath.Join(dir, "day00"), cur, nil, size/3)
	var deltas []string
	for d := 1; d <= days; d++ {
		next := churn(r, cur, size/100) // 1% out, 1% in
		nb := mustWriteBuild(t, filepath.Join(dir, fmt.Sprintf("day%02d", d)), next, prev, size/3)
		delta := filepath.Join(dir, fmt.Sprintf("delta%02d", d))
		if _, err := compiler.WriteDelta(ctx, delta, prev, nb, compiler.DeltaOptions{Chunk: compiler.DefaultChunk}); err != nil {
			t.Fatal(err)
		}
		deltas = append(deltas, delta)
		prev, cur = nb, next
	}
	last := filepath.Join(dir, fmt.Sprintf("day%02d", days))
	p, err := PlanFromDeltas(filepath.Join(dir, "day00"), deltas, last, 7)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Replay(ctx, p, Options{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome.Class != ClassOK {
		t.Fatalf("chain: %s %s", rep.Outcome, rep.Outcome.Detail)
	}
	// The rows, all extensions together, equal a fresh build of the last day.
	fresh := mustWriteBuild(t, filepath.Join(dir, "fresh"), cur, nil, size/3)
	var want []int64
	for _, e := range fresh.Exts {
		want = append(want, e.Numbers...)
	}
	slices.Sort(want)
	got := allBlocking(t, filepath.Join(dir, "db", "CallDirectory.db"))
	if !slices.Equal(got, want) {
		t.Fatalf("after %d deltas: %d rows, a fresh build of the last day has %d", days, len(got), len(want))
	}
	// The report: the database after each day's delta (and maintenance).
	var b strings.Builder
	for i, s := range rep.Steps {
		last := i+1 == len(rep.Steps) || p.Steps[i+1].Tag != p.Steps[i].Tag
		if p.Steps[i].Tag == "" || !last {
			continue
		}
		m := s.Metrics
		fmt.Fprintf(&b, "\n  %-22s %6d rows, %6d PhoneNumber rows, file %8d bytes, %5d pages, %4d free", p.Steps[i].Tag+":", m.Rows, m.PhoneNumbers, m.FileBytes, m.PageCount, m.FreelistCount)
	}
	t.Logf("database after each day:%s", b.String())
}

// churn removes k random numbers and adds k new ones.
func churn(r *rand.Rand, l list, k int) list {
	out := list{kind: l.kind}
	drop := map[int]bool{}
	for len(drop) < k && len(drop) < len(l.nums) {
		drop[r.IntN(len(l.nums))] = true
	}
	seen := map[int64]bool{}
	for i, n := range l.nums {
		seen[n] = true
		if !drop[i] {
			out.nums = append(out.nums, n)
		}
	}
	for added := 0; added < k; {
		n := base + r.Int64N(int64(len(l.nums))*4)
		if !seen[n] {
			seen[n] = true
			out.nums = append(out.nums, n)
			added++
		}
	}
	slices.Sort(out.nums)
	return out
}

// allBlocking reads every blocking number of every extension, sorted.
func allBlocking(t *testing.T, path string) []int64 {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT p.number FROM PhoneNumberBlockingEntry e JOIN PhoneNumber p ON p.id = e.phone_number_id ORDER BY p.number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}
