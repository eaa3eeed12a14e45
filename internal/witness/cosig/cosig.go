// Package cosig checks a transparency log's checkpoints against the
// witnesses a client trusts: the log's signature, and C2SP
// tlog-cosignature/v1 cosignatures from a quorum of the witnesses. It
// does no I/O, so that package verify, and a browser, can use it; the
// witness itself, which cosigns and serves HTTP, is package witness.
package cosig

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/tlog"
)

// ErrNoQuorum means a checkpoint does not carry valid cosignatures from
// enough of the witnesses the client trusts. Fetch a newer checkpoint, or
// wait for the log to gather cosignatures.
var ErrNoQuorum = errors.New("not enough witness cosignatures")

// NewVerifier returns the verifier of a witness's cosigner verifier key,
// "<name>+<hash>+<base64(type || public key)>", a tlog-cosignature/v1 key
// of type 0x04 (Ed25519, as GenerateKey and KeyPair make) or ML-DSA-44.
// It refuses a key whose hash is not its own, which is also what a log's
// note signing key (type 0x01) given in its place looks like.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return nil, fmt.Errorf("cosig: key %q: %w (want <name>+<hash>+<base64 key>, as 'agora witness init' prints)", vkey, err)
	}
	if err := tlog.CheckVerifierKey(vkey); err != nil {
		return nil, fmt.Errorf("cosig: %w", err)
	}
	_, rest, _ := strings.Cut(vkey, "+")
	hash16, _, _ := strings.Cut(rest, "+")
	if h, err := strconv.ParseUint(hash16, 16, 32); err != nil || uint32(h) != v.KeyHash() {
		return nil, fmt.Errorf("cosig: key %q: its hash is not the cosigner key's (%08x); is it a log's key rather than a witness's?", vkey, v.KeyHash())
	}
	return v, nil
}

// VerifyCosigned opens a signed checkpoint of the log whose verifier is
// logKey (see tlog.Open) and checks that at least quorum of the witnesses
// whose cosigner verifier keys are witnessKeys cosigned it with
// tlog-cosignature/v1. Signatures by other keys are ignored; a signature
// by a known key that does not verify fails the whole checkpoint, as
// C2SP signed-note recommends. The error wraps ErrNoQuorum when the
// checkpoint is valid but under-cosigned.
func VerifyCosigned(signedCheckpoint []byte, logKey note.Verifier, witnessKeys []string, quorum int) (*tlog.Checkpoint, error) {
	if quorum < 1 || quorum > len(witnessKeys) {
		return nil, fmt.Errorf("cosig: a quorum of %d out of %d witnesses is impossible", quorum, len(witnessKeys))
	}
	verifiers := []note.Verifier{logKey}
	type id struct {
		name string
		hash uint32
	}
	witnesses := map[id]bool{}
	for _, k := range witnessKeys {
		v, err := NewVerifier(k)
		if err != nil {
			return nil, err
		}
		wid := id{v.Name(), v.KeyHash()}
		if witnesses[wid] || wid == (id{logKey.Name(), logKey.KeyHash()}) {
			return nil, fmt.Errorf("cosig: witness key %q is listed twice", k)
		}
		witnesses[wid] = true
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(signedCheckpoint, note.VerifierList(verifiers...))
	if err != nil {
		return nil, fmt.Errorf("cosig: open checkpoint: %w", err)
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
		return nil, fmt.Errorf("cosig: checkpoint is not signed by the log %q", logKey.Name())
	}
	c, err := tlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if c.Origin != logKey.Name() {
		return nil, fmt.Errorf("cosig: checkpoint origin %q is not the log %q", c.Origin, logKey.Name())
	}
	if cosigned < quorum {
		return nil, fmt.Errorf("cosig: %w: %d of the %d needed", ErrNoQuorum, cosigned, quorum)
	}
	return c, nil
}
