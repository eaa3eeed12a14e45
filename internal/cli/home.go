package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"

	"golang.org/x/term"

	"github.com/agora-ledger/agora/internal/keystore"
)

// Keys is the keystore of the home directory dir (its keys/).
func Keys(dir string) *keystore.Store {
	return keystore.Open(filepath.Join(dir, "keys"))
}

// DefaultHome is AGORA_HOME, or ~/.agora.
func DefaultHome() string {
	if h := os.Getenv("AGORA_HOME"); h != "" {
		return h
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return ".agora"
	}
	return filepath.Join(dir, ".agora")
}

// DefaultNode is AGORA_NODE, or the local node's API.
func DefaultNode() string {
	if n := os.Getenv("AGORA_NODE"); n != "" {
		return n
	}
	return "http://127.0.0.1:7780"
}

// HomeFlag defines --home on fs.
func HomeFlag(fs *flag.FlagSet) *string {
	return fs.String("home", DefaultHome(), "home directory (env AGORA_HOME)")
}

// NodeFlag defines --node on fs.
func NodeFlag(fs *flag.FlagSet) *string {
	return fs.String("node", DefaultNode(), "node API URL (env AGORA_NODE)")
}

// Passphrase returns AGORA_PASSPHRASE or asks on the terminal.
func Passphrase(stderr io.Writer, prompt string, confirm bool) (string, error) {
	if p, ok := os.LookupEnv("AGORA_PASSPHRASE"); ok {
		return p, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no passphrase: set AGORA_PASSPHRASE, or run from a terminal to be asked")
	}
	fmt.Fprint(stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if confirm {
		fmt.Fprint(stderr, "Repeat passphrase: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(again) != string(p) {
			return "", errors.New("the passphrases differ")
		}
	}
	return string(p), nil
}

// StartCPUProfile writes a CPU profile of the process to path (none if
// path is ""), until the returned stop is called: the --cpuprofile flag
// of long runs.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
