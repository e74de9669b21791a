package plan

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Format renders a plan in its text form; ParsePlan reads it back to an
// equal plan. Shard paths are written relative to dir when they are inside
// it.
func (p *Plan) Format(dir string) string {
	var b strings.Builder
	fmt.Fprintln(&b, PlanHeader)
	fmt.Fprintf(&b, "seed %d\n", p.Seed)
	fmt.Fprintf(&b, "set %s\n", strings.Join(p.Settings.Pairs(), " "))
	for _, e := range p.Extensions {
		fmt.Fprintf(&b, "extension %s %s\n", quote(e.Name), quote(e.Bundle))
	}
	if k := p.Kill; k != nil {
		fmt.Fprintf(&b, "fault kill at=%d", k.At)
		if k.Then != "" {
			fmt.Fprintf(&b, " then=%s", k.Then)
		}
		b.WriteByte('\n')
	}
	if f := p.Power; f != nil {
		b.WriteString(f.format())
	}
	for _, st := range p.Steps {
		switch st.Kind {
		case StepLoad:
			mode := "complete"
			if st.Incremental {
				mode = "incremental"
			}
			fmt.Fprintf(&b, "load %s %s", quote(st.Ext), mode)
			if st.FailAfter >= 0 {
				fmt.Fprintf(&b, " fail-after=%d", st.FailAfter)
			}
			b.WriteByte('\n')
			for _, op := range st.Ops {
				formatOp(&b, op, dir)
			}
			b.WriteString("end\n")
		case StepDisable, StepRemoveExt, StepUnavailable:
			fmt.Fprintf(&b, "%s %s\n", st.Kind, quote(st.Ext))
		case StepCorrupt:
			fmt.Fprintf(&b, "corrupt table=%s\n", st.Table)
		case StepDiskFull:
			if st.Extra > 0 {
				fmt.Fprintf(&b, "disk-full extra=%d\n", st.Extra)
			} else {
				fmt.Fprintf(&b, "disk-full pages=%d\n", st.Pages)
			}
		case StepBusy, StepReader:
			fmt.Fprintf(&b, "%s hold=%s\n", st.Kind, st.Hold)
		case StepWriter:
			fmt.Fprintf(&b, "writer count=%d\n", st.Count)
		case StepExpect:
			path := st.Path
			if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
				path = rel
			}
			fmt.Fprintf(&b, "expect-build %s\n", quote(path))
		default:
			fmt.Fprintln(&b, st.Kind)
		}
	}
	return b.String()
}

// formatOp writes one op line of a load block.
func formatOp(b *strings.Builder, op Op, dir string) {
	fmt.Fprintf(b, "  %s", op.Kind)
	src := op.Source
	switch {
	case op.Kind == OpRemoveAll || op.Kind == OpRemoveAllBlock || op.Kind == OpRemoveAllIdentify:
	case src.Shard != "":
		path := src.Shard
		if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
			path = rel
		}
		fmt.Fprintf(b, " shard %s", quote(path))
	case src.Step > 0:
		fmt.Fprintf(b, " range %d %d", src.First, src.Last)
		if src.Step != 1 {
			fmt.Fprintf(b, " step=%d", src.Step)
		}
	default:
		b.WriteString(" numbers")
		for _, n := range src.Numbers {
			b.WriteString(" " + strconv.FormatInt(n, 10))
		}
	}
	if op.Label != "" || (op.Kind == OpIdentify && src.Shard == "") {
		fmt.Fprintf(b, " label=%s", quote(op.Label))
	}
	b.WriteByte('\n')
}
