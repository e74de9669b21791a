package verifier

import (
	"io"

	"github.com/calldir/calldir/validate/verifier/plan"
)

// The plan's types live in package plan, which the reference model
// (package model) reads too; these names keep the verifier's code and its
// callers as they were.
type (
	Plan       = plan.Plan
	Step       = plan.Step
	StepKind   = plan.StepKind
	Op         = plan.Op
	OpKind     = plan.OpKind
	Source     = plan.Source
	ExtDef     = plan.ExtDef
	KillFault  = plan.KillFault
	PowerFault = plan.PowerFault
	Settings   = plan.Settings
	PlanError  = plan.PlanError
)

const (
	PlanHeader = plan.PlanHeader

	StepLoad        = plan.StepLoad
	StepMaintenance = plan.StepMaintenance
	StepDisable     = plan.StepDisable
	StepRemoveExt   = plan.StepRemoveExt
	StepPrepare     = plan.StepPrepare
	StepDiskFull    = plan.StepDiskFull
	StepBusy        = plan.StepBusy
	StepReader      = plan.StepReader
	StepWriter      = plan.StepWriter
	StepCheck       = plan.StepCheck
	StepExpect      = plan.StepExpect
	StepUnavailable = plan.StepUnavailable
	StepReopen      = plan.StepReopen
	StepCorrupt     = plan.StepCorrupt

	OpBlock             = plan.OpBlock
	OpIdentify          = plan.OpIdentify
	OpRemoveBlock       = plan.OpRemoveBlock
	OpRemoveIdentify    = plan.OpRemoveIdentify
	OpRemoveAll         = plan.OpRemoveAll
	OpRemoveAllBlock    = plan.OpRemoveAllBlock
	OpRemoveAllIdentify = plan.OpRemoveAllIdentify
)

// ParsePlan reads a plan file (plan.Parse).
func ParsePlan(r io.Reader, name, dir string) (*Plan, error) { return plan.Parse(r, name, dir) }

// DefaultSettings are the daemon's known settings (plan.DefaultSettings).
func DefaultSettings() Settings { return plan.DefaultSettings() }
