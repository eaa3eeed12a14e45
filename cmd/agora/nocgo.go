//go:build !cgo

package main

// builtWithCgo says this binary was built with cgo (see warnCgo).
const builtWithCgo = false
