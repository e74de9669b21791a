package e164

import "testing"

func TestNational(t *testing.T) {
	for n, want := range map[int64]string{
		447700900123: "07700900123", // GB mobile: trunk prefix 0
		33162000000:  "0162000000",  // FR
		14155550123:  "4155550123",  // NANP: no trunk prefix in the national form
		390612345678: "0612345678",  // IT: the 0 is part of the number
		79161234567:  "89161234567", // RU: trunk prefix 8
		33612345678:  "0612345678",  // FR mobile and …
		31612345678:  "0612345678",  // … NL mobile share it (across codes)
	} {
		if got, ok := National(n); !ok || got != want {
			t.Errorf("National(%d) = %q, %v; want %q", n, got, ok, want)
		}
	}
	for _, n := range []int64{0, -1, 2801234567} { // no number, no country code
		if got, ok := National(n); ok {
			t.Errorf("National(%d) = %q, want none", n, got)
		}
	}
}
