package custodycli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/agora-ledger/agora/internal/keystore"
)

// state is what a signer keeps of its wallets, in HOME/custody/KEY.age:
// JSON encrypted with age to the key's passphrase (scrypt), rewritten
// whole (to a temporary file, then renamed) on every change, so a share
// is never on disk in the clear.
type state struct {
	path, pass string
	// dirty is true while a change is not saved yet.
	dirty   bool
	Wallets map[string]*secrets `json:"wallets"`
}

// secrets are one wallet's secrets of this holder.
type secrets struct {
	Suite   string `json:"suite"`
	Session []byte `json:"session"`
	// HPKE is the X25519 private key its DKG shares are sealed to, and
	// Seed the secret its DKG polynomial is drawn from; both are deleted
	// once Key is kept.
	HPKE []byte `json:"hpke,omitempty"`
	Seed []byte `json:"seed,omitempty"`
	// Key is the frost.KeyPackage: its signing share.
	Key []byte `json:"key,omitempty"`
	// Done is the request up to which (all before included) this holder
	// has nothing more to do.
	Done uint64 `json:"done,omitempty"`
	// Nonces are the secret nonces (frost.Nonces.Bytes) this holder
	// committed to, by request, saved before its commitment is posted
	// and erased as it signs; Shares the shares made with them, kept
	// until the ledger has them.
	Nonces map[uint64][]byte `json:"nonces,omitempty"`
	Shares map[uint64][]byte `json:"shares,omitempty"`
	// Rotation is the rotation this holder takes part in, RotHPKE the
	// X25519 key its new shares are sealed to and RotSeed the secret its
	// resharing polynomial is drawn from (both deleted when the rotation
	// ends), and Next its new key package until the rotation is done.
	Rotation uint64 `json:"rotation,omitempty"`
	RotHPKE  []byte `json:"rot_hpke,omitempty"`
	RotSeed  []byte `json:"rot_seed,omitempty"`
	Next     []byte `json:"next,omitempty"`
}

func statePath(home, key string) string { return filepath.Join(home, "custody", key+".age") }

// openState reads the signer's state for key, or starts an empty one.
func openState(home, key, pass string) (*state, error) {
	st := &state{path: statePath(home, key), pass: pass, Wallets: map[string]*secrets{}}
	b, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(b), id)
	if err != nil {
		return nil, fmt.Errorf("custody state %s: %w", st.path, err)
	}
	pt, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("custody state %s: %w", st.path, err)
	}
	if err := json.Unmarshal(pt, st); err != nil {
		return nil, fmt.Errorf("custody state %s: %w", st.path, err)
	}
	if st.Wallets == nil {
		st.Wallets = map[string]*secrets{}
	}
	return st, nil
}

// save writes the state, encrypted, in place of the old.
func (st *state) save() error {
	pt, err := json.Marshal(st)
	if err != nil {
		return err
	}
	r, err := age.NewScryptRecipient(st.pass)
	if err != nil {
		return err
	}
	r.SetWorkFactor(keystore.WorkFactor)
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, r)
	if err != nil {
		return err
	}
	if _, err := w.Write(pt); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(st.path), 0o700); err != nil {
		return err
	}
	tmp := st.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(ct.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, st.path); err != nil {
		return err
	}
	st.dirty = false
	return nil
}
