//go:build !cgo

package main

// haveCgo: built without cgo, replay, explore and doctor refuse to start
// (cgogate.go).
const haveCgo = false
