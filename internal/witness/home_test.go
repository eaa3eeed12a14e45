package witness_test

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/witness"
)

// TestParseLogs: a log is named by its verifier key, whose name is its
// origin, or by ORIGIN=KEY; keys of one origin make one log, in the
// order the origins first come; anything else is refused, quoted.
func TestParseLogs(t *testing.T) {
	key := func(name string) string {
		_, vkey, err := note.GenerateKey(rand.Reader, name)
		if err != nil {
			t.Fatal(err)
		}
		return vkey
	}
	a1, a2, b := key("log.a"), key("log.a"), key("log.b")
	tests := []struct {
		desc    string
		values  []string
		want    []witness.Log
		wantErr string
	}{
		{desc: "one key", values: []string{a1}, want: []witness.Log{{Origin: "log.a", Keys: []string{a1}}}},
		{desc: "two logs, two keys of one", values: []string{a1, b, a2},
			want: []witness.Log{{Origin: "log.a", Keys: []string{a1, a2}}, {Origin: "log.b", Keys: []string{b}}}},
		{desc: "another origin", values: []string{"other.log=" + b},
			want: []witness.Log{{Origin: "other.log", Keys: []string{b}}}},
		{desc: "not a key", values: []string{"nonsense"}, wantErr: `"nonsense": give a log's verifier key`},
		{desc: "origin with a bad key", values: []string{"o=nonsense"}, wantErr: `"o=nonsense": "nonsense" is not a verifier key`},
		{desc: "empty origin", values: []string{"=" + b}, wantErr: "give a log's verifier key"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := witness.ParseLogs(tt.values)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLogs: %v, %v; want the error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLogs: %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestHomeReadConfig: a home without witness.json says so with
// fs.ErrNotExist; witness.json is read strictly.
func TestHomeReadConfig(t *testing.T) {
	h := witness.Home(t.TempDir())
	if _, err := h.ReadConfig(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadConfig of an empty home: %v, want fs.ErrNotExist", err)
	}
	for _, tt := range []struct {
		desc, file, want string
	}{
		{desc: "a name", file: `{"name": "witness.example.org"}`, want: "witness.example.org"},
		{desc: "an unknown field", file: `{"name": "w", "nmae": "x"}`, want: "unknown field"},
		{desc: "not JSON", file: `name = w`, want: "invalid character"},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			if err := os.WriteFile(h.ConfigFile(), []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := h.ReadConfig()
			if err != nil {
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("ReadConfig: %v, want %q", err, tt.want)
				}
				return
			}
			if c.Name != tt.want {
				t.Errorf("ReadConfig: name %q, want %q", c.Name, tt.want)
			}
		})
	}
	if name := witness.DefaultName(); strings.ContainsAny(name, " +") {
		t.Errorf("DefaultName %q holds a space or '+'", name)
	}
}
