//go:build cgo

package main

// haveCgo: a cgo build has go-sqlite3's driver and the crash VFS.
const haveCgo = true
