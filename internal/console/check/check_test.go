package check

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
)

// TestCheckpointUnderValidators checks a network's checkpoint under the
// validator set the reader's browser trusts: the report says how many of
// them signed, and a checkpoint that two thirds of the power did not sign,
// or an old one, fails.
func TestCheckpointUnderValidators(t *testing.T) {
	const chain = "net-1"
	var vs []ledger.Validator
	var signers []note.Signer
	for i := range 4 {
		seed := sha256.Sum256([]byte(fmt.Sprint("console validator ", i)))
		priv := ed25519.NewKeyFromSeed(seed[:])
		s, err := tlog.NewSigner(ledger.Origin(chain), priv)
		if err != nil {
			t.Fatal(err)
		}
		vkey, err := tlog.VerifierKey(ledger.Origin(chain), priv.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, ledger.Validator{Name: fmt.Sprint("org", i), PubKey: seed[:], Power: 10, NoteKey: vkey})
		signers = append(signers, s)
	}
	now := time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)
	signed := func(at time.Time, by ...note.Signer) []byte {
		h := ledger.Header{ChainID: chain, Height: 1204, Time: at.UnixMilli(), LogSize: 7,
			LogRoot: make([]byte, 32), AppHash: make([]byte, 32)}
		text, err := h.Checkpoint().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msg, err := note.Sign(&note.Note{Text: string(text)}, by...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	trust, err := json.Marshal(Trust{Validators: vs})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		desc    string
		signed  []byte
		ok      bool
		signers string
		err     string
	}{
		{desc: "three of four", signed: signed(now, signers[:3]...), ok: true, signers: "signed by 3 of 4 validators"},
		{desc: "all four", signed: signed(now, signers...), ok: true, signers: "signed by 4 of 4 validators"},
		{desc: "two of four", signed: signed(now, signers[:2]...), err: "more than two thirds"},
		{desc: "an hour old", signed: signed(now.Add(-time.Hour), signers...), signers: "signed by 4 of 4 validators", err: "stale"},
	} {
		var r Report
		if err := json.Unmarshal([]byte(Checkpoint(c.signed, string(trust), now.UnixMilli())), &r); err != nil {
			t.Fatal(err)
		}
		if r.OK != c.ok || r.Signers != c.signers || !strings.Contains(r.Error, c.err) {
			t.Errorf("%s: %+v, want ok %v, signers %q, an error with %q", c.desc, r, c.ok, c.signers, c.err)
		}
		if c.ok && r.Height != 1204 {
			t.Errorf("%s: height %d, want 1204", c.desc, r.Height)
		}
	}
}
