package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/calldir/calldir/shard/livelookup"
)

// Every PIRProcessDatabase configuration an export writes (export
// live-lookup and compile --live-lookup, blocking and identification, one
// shard and several) has the keys the tool requires and follows its
// value rules (docs/LIVE-LOOKUP.md §5 cites the tool's source). The keys
// are listed here independently of shard/livelookup, and the files are
// also checked by livelookup.CheckPIRConfig.
func TestExportConfigsPassPIRProcessDatabase(t *testing.T) {
	t.Chdir(t.TempDir())
	liveBuilds(t)
	var many strings.Builder // 50,001 numbers: two PIR shards
	for i := range 50_001 {
		fmt.Fprintf(&many, "+14152%06d\n", i)
	}
	mustWrite(t, "many.txt", many.String())
	mustCLI(t, 0, "export", "live-lookup", "-q", "-o", "live", "blk", "ids")
	mustCLI(t, 0, "compile", "-q", "-o", "manyb", "--live-lookup", "live2", "many.txt")
	required := []string{"inputDatabase", "outputDatabase", "outputPirParameters", "rlweParameters", "databaseType"}
	for _, c := range []struct {
		path   string
		input  string
		shards float64
	}{
		{"live/block-config.json", "block.binpb", 1},
		{"live/identity-config.json", "identity.binpb", 1},
		{"live2/block-config.json", "block.binpb", 2},
	} {
		b := mustRead(t, c.path)
		var conf map[string]any
		if err := json.Unmarshal([]byte(b), &conf); err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		for _, k := range required {
			if s, ok := conf[k].(string); !ok || s == "" {
				t.Errorf("%s: %s is %v, want a string", c.path, k, conf[k])
			}
		}
		if conf["databaseType"] != "keyword" || conf["inputDatabase"] != c.input {
			t.Errorf("%s: databaseType %v, inputDatabase %v: want keyword, %s", c.path, conf["databaseType"], conf["inputDatabase"], c.input)
		}
		sharding, _ := conf["sharding"].(map[string]any)
		if len(sharding) != 1 || sharding["shardCount"] != c.shards {
			t.Errorf("%s: sharding %v, want exactly shardCount %v", c.path, conf["sharding"], c.shards)
		}
		if err := livelookup.CheckPIRConfig([]byte(b)); err != nil {
			t.Errorf("%s: %v", c.path, err)
		}
	}
	mustCLI(t, 0, "validate", "live")
	mustCLI(t, 0, "validate", "live2")
}
