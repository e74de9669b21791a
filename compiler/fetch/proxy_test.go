package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The default client goes through the proxy the environment names. The
// standard library reads the environment once per process, so the fetch
// runs in a child process (this test binary) with HTTP_PROXY set; the
// host is not loopback, which never goes through a proxy, and is never
// resolved: only the proxy is dialled.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("CALLDIR_FETCH_PROXY_CHILD") != "" {
		return // the child runs TestProxyChild only
	}
	var asked []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Method+" "+r.URL.String()+" "+r.Header.Get("User-Agent"))
		w.Write([]byte(list))
	}))
	defer proxy.Close()
	cache := filepath.Join(t.TempDir(), "cache")
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyChild$", "-test.v")
	cmd.Env = append(os.Environ(),
		"CALLDIR_FETCH_PROXY_CHILD="+cache,
		"HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL,
		"NO_PROXY=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if len(asked) != 1 || asked[0] != "GET http://lists.calldir.invalid/block.txt calldir/proxy-test" {
		t.Errorf("proxy was asked %q\n%s", asked, out)
	}
	if x := mustIndex(t, cache); len(x.Entries) != 1 || x.Entries[0].SHA256 != sum(list) {
		t.Errorf("index %+v", x)
	}
}

func TestProxyChild(t *testing.T) {
	cache := os.Getenv("CALLDIR_FETCH_PROXY_CHILD")
	if cache == "" {
		t.Skip("run by TestProxyFromEnvironment")
	}
	_, err := Fetch(context.Background(), Options{Cache: cache, UserAgent: "calldir/proxy-test", Retries: -1},
		Source{URL: "http://lists.calldir.invalid/block.txt", SHA256: sum(list)})
	if err != nil {
		t.Fatal(err)
	}
}
