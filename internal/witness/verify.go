package witness

import (
	"errors"
	"fmt"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/tlog"
)

// ErrNoQuorum means a checkpoint does not carry valid cosignatures from
// enough of the witnesses the client trusts. Fetch a newer checkpoint, or
// wait for the log to gather cosignatures.
var ErrNoQuorum = errors.New("not enough witness cosignatures")

// VerifyCosigned opens a signed checkpoint of the log whose verifier is
// logKey (see tlog.Open) and checks that at least quorum of the witnesses
// whose cosigner verifier keys are witnessKeys cosigned it with
// tlog-cosignature/v1. Signatures by other keys are ignored; a signature
// by a known key that does not verify fails the whole checkpoint, as
// C2SP signed-note recommends. The error wraps ErrNoQuorum when the
// checkpoint is valid but under-cosigned.
func VerifyCosigned(signedCheckpoint []byte, logKey note.Verifier, witnessKeys []string, quorum int) (*tlog.Checkpoint, error) {
	if quorum < 1 || quorum > len(witnessKeys) {
		return nil, fmt.Errorf("witness: a quorum of %d out of %d witnesses is impossible", quorum, len(witnessKeys))
	}
	verifiers := []note.Verifier{logKey}
	type id struct {
		name string
		hash uint32
	}
	witnesses := map[id]bool{}
	for _, k := range witnessKeys {
		v, err := fnote.NewVerifierForCosignatureV1(k)
		if err != nil {
			return nil, fmt.Errorf("witness: witness key %q: %w", k, err)
		}
		wid := id{v.Name(), v.KeyHash()}
		if witnesses[wid] || wid == (id{logKey.Name(), logKey.KeyHash()}) {
			return nil, fmt.Errorf("witness: witness key %q is listed twice", k)
		}
		witnesses[wid] = true
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(signedCheckpoint, note.VerifierList(verifiers...))
	if err != nil {
		return nil, fmt.Errorf("witness: open checkpoint: %w", err)
	}
	logSigned, cosigned := false, 0
	for _, s := range n.Sigs {
		switch sid := (id{s.Name, s.Hash}); {
		case sid == id{logKey.Name(), logKey.KeyHash()}:
			logSigned = true
		case witnesses[sid]:
			cosigned++ // note.Open drops repeated signatures by one key
		}
	}
	if !logSigned {
		return nil, fmt.Errorf("witness: checkpoint is not signed by the log %q", logKey.Name())
	}
	c, err := tlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if c.Origin != logKey.Name() {
		return nil, fmt.Errorf("witness: checkpoint origin %q is not the log %q", c.Origin, logKey.Name())
	}
	if cosigned < quorum {
		return nil, fmt.Errorf("witness: %w: %d of the %d needed", ErrNoQuorum, cosigned, quorum)
	}
	return c, nil
}
