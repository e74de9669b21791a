//go:build !unix

package channel

const nonBlock = 0
