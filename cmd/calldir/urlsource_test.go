package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// listServer serves lists by path: /spam.txt and /more.txt are number
// lists (with an ETag), /page.html an HTML error page with status 200,
// anything else 404. It counts the requests.
func listServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	lists := map[string]string{
		"/spam.txt": "+14155550101\n+14155550102\n+14155550103\n",
		"/more.txt": "+14155550104\n+14155550105\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if body, ok := lists[r.URL.Path]; ok {
			etag := `"` + sha(body)[:16] + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			fmt.Fprint(w, body)
			return
		}
		if r.URL.Path == "/page.html" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!doctype html><html><body>Service unavailable</body></html>")
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// urlConfig writes calldir.toml with the given [[source]] tables.
func urlConfig(t *testing.T, dir string, tables ...string) string {
	t.Helper()
	return mustWrite(t, filepath.Join(dir, "calldir.toml"), "out = \"build\"\n\n"+strings.Join(tables, "\n"))
}

func TestURLSourceCompiles(t *testing.T) {
	srv, _ := listServer(t)
	dir := t.TempDir()
	cfg := urlConfig(t, dir,
		fmt.Sprintf("[[source]]\nurl = %q\nsha256 = %q\n", srv.URL+"/spam.txt", sha("+14155550101\n+14155550102\n+14155550103\n")),
		fmt.Sprintf("[[source]]\nurl = %q\n", srv.URL+"/more.txt"))
	cache := filepath.Join(dir, "cache")
	_, stderr := mustCLI(t, 0, "compile", "--config", cfg, "--cache", cache)
	for _, want := range []string{srv.URL + "/spam.txt: sha256 " + sha("+14155550101\n+14155550102\n+14155550103\n"), "fetched 20", "warning: source " + srv.URL + "/more.txt is fetched over plain http://"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	m := readManifest(t, filepath.Join(dir, "build"))
	if m.Totals.Entries != 5 || len(m.Inputs) != 2 || m.Inputs[0].Path != srv.URL+"/spam.txt" || m.Inputs[1].Path != srv.URL+"/more.txt" ||
		m.Inputs[0].SHA256 != sha("+14155550101\n+14155550102\n+14155550103\n") {
		t.Errorf("manifest: %d entries, inputs %+v; want 5 entries from the two URLs with their SHA-256", m.Totals.Entries, m.Inputs)
	}
	// Nothing fetched lands outside the cache and the build.
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "build cache calldir.toml" {
		t.Errorf("the run left %v beside its configuration; want only build and cache", names)
	}
	// The same lists again (304 this time) give the same manifest: it
	// records the URL and SHA-256, not the fetch time.
	first := mustRead(t, filepath.Join(dir, "build", "manifest.json"))
	_, stderr = mustCLI(t, 0, "compile", "--config", cfg, "--cache", cache)
	if !strings.Contains(stderr, "(not-modified)") {
		t.Errorf("second run did not revalidate the cached copy:\n%s", stderr)
	}
	if again := mustRead(t, filepath.Join(dir, "build", "manifest.json")); again != first {
		t.Errorf("the same lists gave another manifest:\n%s\nwas\n%s", again, first)
	}
	// --format json lists each URL with its SHA-256 and how it was had.
	out, _ := mustCLI(t, 0, "compile", "--config", cfg, "--cache", cache, "--format", "json")
	var sum compileSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--format json: %v\n%s", err, out)
	}
	if len(sum.Fetched) != 2 || sum.Fetched[0].URL != srv.URL+"/spam.txt" || sum.Fetched[0].SHA256 != m.Inputs[0].SHA256 ||
		sum.Fetched[0].From != "not-modified" || sum.Fetched[0].FetchedAt == "" || sum.Fetched[0].Bytes != 39 {
		t.Errorf("--format json fetched = %+v", sum.Fetched)
	}
	// Offline: the cache alone.
	_, stderr = mustCLI(t, 0, "compile", "--config", cfg, "--cache", cache, "--offline")
	if !strings.Contains(stderr, "(cache)") {
		t.Errorf("--offline did not say it read the cache:\n%s", stderr)
	}
}

// A source that cannot be fetched fails the build with exit status 3,
// naming it, and leaves every file as it was; an optional one is left out
// with a warning, and the shrink guard still holds.
func TestURLSourceFailures(t *testing.T) {
	srv, _ := listServer(t)
	cases := []struct {
		name, table, want string
		code              int
	}{
		{"missing", fmt.Sprintf("[[source]]\nurl = %q\n", srv.URL+"/gone.txt"), "404", exitFetch},
		{"html", fmt.Sprintf("[[source]]\nurl = %q\n", srv.URL+"/page.html"), "HTML", exitFetch},
		{"pin", fmt.Sprintf("[[source]]\nurl = %q\nsha256 = %q\n", srv.URL+"/spam.txt", strings.Repeat("ab", 32)), "sha256", exitFetch},
		{"optional-shrinks", fmt.Sprintf("[[source]]\nurl = %q\n\n[[source]]\nurl = %q\noptional = true\n", srv.URL+"/more.txt", srv.URL+"/gone.txt"), "shrink", exitUsage},
		{"url-and-path", "[[source]]\nurl = \"https://example.com/a.txt\"\npath = \"a.txt\"\n", "calldir.toml:4: source[0].url: given with a path", exitUsage},
		{"pin-without-url", "[[source]]\npath = \"a.txt\"\nsha256 = \"00\"\n", "source[0].sha256: pins a url", exitUsage},
		{"scheme", "[[source]]\nurl = \"ftp://example.com/a.txt\"\n", "source[0].url", exitUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustWrite(t, filepath.Join(dir, "a.txt"), "+14155550101\n+14155550102\n+14155550103\n+14155550104\n+14155550105\n")
			mustCLI(t, 0, "compile", "-q", "--out", filepath.Join(dir, "build"), "--cache", filepath.Join(dir, "cache"), filepath.Join(dir, "a.txt"))
			cfg := urlConfig(t, dir, tc.table)
			before := snapshotTree(t, dir)
			code, _, stderr := runCLI(t, "", "compile", "--config", cfg, "--cache", filepath.Join(dir, "cache"), "--max-shrink", "50%")
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, stderr)
			}
			assertSameTree(t, dir, before, "cache")
		})
	}
	// --offline with nothing cached.
	dir := t.TempDir()
	cfg := urlConfig(t, dir, fmt.Sprintf("[[source]]\nurl = %q\n", srv.URL+"/spam.txt"))
	code, _, stderr := runCLI(t, "", "compile", "--config", cfg, "--cache", filepath.Join(dir, "cache"), "--offline")
	if code != exitFetch || !strings.Contains(stderr, srv.URL+"/spam.txt") {
		t.Errorf("--offline with an empty cache: exit %d, want %d naming the URL:\n%s", code, exitFetch, stderr)
	}
	// An optional source that fails beside one that does not: built,
	// with a warning.
	cfg = urlConfig(t, dir, fmt.Sprintf("[[source]]\nurl = %q\n\n[[source]]\nurl = %q\noptional = true\n", srv.URL+"/spam.txt", srv.URL+"/gone.txt"))
	_, stderr = mustCLI(t, 0, "compile", "--config", cfg, "--cache", filepath.Join(dir, "cache"))
	if !strings.Contains(stderr, "warning: optional source left out") || !strings.Contains(stderr, "gone.txt") {
		t.Errorf("no warning for the optional source left out:\n%s", stderr)
	}
	if m := readManifest(t, filepath.Join(dir, "build")); m.Totals.Entries != 3 || len(m.Inputs) != 1 {
		t.Errorf("built %d entries from %d inputs; want 3 from the one list fetched", m.Totals.Entries, len(m.Inputs))
	}
}

// The edges a review found: every source optional and left out (exit 3,
// not a usage error), the same URL twice (read once, with a warning), the
// summary counting only the lists read, --cache "", a protect list by URL,
// and --format json naming the source that failed the build.
func TestURLSourceEdges(t *testing.T) {
	srv, _ := listServer(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	run := func(want int, tables ...string) (string, string) {
		t.Helper()
		cfg := urlConfig(t, dir, tables...)
		code, out, errs := runCLI(t, "", "compile", "--config", cfg, "--cache", cache, "--format", "json")
		if code != want {
			t.Fatalf("exit %d, want %d:\n%s", code, want, errs)
		}
		return out, errs
	}
	gone := fmt.Sprintf("[[source]]\nurl = %q\noptional = true\n", srv.URL+"/gone.txt")
	_, errs := run(exitFetch, gone)
	if !strings.Contains(errs, "no source left to build from") || !strings.Contains(errs, "/gone.txt") {
		t.Errorf("every source left out:\n%s", errs)
	}
	spam := fmt.Sprintf("[[source]]\nurl = %q\n", srv.URL+"/spam.txt")
	_, errs = run(exitOK, spam, spam, gone)
	if !strings.Contains(errs, "input "+srv.URL+"/spam.txt given twice: read once") || !strings.Contains(errs, "3 lines from 1 file(s)") {
		t.Errorf("the same URL twice and one left out:\n%s", errs)
	}
	if m := readManifest(t, filepath.Join(dir, "build")); len(m.Inputs) != 1 {
		t.Errorf("manifest inputs %+v, want the one list", m.Inputs)
	}
	out, _ := run(exitFetch, fmt.Sprintf("[[source]]\nurl = %q\n", srv.URL+"/page.html"))
	var sum compileSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.ExitStatus != exitFetch || len(sum.Fetched) != 1 ||
		sum.Fetched[0].URL != srv.URL+"/page.html" || !strings.Contains(sum.Fetched[0].Failed, "HTML") || sum.Fetched[0].From != "" {
		t.Errorf("--format json of a failed fetch: %v %+v\n%s", err, sum.Fetched, out)
	}
	code, _, errs := runCLI(t, "", "compile", "--config", urlConfig(t, dir, spam), "--cache", "")
	if code != exitUsage || !strings.Contains(errs, `--cache "": want a directory`) {
		t.Errorf("--cache \"\": exit %d\n%s", code, errs)
	}
	code, _, errs = runCLI(t, "", "compile", "--config", urlConfig(t, dir, spam, fmt.Sprintf("[[protect]]\nurl = %q\n", srv.URL+"/more.txt")), "--cache", cache)
	if code != exitUsage || !strings.Contains(errs, "calldir.toml:7: protect[0].url: a protect list is a file") {
		t.Errorf("[[protect]] by url: exit %d\n%s", code, errs)
	}
}
