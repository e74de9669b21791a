package verifier

import (
	"errors"
	"fmt"
)

// Outcome classes, from harmless to worst. A step's outcome is the worst
// thing it showed.
const (
	ClassOK        = "ok"
	ClassCallKit   = "callkit-error"   // the load failed with a CallKit error
	ClassSQLite    = "sqlite-error"    // the load failed with a SQLite error
	ClassStuck     = "stuck-loading"   // the failure path failed: state left at 3
	ClassZeroRows  = "zero-rows"       // a loaded extension left with zero rows
	ClassState     = "state-differs"   // an extension's state in the database is not the model's; rows agree
	ClassModel     = "model-disagrees" // the driver broke a CallKit rule the model applies
	ClassRowsLost  = "rows-lost"       // the database's rows are not the model's
	ClassIntegrity = "integrity"       // malformed database
)

var classRank = map[string]int{ClassOK: 0, ClassCallKit: 1, ClassSQLite: 2, ClassStuck: 3, ClassZeroRows: 4, ClassState: 5, ClassModel: 6, ClassRowsLost: 7, ClassIntegrity: 8}

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
