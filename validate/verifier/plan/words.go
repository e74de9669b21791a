package plan

// The words of a plan line: reading a bounded line, splitting it into
// words (quotes, escapes, comments), key=value options, and quoting a word
// back for Format.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// readLine reads one line, refusing lines over MaxLine bytes.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLine {
			return "", fmt.Errorf("line longer than %d bytes", MaxLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(buf) > 0 {
			err = nil
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(buf), "\r\n"), nil
	}
}

// fields splits a line into words; "#" starts a comment; double quotes
// group words (key="two words"), with \" and \\ escapes.
func fields(line string) ([]string, error) {
	var out []string
	var cur bytes.Buffer
	in, started := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case in && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			in, started = !in, true
		case !in && (c == ' ' || c == '\t'):
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		case !in && c == '#':
			i = len(line)
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if in {
		return nil, errors.New("unterminated quote")
	}
	if started {
		out = append(out, cur.String())
	}
	return out, nil
}

// options splits words into key=value options and plain arguments.
func options(words []string) (map[string]string, []string) {
	kv := map[string]string{}
	var args []string
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			kv[k] = v
			continue
		}
		args = append(args, w)
	}
	return kv, args
}

func unknownKeys(kv map[string]string, known ...string) string {
	for _, k := range sortedKeys(kv) {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			return strconv.Quote(k)
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// quote renders a word so that fields reads it back.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"#\\") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
