// Package cli is the machinery that every command of 'agora' shares: the
// command type and its registry line, exit statuses and errors with
// hints, flags, the home directory's keystore, signing and submitting a
// transaction, and proven queries with the trust flags that say whom the
// caller trusts. A module's commands live in its companion package
// (internal/X/Xcli), which builds on this one; cmd/agora wires them.
//
// It imports no module package: a module's commands reach the module
// only through ledger's interfaces (ledger.Module, ledger.MsgType).
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
)

// A RunFunc runs a command with the arguments after its name.
type RunFunc func(args []string, stdout, stderr io.Writer) error

// A Command is one top-level command and its line in the usage.
type Command struct {
	Name    string  // the word after "agora"
	Run     RunFunc // runs it with the arguments after Name
	Usage   string  // what follows "agora " in the usage; "" for no line
	Summary string  // what it does, for the usage
}

// ExitError carries an exit status; a plain error exits 1.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is an error in how the command was called: exit status 2.
func UsageError(format string, a ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, a...)}
}

// UsageHint is UsageError with a hint.
func UsageHint(hint, format string, a ...any) error {
	return &ExitError{Code: 2, Err: ledger.WithHint(fmt.Errorf(format, a...), hint)}
}

// PrintError prints a command's error and, on a line of its own, the hint
// it carries (ledger.WithHint; a node's answer carries the node's hint).
func PrintError(w io.Writer, cmd string, err error) {
	fmt.Fprintf(w, "agora %s: %v\n", cmd, err)
	if h := ledger.HintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// IsHelp reports whether arg asks for help rather than naming a command.
func IsHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// NewFlags returns a FlagSet for a subcommand with its usage text.
func NewFlags(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, strings.TrimLeft(text, "\n"))
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses flags, allowing them before and after positional arguments,
// and returns the positional arguments.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &ExitError{Code: 2, Err: errors.New("")}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// ShowArgs parses the arguments of a "GROUP show ARG" command: -h prints
// its usage, anything but "show" or a count of positional arguments
// outside [lo, hi] is a usage error naming synopsis.
func ShowArgs(fs *flag.FlagSet, args []string, synopsis string, lo, hi int) ([]string, error) {
	if len(args) > 0 && IsHelp(args[0]) {
		fs.Usage()
		return nil, flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "show" {
		return nil, UsageError("usage: agora %s", synopsis)
	}
	pos, err := Parse(fs, args[1:])
	if err != nil {
		return nil, err
	}
	if len(pos) < lo || len(pos) > hi {
		return nil, UsageError("usage: agora %s", synopsis)
	}
	return pos, nil
}

// StringList is a repeatable string flag.
type StringList []string

func (s *StringList) String() string     { return fmt.Sprint(*s) }
func (s *StringList) Set(v string) error { *s = append(*s, v); return nil }

// PrintJSON prints v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
