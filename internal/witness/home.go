package witness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/sumdb/note"
)

// A Home is the directory a witness keeps its files in:
//
//	witness.json        its Config, written once
//	witness-state.json  what it cosigned (a FileState)
//	keys/witness.json   its Ed25519 key (KeyName, in a keystore)
type Home string

// KeyName is the keystore name of a witness's key.
const KeyName = "witness"

// Config is the content of witness.json.
type Config struct {
	Name string `json:"name"` // the witness's name in its cosignatures
}

// ConfigFile is the path of the witness's witness.json.
func (h Home) ConfigFile() string { return filepath.Join(string(h), "witness.json") }

// StateFile is the path of the witness's FileState.
func (h Home) StateFile() string { return filepath.Join(string(h), "witness-state.json") }

// ReadConfig reads witness.json strictly (unknown fields are errors); an
// error wraps fs.ErrNotExist if the home has none.
func (h Home) ReadConfig() (*Config, error) {
	b, err := os.ReadFile(h.ConfigFile())
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", h.ConfigFile(), err)
	}
	return &c, nil
}

// DefaultName is witness.<hostname>, with what a key name may not hold
// replaced, or agora-witness if the host has no name.
func DefaultName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "agora-witness"
	}
	host = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '+' || !unicode.IsPrint(r) {
			return '-'
		}
		return r
	}, host)
	return "witness." + host
}

// ParseLogs reads the logs to witness, each value a log's verifier key
// (its name is the log's origin) or ORIGIN=KEY. Keys of one origin make
// one log, in the order the origins first come. An error quotes the
// value it is about first.
func ParseLogs(values []string) ([]Log, error) {
	var logs []Log
	index := map[string]int{}
	for _, s := range values {
		origin, key := "", s
		if v, err := note.NewVerifier(s); err == nil {
			origin = v.Name()
		} else if o, k, ok := strings.Cut(s, "="); ok && o != "" {
			if _, err := note.NewVerifier(k); err != nil {
				return nil, fmt.Errorf("%q: %q is not a verifier key (<name>+<hash>+<base64 key>)", s, k)
			}
			origin, key = o, k
		} else {
			return nil, fmt.Errorf("%q: give a log's verifier key (<name>+<hash>+<base64 key>), or ORIGIN=KEY", s)
		}
		i, ok := index[origin]
		if !ok {
			i = len(logs)
			index[origin] = i
			logs = append(logs, Log{Origin: origin})
		}
		logs[i].Keys = append(logs[i].Keys, key)
	}
	return logs, nil
}

// Serve serves w (NewHandler) on ln until ctx is done, then shuts down,
// letting requests in flight finish for at most 5 s. It returns the
// server's error, or the shutdown's.
func Serve(ctx context.Context, ln net.Listener, w *Witness, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           NewHandler(w, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	log.Info("witness stopped")
	return err
}
