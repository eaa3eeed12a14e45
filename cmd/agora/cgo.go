//go:build cgo

package main

// builtWithCgo says this binary was built with cgo, in which case
// Pebble's block cache and memtables live in the C allocator (see
// warnCgo).
const builtWithCgo = true
