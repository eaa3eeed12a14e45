package witness

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// algCosignatureV1 is the signed-note signature type of Ed25519
// tlog-cosignature/v1 keys.
const algCosignatureV1 = 0x04

// Cosigner makes C2SP tlog-cosignature/v1 Ed25519 cosignatures. It is a
// note.Signer whose signatures are timestamp || Ed25519 signature over
//
//	cosignature/v1\n
//	time <timestamp>\n
//	<the checkpoint's note text>
//
// with the timestamp, in POSIX seconds, read from an injected clock.
//
// Its key is only ever used for cosignatures: its key ID commits to type
// 0x04, and NewCosigner refuses a plain Ed25519 note key (type 0x01),
// whose signatures over arbitrary text could be passed off as
// cosignatures.
type Cosigner struct {
	name string
	key  ed25519.PrivateKey
	hash uint32
	now  func() time.Time
}

// validName reports whether name can be a signed-note key name: non-empty,
// valid UTF-8, with no Unicode space and no plus.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsSpace) && !strings.Contains(name, "+")
}

func cosignerKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// GenerateKey returns a new cosigner key for a witness named name, reading
// randomness from rand (crypto/rand.Reader). skey,
// "PRIVATE+KEY+<name>+<hash>+<base64(0x04 || seed)>", is secret, and
// NewCosigner reads it; vkey, "<name>+<hash>+<base64(0x04 || public key)>",
// is what logs and clients configure to verify the witness's
// cosignatures.
func GenerateKey(rand io.Reader, name string) (skey, vkey string, err error) {
	if !validName(name) {
		return "", "", fmt.Errorf("witness: invalid key name %q: it must be non-empty, without spaces or plus signs", name)
	}
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return "", "", fmt.Errorf("witness: generate key: %w", err)
	}
	return KeyPair(name, priv)
}

// KeyPair returns the cosigner key strings of an existing Ed25519 key,
// for a witness whose key is kept elsewhere (Agora's keystore).
func KeyPair(name string, priv ed25519.PrivateKey) (skey, vkey string, err error) {
	if !validName(name) {
		return "", "", fmt.Errorf("witness: invalid key name %q: it must be non-empty, without spaces or plus signs", name)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return "", "", fmt.Errorf("witness: Ed25519 private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	pub := priv.Public().(ed25519.PublicKey)
	hash := cosignerKeyHash(name, pub)
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, priv.Seed()...)))
	vkey = fmt.Sprintf("%s+%08x+%s", name, hash, base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
	return skey, vkey, nil
}

// VerifierKey returns the cosigner verifier key of the witness named name
// whose Ed25519 public key is pub: what KeyPair returns as vkey, without
// the private key.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("witness: invalid key name %q: it must be non-empty, without spaces or plus signs", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("witness: Ed25519 public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	return fmt.Sprintf("%s+%08x+%s", name, cosignerKeyHash(name, pub), base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...))), nil
}

// NewCosigner returns the cosigner of skey, a key GenerateKey made, that
// timestamps its cosignatures with now.
func NewCosigner(skey string, now func() time.Time) (*Cosigner, error) {
	bad := errors.New("witness: malformed cosigner key; want PRIVATE+KEY+<name>+<hash>+<base64(0x04 || seed)>, as witness.GenerateKey makes")
	rest, ok := strings.CutPrefix(skey, "PRIVATE+KEY+")
	if !ok {
		return nil, bad
	}
	// The key's base64 may contain plus signs; the name cannot.
	name, rest, _ := strings.Cut(rest, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	if !validName(name) || len(hash16) != 8 {
		return nil, bad
	}
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil {
		return nil, bad
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.SeedSize {
		return nil, bad
	}
	if key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("witness: cosigner key has signature type 0x%02x, want 0x04 (a tlog-cosignature/v1 key, not a note signing key)", key[0])
	}
	priv := ed25519.NewKeyFromSeed(key[1:])
	c := &Cosigner{name: name, key: priv, now: now,
		hash: cosignerKeyHash(name, priv.Public().(ed25519.PublicKey))}
	if uint32(hash) != c.hash {
		return nil, fmt.Errorf("witness: cosigner key hash %s does not match its key", hash16)
	}
	return c, nil
}

// Name returns the witness's key name.
func (c *Cosigner) Name() string { return c.name }

// KeyHash returns the key ID: SHA-256(name || "\n" || 0x04 || public key)[:4].
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// VerifierKey returns the vkey of the cosigner, for logs and clients.
func (c *Cosigner) VerifierKey() string {
	pub := c.key.Public().(ed25519.PublicKey)
	return fmt.Sprintf("%s+%08x+%s", c.name, c.hash, base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
}

// Sign returns the cosignature of a checkpoint's note text, timestamped
// now: the 8-byte big-endian timestamp followed by the Ed25519 signature.
func (c *Cosigner) Sign(text []byte) ([]byte, error) {
	t := c.now().Unix()
	if t < 0 {
		return nil, fmt.Errorf("witness: clock is before 1970 (%d)", t)
	}
	msg := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, text)
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, 8+ed25519.SignatureSize), uint64(t))
	return append(sig, ed25519.Sign(c.key, msg)...), nil
}
