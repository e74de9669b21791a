package e164

// Reason is why a line was rejected. The set is fixed; Help is its one
// description (docs/CLI.md#reject-reasons is generated from it); the String form is what reports and --format json print, so it is
// part of the interface: never renumber or rename.
type Reason uint8

const (
	ReasonNone               Reason = iota // accepted
	ReasonEmpty                            // nothing but white space
	ReasonNoDigits                         // text without a single digit
	ReasonNotANumber                       // phonenumbers cannot read it as a number
	ReasonInvalidCountryCode               // no such country calling code, or none and no default region
	ReasonTooShort                         // shorter than any number of its country
	ReasonTooLong                          // longer than any number of its country, or more than 15 E.164 digits
	ReasonInvalidLength                    // a length between the possible ones of its country
	ReasonLocalOnly                        // possible only when dialled locally (area code missing)
	ReasonNotValid                         // possible, but not an assigned range (--accept valid)
	ReasonLineTooLong                      // the line exceeds the reader's limit (compiler)
	ReasonBadCSV                           // a CSV/TSV line that cannot be split (compiler)
	ReasonMissingColumn                    // a CSV/TSV line without the number or label column (compiler)
	ReasonBadLabel                         // an empty, invalid UTF-8 or over-long label (compiler)
	ReasonAmbiguous                        // its E.164 form reads back as another number
	ReasonBadPattern                       // a pattern or range that cannot be read (compiler)
	ReasonBadRange                         // a register row whose start, end or prefix is not digits (compiler)
	ReasonRangeReversed                    // a register row whose end is below its start (compiler)
	ReasonRangeLengths                     // a register row whose ends differ in length or country (compiler)
	ReasonPrefixLength                     // a prefix whose numbers' length the numbering plan does not settle
	numReasons
)

var reasonNames = [...]string{
	ReasonNone:               "ok",
	ReasonEmpty:              "empty",
	ReasonNoDigits:           "no-digits",
	ReasonNotANumber:         "not-a-number",
	ReasonInvalidCountryCode: "invalid-country-code",
	ReasonTooShort:           "too-short",
	ReasonTooLong:            "too-long",
	ReasonInvalidLength:      "invalid-length",
	ReasonLocalOnly:          "local-only",
	ReasonNotValid:           "not-valid",
	ReasonLineTooLong:        "line-too-long",
	ReasonBadCSV:             "bad-csv",
	ReasonMissingColumn:      "missing-column",
	ReasonBadLabel:           "bad-label",
	ReasonAmbiguous:          "ambiguous",
	ReasonBadPattern:         "bad-pattern",
	ReasonBadRange:           "bad-range",
	ReasonRangeReversed:      "range-reversed",
	ReasonRangeLengths:       "range-lengths",
	ReasonPrefixLength:       "prefix-length",
}

var reasonHelp = [...]string{
	ReasonNone:               "accepted",
	ReasonEmpty:              "nothing but white space",
	ReasonNoDigits:           "no digit at all",
	ReasonNotANumber:         "cannot be read as a phone number",
	ReasonInvalidCountryCode: "unknown country calling code",
	ReasonTooShort:           "too short for its country",
	ReasonTooLong:            "too long for its country, or more than 15 digits",
	ReasonInvalidLength:      "a length its country does not use",
	ReasonLocalOnly:          "dialable only locally: the area code is missing",
	ReasonNotValid:           "not in an assigned range of its country",
	ReasonLineTooLong:        "line longer than the reader's limit",
	ReasonBadCSV:             "CSV/TSV line with an unterminated quote",
	ReasonMissingColumn:      "the number or label column is missing on this line",
	ReasonBadLabel:           "label empty, not UTF-8, or longer than CallKit takes",
	ReasonAmbiguous:          "its E.164 form reads back as another number (a trunk prefix twice)",
	ReasonBadPattern:         "a pattern (+33 162 ######) or range (A..B) that cannot be read",
	ReasonBadRange:           "a register row whose start, end or prefix is not a number's digits",
	ReasonRangeReversed:      "a register row whose end is below its start",
	ReasonRangeLengths:       "a register row whose start and end differ in length or country",
	ReasonPrefixLength:       "a prefix whose numbers have no single length in the numbering plan",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Help is a one-line description of the reason.
func (r Reason) Help() string {
	if int(r) < len(reasonHelp) {
		return reasonHelp[r]
	}
	return "unknown reason"
}

// Reasons lists every reject reason, in order, for documentation and counters.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := ReasonNone + 1; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// NumReasons is one past the largest Reason, for counter arrays.
const NumReasons = int(numReasons)
