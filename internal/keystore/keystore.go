// Package keystore keeps a holder's private keys on their own machine,
// each encrypted at rest with a passphrase. It is the only place in Agora
// where a private key exists: the node never sees one.
//
// # Files
//
// A key named NAME lives in DIR/NAME.json (mode 0600, in a 0700
// directory): the name, algorithm, public key, address and creation time
// in the clear, and the 32-byte private key encrypted with age
// (filippo.io/age) to a scrypt passphrase recipient. Whoever reads the file
// learns the public key; only the passphrase unlocks the private key.
package keystore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/agora-ledger/agora/internal/tx"
)

// WorkFactor is the scrypt cost (2^15 iterations of N), the parameter
// recommended for interactive use; age's default (2^18) would make every
// CLI signature take a second.
const WorkFactor = 15

var (
	// ErrNotFound means there is no key of that name.
	ErrNotFound = errors.New("no such key")
	// ErrExists means a key of that name already exists.
	ErrExists = errors.New("key already exists")
	// ErrPassphrase means the passphrase does not unlock the key.
	ErrPassphrase = errors.New("wrong passphrase")
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Entry is a key's public part as stored.
type Entry struct {
	Name      string       `json:"name"`
	PublicKey tx.PublicKey `json:"public_key"`
	Address   string       `json:"address"`
	Created   time.Time    `json:"created"`
	// Sealed is the age-encrypted private key.
	Sealed []byte `json:"sealed"`
}

// Store is a directory of keys.
type Store struct{ dir string }

// Open returns the keystore in dir; the directory is created on first use.
func Open(dir string) *Store { return &Store{dir: dir} }

// Dir returns the keystore's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) string { return filepath.Join(s.dir, name+".json") }

// CheckName reports whether name may name a key.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("key name %q: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// New generates a key of algorithm alg from rand and stores it under name,
// encrypted with passphrase.
func (s *Store) New(name string, alg tx.Alg, passphrase string, rand io.Reader, now time.Time) (*Entry, error) {
	k, err := tx.GenerateKey(alg, rand)
	if err != nil {
		return nil, err
	}
	return s.Import(name, k, passphrase, now)
}

// Import stores an existing private key under name.
func (s *Store) Import(name string, k *tx.PrivateKey, passphrase string, now time.Time) (*Entry, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if passphrase == "" {
		return nil, fmt.Errorf("an empty passphrase would leave the key unprotected")
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(WorkFactor)
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append([]byte{byte(k.Alg())}, k.Bytes()...)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	pub := k.Public()
	e := &Entry{Name: name, PublicKey: pub, Address: pub.Address(), Created: now.UTC().Truncate(time.Second), Sealed: sealed.Bytes()}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w: %q (in %s)", ErrExists, name, s.dir)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return e, f.Close()
}

// Get returns the public part of the key name.
func (s *Store) Get(name string) (*Entry, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %q in %s", ErrNotFound, name, s.dir)
	}
	if err != nil {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("key file %s: %w", s.path(name), err)
	}
	if e.Name != name || e.PublicKey.Address() != e.Address {
		return nil, fmt.Errorf("key file %s is inconsistent (name or address does not match)", s.path(name))
	}
	return &e, nil
}

// List returns every key, sorted by name.
func (s *Store) List() ([]*Entry, error) {
	des, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok || de.IsDir() || CheckName(name) != nil {
			continue
		}
		e, err := s.Get(name)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FindAddress returns the key whose address is addr, if the store has it.
func (s *Store) FindAddress(addr string) (*Entry, bool) {
	es, err := s.List()
	if err != nil {
		return nil, false
	}
	for _, e := range es {
		if e.Address == addr {
			return e, true
		}
	}
	return nil, false
}

// Unlock decrypts the private key name with passphrase.
func (s *Store) Unlock(name, passphrase string) (*tx.PrivateKey, error) {
	e, err := s.Get(name)
	if err != nil {
		return nil, err
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(e.Sealed), id)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, fmt.Errorf("%w for key %q", ErrPassphrase, name)
		}
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	if len(b) != 33 {
		return nil, fmt.Errorf("key %q: sealed key has %d bytes, want 33", name, len(b))
	}
	k, err := tx.NewPrivateKey(tx.Alg(b[0]), b[1:])
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	if !k.Public().Equal(e.PublicKey) {
		return nil, fmt.Errorf("key %q: sealed private key does not match the public key", name)
	}
	return k, nil
}
