//go:build !unix

package sortx

func freeSpace(string) int64 { return -1 }
