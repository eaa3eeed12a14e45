package tx

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Alg names a signature algorithm. The numbers are part of the wire format
// and never change meaning; new algorithms take new numbers.
type Alg uint8

const (
	// Ed25519 is RFC 8032 Ed25519. Keys are 32 bytes; signatures 64 bytes.
	Ed25519 Alg = 1
	// P256 is ECDSA over NIST P-256 with SHA-256. Keys are 33-byte
	// compressed SEC 1 points; signatures are 64 bytes r||s with s in the
	// lower half of the group order, so that signatures are not malleable.
	P256 Alg = 2
	// Secp256k1 is ECDSA over secp256k1 with SHA-256, encoded as for P256.
	Secp256k1 Alg = 3
)

var algNames = [...]string{Ed25519: "ed25519", P256: "p256", Secp256k1: "secp256k1"}

func (a Alg) String() string {
	if int(a) < len(algNames) && algNames[a] != "" {
		return algNames[a]
	}
	return fmt.Sprintf("alg(%d)", uint8(a))
}

// ParseAlg parses an algorithm name as printed by Alg.String.
func ParseAlg(s string) (Alg, error) {
	for i, n := range algNames {
		if n != "" && n == s {
			return Alg(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown key algorithm %q (want ed25519, p256 or secp256k1)", ErrMalformed, s)
}

// PublicKey is a public key with its algorithm.
type PublicKey struct {
	Alg Alg    `cbor:"1,keyasint"`
	Key []byte `cbor:"2,keyasint"`
}

// Check reports whether the key is well formed for its algorithm: the right
// length and a point on the curve, and for Ed25519 a canonically encoded
// point not of small order. Every place that accepts a key (transaction
// signers, genesis accounts, the keys that modules record) checks it.
func (k PublicKey) Check() error {
	switch k.Alg {
	case Ed25519:
		if len(k.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: ed25519 key is %d bytes, want 32", ErrMalformed, len(k.Key))
		}
		return checkEd25519Key(k.Key)
	case P256:
		if _, err := p256Key(k.Key); err != nil {
			return err
		}
	case Secp256k1:
		if len(k.Key) != 33 {
			return fmt.Errorf("%w: secp256k1 key is %d bytes, want 33 (compressed)", ErrMalformed, len(k.Key))
		}
		if _, err := secp256k1.ParsePubKey(k.Key); err != nil {
			return fmt.Errorf("%w: secp256k1 key: %v", ErrMalformed, err)
		}
	default:
		return fmt.Errorf("%w: unknown key algorithm %d", ErrMalformed, k.Alg)
	}
	return nil
}

func p256Key(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != 33 {
		return nil, fmt.Errorf("%w: p256 key is %d bytes, want 33 (compressed)", ErrMalformed, len(b))
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), b)
	if x == nil {
		return nil, fmt.Errorf("%w: p256 key is not a point on the curve", ErrMalformed)
	}
	raw := make([]byte, 65)
	raw[0] = 4
	x.FillBytes(raw[1:33])
	y.FillBytes(raw[33:])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: p256 key: %v", ErrMalformed, err)
	}
	return pub, nil
}

var p256HalfOrder = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

// Verify reports whether sig is k's signature of msg. For the ECDSA
// algorithms msg is hashed with SHA-256 first.
func (k PublicKey) Verify(msg, sig []byte) bool {
	switch k.Alg {
	case Ed25519:
		return verifyEd25519(k.Key, msg, sig)
	case P256:
		pub, err := p256Key(k.Key)
		if err != nil || len(sig) != 64 {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if s.Cmp(p256HalfOrder) > 0 {
			return false
		}
		h := sha256.Sum256(msg)
		return ecdsa.Verify(pub, h[:], r, s)
	case Secp256k1:
		if len(k.Key) != 33 {
			return false // ParsePubKey would also take uncompressed keys, which Check refuses
		}
		pub, err := secp256k1.ParsePubKey(k.Key)
		if err != nil || len(sig) != 64 {
			return false
		}
		var r, s secp256k1.ModNScalar
		if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() || s.IsOverHalfOrder() {
			return false
		}
		h := sha256.Sum256(msg)
		return k1ecdsa.NewSignature(&r, &s).Verify(h[:], pub)
	}
	return false
}

// Address is the account address of a key: the first 20 bytes of
// SHA-256("agora/address/v1" || 0x00 || alg || key), in lower-case hex.
func (k PublicKey) Address() string {
	h := sha256.New()
	h.Write([]byte("agora/address/v1\x00"))
	h.Write([]byte{byte(k.Alg)})
	h.Write(k.Key)
	return hex.EncodeToString(h.Sum(nil)[:20])
}

// String returns "alg:base64url(key)", the form ParsePublicKey reads.
func (k PublicKey) String() string {
	return k.Alg.String() + ":" + base64.RawURLEncoding.EncodeToString(k.Key)
}

// Equal reports whether two keys are the same key.
func (k PublicKey) Equal(o PublicKey) bool {
	return k.Alg == o.Alg && string(k.Key) == string(o.Key)
}

// MarshalText implements encoding.TextMarshaler with the String form.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with the String form.
func (k *PublicKey) UnmarshalText(b []byte) error {
	p, err := ParsePublicKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// ParsePublicKey parses the "alg:base64url(key)" form and checks the key.
func ParsePublicKey(s string) (PublicKey, error) {
	name, enc, ok := strings.Cut(s, ":")
	if !ok {
		return PublicKey{}, fmt.Errorf("%w: public key %q is not of the form alg:base64url", ErrMalformed, s)
	}
	alg, err := ParseAlg(name)
	if err != nil {
		return PublicKey{}, err
	}
	key, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: public key: %v", ErrMalformed, err)
	}
	k := PublicKey{Alg: alg, Key: key}
	if k.String() != s {
		// base64 decoding skips newlines and ignores nonzero padding
		// bits; only the one canonical spelling of a key is accepted.
		return PublicKey{}, fmt.Errorf("%w: public key %q is not in canonical form (want %q)", ErrMalformed, s, k.String())
	}
	return k, k.Check()
}

// PrivateKey is a private key of one of the supported algorithms. It lives
// only in the holder's keystore; nothing on the node ever holds one.
type PrivateKey struct {
	alg  Alg
	ed   ed25519.PrivateKey
	p256 *ecdsa.PrivateKey
	k1   *secp256k1.PrivateKey
}

// GenerateKey makes a new key from rand.
func GenerateKey(alg Alg, rand io.Reader) (*PrivateKey, error) {
	switch alg {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, err
		}
		return &PrivateKey{alg: alg, ed: priv}, nil
	case P256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand)
		if err != nil {
			return nil, err
		}
		return &PrivateKey{alg: alg, p256: priv}, nil
	case Secp256k1:
		var seed [32]byte
		for {
			if _, err := io.ReadFull(rand, seed[:]); err != nil {
				return nil, err
			}
			if k, err := NewPrivateKey(alg, seed[:]); err == nil {
				return k, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: unknown key algorithm %d", ErrMalformed, alg)
}

// NewPrivateKey rebuilds a key from the bytes Bytes returned: an Ed25519
// seed or an ECDSA scalar, 32 bytes each.
func NewPrivateKey(alg Alg, b []byte) (*PrivateKey, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: private key is %d bytes, want 32", ErrMalformed, len(b))
	}
	switch alg {
	case Ed25519:
		return &PrivateKey{alg: alg, ed: ed25519.NewKeyFromSeed(b)}, nil
	case P256:
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
		if err != nil {
			return nil, fmt.Errorf("%w: p256 private key: %v", ErrMalformed, err)
		}
		return &PrivateKey{alg: alg, p256: priv}, nil
	case Secp256k1:
		var s secp256k1.ModNScalar
		if s.SetByteSlice(b) || s.IsZero() {
			return nil, fmt.Errorf("%w: secp256k1 private key out of range", ErrMalformed)
		}
		return &PrivateKey{alg: alg, k1: secp256k1.NewPrivateKey(&s)}, nil
	}
	return nil, fmt.Errorf("%w: unknown key algorithm %d", ErrMalformed, alg)
}

// Alg returns the key's algorithm.
func (k *PrivateKey) Alg() Alg { return k.alg }

// Bytes returns the 32-byte secret from which NewPrivateKey rebuilds the key.
func (k *PrivateKey) Bytes() []byte {
	switch k.alg {
	case Ed25519:
		return append([]byte(nil), k.ed.Seed()...)
	case P256:
		b, err := k.p256.Bytes()
		if err != nil {
			panic(err) // a key we made or parsed is always valid
		}
		return b
	default:
		b := k.k1.Key.Bytes()
		return b[:]
	}
}

// Public returns the public key.
func (k *PrivateKey) Public() PublicKey {
	switch k.alg {
	case Ed25519:
		return PublicKey{Alg: Ed25519, Key: append([]byte(nil), k.ed.Public().(ed25519.PublicKey)...)}
	case P256:
		b, err := k.p256.PublicKey.Bytes()
		if err != nil {
			panic(err)
		}
		x := new(big.Int).SetBytes(b[1:33])
		y := new(big.Int).SetBytes(b[33:])
		return PublicKey{Alg: P256, Key: elliptic.MarshalCompressed(elliptic.P256(), x, y)}
	default:
		return PublicKey{Alg: Secp256k1, Key: k.k1.PubKey().SerializeCompressed()}
	}
}

// Sign signs msg (hashing it with SHA-256 first for the ECDSA algorithms)
// and returns a signature that PublicKey.Verify accepts. ECDSA signatures
// are normalised to low s.
func (k *PrivateKey) Sign(rand io.Reader, msg []byte) ([]byte, error) {
	switch k.alg {
	case Ed25519:
		return ed25519.Sign(k.ed, msg), nil
	case P256:
		h := sha256.Sum256(msg)
		r, s, err := ecdsa.Sign(rand, k.p256, h[:])
		if err != nil {
			return nil, err
		}
		if s.Cmp(p256HalfOrder) > 0 {
			s.Sub(elliptic.P256().Params().N, s)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	default:
		h := sha256.Sum256(msg)
		compact := k1ecdsa.SignCompact(k.k1, h[:], true) // RFC 6979, low s
		return compact[1:], nil
	}
}

// Ed25519 returns the key as an ed25519.PrivateKey, for signing formats
// other than transactions (log checkpoints); ok is false for other
// algorithms.
func (k *PrivateKey) Ed25519() (priv ed25519.PrivateKey, ok bool) {
	if k.alg != Ed25519 {
		return nil, false
	}
	return k.ed, true
}
