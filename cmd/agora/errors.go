package main

import (
	"fmt"
	"io"

	"github.com/agora-ledger/agora/internal/ledger"
)

// printError prints a command's error and, on a line of its own, the hint
// it carries (ledger.WithHint; a node's answer carries the node's hint).
func printError(w io.Writer, cmd string, err error) {
	fmt.Fprintf(w, "agora %s: %v\n", cmd, err)
	if h := ledger.HintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// usageHint is usageError with a hint.
func usageHint(hint, format string, a ...any) error {
	return &exitError{code: 2, err: ledger.WithHint(fmt.Errorf(format, a...), hint)}
}

func (e *exitError) Unwrap() error { return e.err }
