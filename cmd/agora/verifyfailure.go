package main

import (
	"errors"

	"github.com/agora-ledger/agora/internal/cli"
)

// isVerifyFailure reports whether err is a watcher's verdict that the
// node's answer is not proven (a *cli.ExitError), which ends 'agora
// events watch' rather than being retried.
func isVerifyFailure(err error) bool {
	var e *cli.ExitError
	return errors.As(err, &e)
}
