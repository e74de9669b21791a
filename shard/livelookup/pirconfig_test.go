package livelookup

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every configuration Config makes, for both kinds, below, at and past a
// shard boundary, passes PIRProcessDatabase's rules: its required keys,
// databaseType keyword, and sharding with exactly shardCount.
func TestLiveConfigPassesPIRProcessDatabase(t *testing.T) {
	for _, kind := range []string{"block", "identity"} {
		for _, rows := range []int64{0, 1, IdentityEntriesPerShard, IdentityEntriesPerShard + 1, BlockEntriesPerShard, BlockEntriesPerShard + 1, 7_000_001} {
			b, shards := Config(kind, rows, "live-pir")
			if err := CheckPIRConfig(b); err != nil {
				t.Errorf("%s, %d rows: %v\n%s", kind, rows, err, b)
			}
			var c map[string]any
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			file, _ := filesOf(kind)
			want := map[string]any{"databaseType": "keyword", "inputDatabase": file, "rlweParameters": RLWEParameters,
				"sharding": map[string]any{"shardCount": float64(shards)}}
			for k, v := range want {
				if got, _ := json.Marshal(c[k]); string(got) != mustJSON(t, v) {
					t.Errorf("%s, %d rows: %s is %s, want %s", kind, rows, k, got, mustJSON(t, v))
				}
			}
			if shards != ShardCount(kind, rows) {
				t.Errorf("%s, %d rows: %d shards, ShardCount says %d", kind, rows, shards, ShardCount(kind, rows))
			}
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// CheckPIRConfig refuses what the tool refuses: each required key
// missing (one at a time), a databaseType it does not know or that is not
// an export's, and sharding with none or both of its two ways.
func TestLiveCheckPIRConfig(t *testing.T) {
	good := `{"rlweParameters":"n_4096_logq_27_28_28_logt_5","inputDatabase":"block.binpb","databaseType":"keyword",` +
		`"outputDatabase":"../p/block-SHARD_ID.bin","outputPirParameters":"../p/block-SHARD_ID.params.txtpb","sharding":{"shardCount":1},"trialsPerShard":1}`
	if err := CheckPIRConfig([]byte(good)); err != nil {
		t.Fatalf("good: %v", err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal([]byte(good), &m)
		f(m)
		return mustJSON(t, m)
	}
	cases := map[string]struct{ conf, want string }{
		"not json":           {`{"inputDatabase":`, "not a JSON object"},
		"an array":           {`[]`, "not a JSON object"},
		"type null":          {edit(func(m map[string]any) { m["databaseType"] = nil }), `"databaseType" is null`},
		"type a number":      {edit(func(m map[string]any) { m["databaseType"] = 1 }), `"databaseType" is 1`},
		"type unknown":       {edit(func(m map[string]any) { m["databaseType"] = "Keyword" }), `databaseType "Keyword": want keyword or index`},
		"type index":         {edit(func(m map[string]any) { m["databaseType"] = "index" }), "KeywordDatabase"},
		"sharding both":      {edit(func(m map[string]any) { m["sharding"] = map[string]any{"shardCount": 2, "entryCountPerShard": 5} }), "holds 2"},
		"sharding neither":   {edit(func(m map[string]any) { m["sharding"] = map[string]any{} }), "holds 0"},
		"sharding a string":  {edit(func(m map[string]any) { m["sharding"] = "1" }), "not an object"},
		"shardCount 0":       {edit(func(m map[string]any) { m["sharding"] = map[string]any{"shardCount": 0} }), "at least 1"},
		"entryCount 1.5":     {edit(func(m map[string]any) { m["sharding"] = map[string]any{"entryCountPerShard": 1.5} }), "at least 1"},
		"entryCount instead": {edit(func(m map[string]any) { m["sharding"] = map[string]any{"entryCountPerShard": 50000} }), ""},
	}
	for _, k := range PIRRequiredKeys {
		cases["no "+k] = struct{ conf, want string }{edit(func(m map[string]any) { delete(m, k) }), `no "` + k + `"`}
	}
	for name, tc := range cases {
		err := CheckPIRConfig([]byte(tc.conf))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want nil", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
}
