package verifier

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/calldir/calldir/validate/verifier/model"
)

// judge compares what the driver did in a step with the alternatives the
// reference model allows (package model) and returns the step's outcome:
// "model disagrees" when no alternative has the driver's outcome, its
// committed rows and states, and (for a load) the batches the extension
// sent; otherwise the driver's outcome, classed as the matching
// alternative says (stuck loading, zero rows). The model then continues
// from the alternative that matched (the first when none did): it never
// takes the driver's state as its own.
func judge(ctx context.Context, m *model.Model, st Step, res stepResult, l *Ledger) (Outcome, error) {
	if res.expected || st.Kind == StepCheck {
		return res.out, nil
	}
	alts, err := m.Step(ctx, st)
	if err != nil {
		return Outcome{}, err
	}
	got := l.Fingerprint()
	var log []string
	stuck := false
	if res.load != nil {
		log, stuck = res.load.Log, res.load.StuckIn3
	}
	pick, byOutcome := -1, -1
	for i, a := range alts {
		if !sameOutcome(a, res.out, stuck) {
			continue
		}
		if byOutcome < 0 {
			byOutcome = i
		}
		if a.Print == got && sameBatches(a, log) {
			pick = i
			break
		}
	}
	if pick < 0 {
		out := disagreement(alts, byOutcome, res, got, log)
		m.Choose(max(byOutcome, 0))
		return out, nil
	}
	a := alts[pick]
	m.Choose(pick)
	out := res.out
	switch {
	case a.Kind == model.Stuck:
		out = Outcome{Class: ClassStuck, Code: out.Code, Detail: joinDetail("the failure path failed after: "+out.String()+": "+out.Detail, stuckWhy(res))}
	case a.Zero && out.Class != ClassOK:
		out = Outcome{Class: ClassZeroRows, Code: out.Code, Detail: fmt.Sprintf("after %s (%s): state 4 (loaded, still eligible for incremental loads), 0 rows", out, out.Detail)}
	}
	out.Detail = joinDetail(out.Detail, a.Note)
	if a.Dropped > 0 {
		out.Detail = joinDetail(out.Detail, fmt.Sprintf("%d identification entries dropped by the extension for an empty or 65,535-byte label [inferred]", a.Dropped))
	}
	switch {
	case res.recovered:
		out.Detail = joinDetail(out.Detail, "the schema-version probe failed with SQLITE_CORRUPT: the daemon deleted the file and copied the template again; the extensions are registered again in state 1 with no rows [inferred]")
	case st.Kind == StepReopen && out.Class == ClassOK:
		out.Detail = "the schema-version probe succeeded: no recovery, damage it does not read stays (CALLKIT.md §3.5 [inferred])"
	}
	return out, nil
}

// sameOutcome reports whether the driver's outcome (and whether its
// failure path failed) is alternative a's.
func sameOutcome(a model.Alt, out Outcome, stuck bool) bool {
	if stuck != (a.Kind == model.Stuck) {
		return false
	}
	kind := model.OK
	switch out.Class {
	case ClassCallKit:
		kind = model.CallKit
	case ClassSQLite, ClassIntegrity:
		kind = model.SQLite
	}
	want := a.Kind
	if want == model.Stuck { // the code of the error the failure path followed
		want = model.CallKit
		if a.Env || a.Code == 19 {
			want = model.SQLite
		}
	}
	if kind != want {
		return false
	}
	if a.Env && kind == model.SQLite {
		return slices.Contains(model.EnvCodes, out.Code)
	}
	return out.Code == a.Code
}

// sameBatches reports whether the extension sent the batches a allows:
// the same, or for a failure that ended the request early, a prefix.
func sameBatches(a model.Alt, log []string) bool {
	if a.Batches == nil {
		return true // not a load, or refused before the extension ran
	}
	if a.Partial {
		return len(log) <= len(a.Batches) && slices.Equal(log, a.Batches[:len(log)])
	}
	return slices.Equal(log, a.Batches)
}

// disagreement words a step no alternative allows, against the closest
// one: the first with the driver's outcome, else the fault-free one.
func disagreement(alts []model.Alt, byOutcome int, res stepResult, got string, log []string) Outcome {
	out := res.out
	if res.load != nil && res.load.StuckIn3 {
		out = Outcome{Class: ClassStuck, Code: out.Code, Detail: joinDetail(out.String()+": "+out.Detail, stuckWhy(res))}
	}
	if byOutcome < 0 {
		want := alts[0]
		return Outcome{Class: ClassModel, Code: out.Code, Detail: fmt.Sprintf("model disagrees: the driver ended in %s%s; CallKit's rules give %s%s",
			out, parens(out.Detail), altString(want), parens(want.Detail))}
	}
	a := alts[byOutcome]
	if a.Print != got {
		detail, _ := describeDiff(got, a.Print, "driver committed")
		return Outcome{Class: ClassModel, Code: out.Code, Detail: fmt.Sprintf("model disagrees: after %s%s: %s", out, parens(out.Detail), detail)}
	}
	return Outcome{Class: ClassModel, Code: out.Code, Detail: fmt.Sprintf("model disagrees: the extension sent batches %s; CallKit's flush rule (§1.2) gives %s",
		batchText(log), batchText(a.Batches))}
}

// stuckWhy is the error the failure path itself ended in.
func stuckWhy(res stepResult) string {
	if res.load == nil || res.load.StuckErr == nil {
		return ""
	}
	return "the failure path: " + res.load.StuckErr.Error()
}

func altString(a model.Alt) string {
	switch a.Kind {
	case model.CallKit:
		return fmt.Sprintf("CallKit error %d", a.Code)
	case model.SQLite:
		return fmt.Sprintf("SQLite %d (%s)", a.Code, sqliteName(a.Code))
	case model.Stuck:
		return "extension stuck loading"
	}
	return "ok"
}

// batchText shows a batch log, long ones by their ends.
func batchText(log []string) string {
	if len(log) > 8 {
		return fmt.Sprintf("[%s … %s] (%d)", strings.Join(log[:4], " "), strings.Join(log[len(log)-2:], " "), len(log))
	}
	return "[" + strings.Join(log, " ") + "]"
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
