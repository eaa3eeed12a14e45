package witness_test

import (
	"bytes"
	"errors"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/witness"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

func TestVerifyCosigned(t *testing.T) {
	l := newLog(t).grow("entry", 20)
	cfg := witness.Log{Origin: origin, Keys: []string{l.vkey}}
	ws := []*env{newEnv(t, cfg), newEnv(t, cfg), newEnv(t, cfg), newEnv(t, cfg)}
	keys := []string{ws[0].w.VerifierKey(), ws[1].w.VerifierKey(), ws[2].w.VerifierKey()} // ws[3] is not trusted
	msg := l.checkpoint(20)
	cosigs := make([][]byte, len(ws))
	for i, e := range ws {
		c, err := e.w.AddCheckpoint(0, nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		cosigs[i] = c
	}
	with := func(m []byte, lines ...[]byte) []byte {
		return append(bytes.Clone(m), bytes.Join(lines, nil)...)
	}
	corrupt := bytes.Clone(cosigs[1])
	corrupt[len(corrupt)-5] ^= 1
	if corrupt[len(corrupt)-5] == '\n' || corrupt[len(corrupt)-5] == '=' {
		corrupt[len(corrupt)-5] = 'A'
	}
	text := msg[:bytes.LastIndex(msg, []byte("\n\n"))+1]
	onlyCosigned := with(append(bytes.Clone(text), '\n'), cosigs[0], cosigs[1])
	// A cosignature made by transparency-dev/formats' signer from our
	// witness key counts like ours.
	fsigner, err := fnote.NewSignerForCosignatureV1(ws[2].skey)
	if err != nil {
		t.Fatalf("formats refuses our witness key: %v", err)
	}
	byFormats, err := note.Sign(&note.Note{Text: string(text)}, fsigner)
	if err != nil {
		t.Fatal(err)
	}
	formatsCosig := byFormats[len(text)+1:]

	tests := []struct {
		name   string
		msg    []byte
		quorum int
		keys   []string
		ok     bool
		want   error // for a refusal, an error it must wrap, if any
	}{
		{"2 of 3", with(msg, cosigs[0], cosigs[1]), 2, keys, true, nil},
		{"3 of 3", with(msg, cosigs[2], cosigs[1], cosigs[0]), 3, keys, true, nil},
		{"formats' cosignature", with(msg, cosigs[0], formatsCosig), 2, keys, true, nil},
		{"untrusted witness ignored", with(msg, cosigs[3], cosigs[0], cosigs[1]), 2, keys, true, nil},
		{"2 of 3 short", with(msg, cosigs[0]), 2, keys, false, cosig.ErrNoQuorum},
		{"3 of 3 short", with(msg, cosigs[0], cosigs[1]), 3, keys, false, cosig.ErrNoQuorum},
		{"one witness twice", with(msg, cosigs[0], cosigs[0]), 2, keys, false, cosig.ErrNoQuorum},
		{"untrusted witness does not count", with(msg, cosigs[0], cosigs[3]), 2, keys, false, cosig.ErrNoQuorum},
		{"no cosignatures", msg, 1, keys, false, cosig.ErrNoQuorum},
		{"corrupt cosignature", with(msg, cosigs[0], corrupt, cosigs[2]), 2, keys, false, nil},
		{"no log signature", onlyCosigned, 2, keys, false, nil},
		{"cosignatures moved to another checkpoint", with(l.checkpoint(19), cosigs[0], cosigs[1]), 2, keys, false, nil},
		{"quorum 0", with(msg, cosigs[0]), 0, keys, false, nil},
		{"quorum beyond the witnesses", with(msg, cosigs[0]), 4, keys, false, nil},
		{"duplicate witness key", with(msg, cosigs[0], cosigs[1]), 2, []string{keys[0], keys[0]}, false, nil},
		{"bad witness key", with(msg, cosigs[0]), 1, []string{"nonsense"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cosig.VerifyCosigned(tt.msg, l.verifier(), tt.keys, tt.quorum)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if c.Size != 20 || c.Origin != origin {
					t.Fatalf("checkpoint %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %+v", c)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want == nil && errors.Is(err, cosig.ErrNoQuorum) {
				t.Fatalf("got %v, want a harder failure than ErrNoQuorum", err)
			}
		})
	}

	// Another log's key does not open it.
	other := newLogAt(t, "other.example/log", "other")
	if _, err := cosig.VerifyCosigned(with(msg, cosigs[0]), other.verifier(), keys, 1); err == nil {
		t.Error("opened with another log's key")
	}
}
