package livelookup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The rules of Apple's PIRProcessDatabase for its configuration file, from
// apple/swift-homomorphic-encryption, Sources/PIRProcessDatabase/main.swift
// as changed on 2026-01-26 (index databases added): the file decodes, with
// Swift's JSONDecoder, into an Arguments struct whose non-optional fields
// are PIRRequiredKeys (a missing one fails the decoding with a missing-key
// error), databaseType is one of PIRDatabaseTypes, and sharding holds
// exactly one of shardCount and entryCountPerShard. Apple's example
// configurations (apple/pir-service-example,
// TestingInstructionsLiveCallerIdLookup.md) say "databaseType": "keyword".
// docs/LIVE-LOOKUP.md §5 cites the same source: when the tool changes,
// these and CheckPIRConfig change with it.
var (
	PIRRequiredKeys  = []string{"inputDatabase", "outputDatabase", "outputPirParameters", "rlweParameters", "databaseType"}
	PIRDatabaseTypes = []string{PIRDatabaseKeyword, "index"}
)

// PIRDatabaseKeyword is the databaseType of a KeywordDatabase input, the
// only kind an export writes.
const PIRDatabaseKeyword = "keyword"

// ShardCount is the sharding rule of the PIRProcessDatabase
// configurations: as many shards as it takes to hold at most
// BlockEntriesPerShard (block) or IdentityEntriesPerShard (identity) rows
// each, at least one. Apple's example asks for those averages with
// entryCountPerShard; calldir writes the count itself (shardCount), so
// the manifest and the output file names say how many shards there are.
// More shards make each query cheaper and tell the server more: it learns
// which shard a query hit, one of rows/ShardCount keywords.
func ShardCount(kind string, rows int64) int {
	per := int64(BlockEntriesPerShard)
	if kind == "identity" {
		per = IdentityEntriesPerShard
	}
	return int(max(1, (rows+per-1)/per))
}

// PIRConfig is a PIRProcessDatabase configuration.
type PIRConfig struct {
	RLWEParameters      string      `json:"rlweParameters"`
	InputDatabase       string      `json:"inputDatabase"`
	DatabaseType        string      `json:"databaseType"` // PIRDatabaseKeyword
	OutputDatabase      string      `json:"outputDatabase"`
	OutputPirParameters string      `json:"outputPirParameters"`
	Sharding            PIRSharding `json:"sharding"`
	TrialsPerShard      int         `json:"trialsPerShard"`
}

// PIRSharding is the sharding of a PIRConfig.
type PIRSharding struct {
	ShardCount int `json:"shardCount"`
}

// Config is the PIRProcessDatabase configuration of a database of kind
// with rows rows. Paths are relative to the export directory, where
// PIRProcessDatabase runs; its outputs go to the directory pirDir beside
// it (not inside: the export directory holds only what its manifest
// lists, so that the next export may replace it). SHARD_ID is in the
// output names even with one shard, so they do not change when a growing
// list crosses into two. Every configuration it makes passes
// CheckPIRConfig (pirconfig_test.go).
func Config(kind string, rows int64, pirDir string) ([]byte, int) {
	file, _ := filesOf(kind)
	stem := strings.TrimSuffix(file, ".binpb")
	shards := ShardCount(kind, rows)
	c := PIRConfig{
		RLWEParameters:      RLWEParameters,
		InputDatabase:       file,
		DatabaseType:        PIRDatabaseKeyword,
		OutputDatabase:      "../" + pirDir + "/" + stem + "-SHARD_ID.bin",
		OutputPirParameters: "../" + pirDir + "/" + stem + "-SHARD_ID.params.txtpb",
		Sharding:            PIRSharding{ShardCount: shards},
		TrialsPerShard:      1,
	}
	b, _ := json.MarshalIndent(c, "", "  ") // plain struct: cannot fail
	return append(b, '\n'), shards
}

// CheckPIRConfig returns what PIRProcessDatabase would refuse in the
// configuration b, by the rules above, or what an export's configuration
// must not say (a databaseType other than keyword: its input is a
// KeywordDatabase); nil when it has nothing to refuse. Keys it does not
// know are let through, as JSONDecoder does.
func CheckPIRConfig(b []byte) error {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("PIRProcessDatabase configuration: not a JSON object: %w", err)
	}
	var bad []string
	strs := map[string]string{}
	for _, k := range PIRRequiredKeys {
		raw, ok := c[k]
		if !ok {
			bad = append(bad, fmt.Sprintf("no %q (a required key)", k))
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			bad = append(bad, fmt.Sprintf("%q is %s, not a string", k, raw))
			continue
		}
		strs[k] = v
	}
	if t, ok := strs["databaseType"]; ok {
		switch {
		case !slices.Contains(PIRDatabaseTypes, t):
			bad = append(bad, fmt.Sprintf("databaseType %q: want %s", t, strings.Join(PIRDatabaseTypes, " or ")))
		case t != PIRDatabaseKeyword:
			bad = append(bad, fmt.Sprintf("databaseType %q: an export's databases are KeywordDatabase files (%q)", t, PIRDatabaseKeyword))
		}
	}
	if raw, ok := c["sharding"]; ok {
		if msg := checkSharding(raw); msg != "" {
			bad = append(bad, msg)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("PIRProcessDatabase configuration: %s", strings.Join(bad, "; "))
	}
	return nil
}

// checkSharding checks that sharding holds exactly one of shardCount and
// entryCountPerShard, an integer of at least 1 (calldir's own bound: no
// count of 0 makes a database).
func checkSharding(raw json.RawMessage) string {
	var s map[string]json.RawMessage
	if err := json.Unmarshal(raw, &s); err != nil || s == nil {
		return fmt.Sprintf("sharding is %s, not an object", raw)
	}
	var set []string
	for _, k := range []string{"shardCount", "entryCountPerShard"} {
		v, ok := s[k]
		if !ok {
			continue
		}
		set = append(set, k)
		var n int64
		if err := json.Unmarshal(v, &n); err != nil || n < 1 {
			return fmt.Sprintf("sharding %s is %s: want an integer of at least 1", k, v)
		}
	}
	if len(set) != 1 {
		return fmt.Sprintf("sharding holds %d of shardCount and entryCountPerShard (%s): want exactly one", len(set), strings.Join(set, ", "))
	}
	return ""
}
