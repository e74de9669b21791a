package verifier

import (
	"errors"
	"fmt"
)

// Outcome classes, from harmless to worst. A step's outcome is the worst
// thing it showed.
const (
	ClassOK         = "ok"
	ClassRolledBack = "rolled-back"     // a power loss took back commits the settings allow it to (a warning, not a finding)
	ClassCallKit    = "callkit-error"   // the load failed with a CallKit error
	ClassSQLite     = "sqlite-error"    // the load failed with a SQLite error
	ClassStuck      = "stuck-loading"   // the failure path failed: state left at 3
	ClassZeroRows   = "zero-rows"       // a loaded extension left with zero rows
	ClassState      = "state-differs"   // an extension's state in the database is not the model's; rows agree
	ClassModel      = "model-disagrees" // the driver broke a CallKit rule the model applies
	ClassRowsLost   = "rows-lost"       // the database's rows are not the model's
	ClassIntegrity  = "integrity"       // malformed database
	// ClassError is a case explore could not run at all (the verifier
	// failed: no SQLite, a full scratch disk): no verdict, and never ok.
	ClassError = "error"
)

var classRank = map[string]int{ClassOK: 0, ClassRolledBack: 1, ClassCallKit: 2, ClassSQLite: 3, ClassStuck: 4, ClassZeroRows: 5, ClassState: 6, ClassModel: 7, ClassRowsLost: 8, ClassIntegrity: 9, ClassError: 10}

// Finding reports whether an outcome is a finding (exit 1): everything
// but ok and a rollback the settings allow.
func (o Outcome) Finding() bool { return o.Class != ClassOK && o.Class != ClassRolledBack }

// Outcome is what a step or a run ended in.
type Outcome struct {
	Class  string `json:"class"`
	Code   int    `json:"code,omitempty"` // CallKit or SQLite code
	Detail string `json:"detail,omitempty"`
}

func (o Outcome) String() string {
	switch o.Class {
	case ClassOK:
		return "ok"
	case ClassCallKit:
		return fmt.Sprintf("CallKit error %d", o.Code)
	case ClassSQLite:
		return fmt.Sprintf("SQLite %d (%s)", o.Code, sqliteName(o.Code))
	case ClassRolledBack:
		return "rolled back"
	case ClassStuck:
		return "extension stuck loading"
	case ClassZeroRows:
		return "loaded extension left with zero rows"
	case ClassState:
		return "state differs"
	case ClassModel:
		return "model disagrees"
	case ClassRowsLost:
		return "rows lost"
	case ClassIntegrity:
		return "integrity failure"
	}
	return o.Class
}

// Key identifies an outcome for shrinking: the same class and, for CallKit
// and SQLite errors, the same code. A malformed database is one finding
// whichever call first noticed it.
func (o Outcome) Key() string {
	switch o.Class {
	case ClassIntegrity, ClassRowsLost, ClassState, ClassModel:
		return o.Class
	}
	return fmt.Sprintf("%s/%d", o.Class, o.Code)
}

// faultVerdict sets a faulted run's outcome: the worse of the fault-free
// run's and what the fault produced, both kept in the report. A fault
// widens what is acceptable; it never replaces the plan's own finding.
func faultVerdict(rep *Report, free, fault Outcome) {
	rep.FaultFree, rep.Fault = &free, &fault
	rep.Outcome = worse(fault, free)
	if rep.Outcome != fault {
		rep.Outcome.Detail = joinDetail("in the fault-free run of the plan", free.Detail)
	}
}

func worse(a, b Outcome) Outcome {
	if classRank[b.Class] > classRank[a.Class] {
		return b
	}
	return a
}

func sqliteName(code int) string {
	names := map[int]string{1: "SQLITE_ERROR", 5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 8: "SQLITE_READONLY", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 19: "SQLITE_CONSTRAINT", 26: "SQLITE_NOTADB"}
	if n, ok := names[code]; ok {
		return n
	}
	return "code " + fmt.Sprint(code)
}

// outcomeOf classifies a step error.
func outcomeOf(err error) Outcome {
	var ck *CallKitError
	if errors.As(err, &ck) {
		return Outcome{Class: ClassCallKit, Code: ck.Code, Detail: ck.Msg}
	}
	if c := SQLiteCode(err); c != 0 {
		if c == 11 || c == 26 {
			return Outcome{Class: ClassIntegrity, Code: c, Detail: err.Error()}
		}
		return Outcome{Class: ClassSQLite, Code: c, Detail: err.Error()}
	}
	return Outcome{Class: ClassSQLite, Code: 1, Detail: err.Error()}
}
