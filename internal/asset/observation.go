package asset

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// ObservationDomain begins the bytes a data provider signs: the
// observation's canonical CBOR follows it after a zero byte. It keeps an
// observation's signature from being taken for any other signature a key
// makes (a transaction's begins "agora/tx/v1" 0x00).
const ObservationDomain = "agora/observation/v1"

// Observation is what a data provider saw, signed off the ledger.
// Wire format: canonical CBOR with integer keys, append-only: a new field
// takes the next key and is omitted when empty, so that existing
// signatures still verify.
type Observation struct {
	// Chain is the chain id of the ledger the observation is for: a
	// signature for one ledger counts on no other.
	Chain string `cbor:"1,keyasint" json:"chain"`
	// Type is what was observed ("marker", "flood", ...).
	Type string `cbor:"2,keyasint" json:"type"`
	// Place is where, in micro-degrees.
	Place Point `cbor:"3,keyasint" json:"place"`
	// Time is when, in Unix milliseconds.
	Time int64 `cbor:"4,keyasint" json:"time"`
	// Value is the measurement (a marker's coverage in percent, a
	// reflectance, a level), an integer in the unit the type implies.
	Value int64 `cbor:"5,keyasint" json:"value"`
	// Data is the SHA-256 of the source data (a satellite tile), if the
	// provider names it; the notary can anchor the data itself.
	Data []byte `cbor:"6,keyasint,omitempty" json:"data,omitempty"`
}

// Validate checks the observation without state.
func (o *Observation) Validate() error {
	if o.Chain == "" || len(o.Chain) > 64 {
		return fmt.Errorf("%w: observation chain id must be 1 to 64 bytes", ledger.ErrInvalid)
	}
	if !validName(o.Type) {
		return fmt.Errorf("%w: observation type %q: use a-z, 0-9, - and . (up to 64)", ledger.ErrInvalid, o.Type)
	}
	if err := o.Place.Validate(); err != nil {
		return err
	}
	if o.Time <= 0 {
		return fmt.Errorf("%w: observation time must be after 1970", ledger.ErrInvalid)
	}
	if o.Data != nil && len(o.Data) != 32 {
		return fmt.Errorf("%w: observation data is %d bytes, want a SHA-256 (32)", ledger.ErrInvalid, len(o.Data))
	}
	return nil
}

// SigningBytes returns what a provider signs: ObservationDomain, a zero
// byte, then the observation's canonical CBOR.
func (o *Observation) SigningBytes() []byte {
	b, err := tx.Marshal(o)
	if err != nil {
		panic(fmt.Sprintf("asset: an observation does not encode: %v", err)) // plain fields always encode
	}
	return append([]byte(ObservationDomain+"\x00"), b...)
}

// Digest is the observation's id: the SHA-256 of its signing bytes.
func (o *Observation) Digest() [32]byte { return sha256.Sum256(o.SigningBytes()) }

// Sign returns key's signature of the observation, as the provider named
// provider in the registry; rand is used by the ECDSA algorithms only.
func (o *Observation) Sign(provider string, key *tx.PrivateKey, rand io.Reader) (Signature, error) {
	sig, err := key.Sign(rand, o.SigningBytes())
	if err != nil {
		return Signature{}, err
	}
	return Signature{Provider: provider, Sig: sig}, nil
}

// Signature is one provider's signature of an observation.
type Signature struct {
	// Provider is the provider's entry key in the registry of accredited
	// data providers (ProvidersResource).
	Provider string `cbor:"1,keyasint" json:"provider"`
	Sig      []byte `cbor:"2,keyasint" json:"sig"`
}

// Point is a place on Earth in integer micro-degrees (WGS 84 latitude and
// longitude times 1,000,000): no floating point enters the ledger.
type Point struct {
	Lat int64 `cbor:"1,keyasint" json:"lat"`
	Lon int64 `cbor:"2,keyasint" json:"lon"`
}

// Validate checks that the point is on Earth.
func (p Point) Validate() error {
	if p.Lat < -90_000_000 || p.Lat > 90_000_000 {
		return fmt.Errorf("%w: latitude %s is outside -90..90", ledger.ErrInvalid, FormatMicro(p.Lat))
	}
	if p.Lon < -180_000_000 || p.Lon > 180_000_000 {
		return fmt.Errorf("%w: longitude %s is outside -180..180", ledger.ErrInvalid, FormatMicro(p.Lon))
	}
	return nil
}

func (p Point) String() string { return FormatMicro(p.Lat) + "," + FormatMicro(p.Lon) }

// ParseMicro parses a decimal number of degrees ("50.087451", "-0.5")
// into micro-degrees, exactly: at most six decimals, no exponent.
func ParseMicro(s string) (int64, error) {
	bad := fmt.Errorf("%w: %q is not a number of degrees with at most 6 decimals", ledger.ErrInvalid, s)
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || len(whole) > 3 || len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, bad
	}
	w, err := strconv.ParseUint(whole, 10, 16)
	if err != nil {
		return 0, bad
	}
	f := uint64(0)
	if frac != "" {
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 32); err != nil {
			return 0, bad
		}
	}
	v := int64(w)*1_000_000 + int64(f)
	if neg {
		v = -v
	}
	return v, nil
}

// ParsePoint parses "LAT,LON" in decimal degrees.
func ParsePoint(s string) (Point, error) {
	lat, lon, ok := strings.Cut(s, ",")
	if !ok {
		return Point{}, fmt.Errorf("%w: %q is not LAT,LON in decimal degrees", ledger.ErrInvalid, s)
	}
	var p Point
	var err error
	if p.Lat, err = ParseMicro(strings.TrimSpace(lat)); err != nil {
		return Point{}, err
	}
	if p.Lon, err = ParseMicro(strings.TrimSpace(lon)); err != nil {
		return Point{}, err
	}
	return p, p.Validate()
}

// FormatMicro writes micro-degrees as decimal degrees, six decimals.
func FormatMicro(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%06d", sign, v/1_000_000, v%1_000_000)
}

// The distance test. Deterministic and in integers: a spherical Earth of
// mean radius 6,371,008.8 m, on which a micro-degree of latitude is
// 111.195 mm, and an equirectangular projection at the mean latitude of
// the two points, whose cosine comes from a table of whole degrees
// interpolated linearly. docs/spec/assets.md ("The distance test") gives
// the error bound against the haversine distance on the same sphere;
// TestWithinAgreesWithHaversine checks it over a million points.
const mmPerMicroDegree1000 = 111_195 // 111.195 mm, times 1000

// cosTable holds cos(d°) × 1,000,000 rounded, for d = 0..90.
var cosTable = [91]int64{
	1000000, 999848, 999391, 998630, 997564, 996195, 994522, 992546, 990268, 987688,
	984808, 981627, 978148, 974370, 970296, 965926, 961262, 956305, 951057, 945519,
	939693, 933580, 927184, 920505, 913545, 906308, 898794, 891007, 882948, 874620,
	866025, 857167, 848048, 838671, 829038, 819152, 809017, 798636, 788011, 777146,
	766044, 754710, 743145, 731354, 719340, 707107, 694658, 681998, 669131, 656059,
	642788, 629320, 615661, 601815, 587785, 573576, 559193, 544639, 529919, 515038,
	500000, 484810, 469472, 453990, 438371, 422618, 406737, 390731, 374607, 358368,
	342020, 325568, 309017, 292372, 275637, 258819, 241922, 224951, 207912, 190809,
	173648, 156434, 139173, 121869, 104528, 87156, 69756, 52336, 34899, 17452,
	0,
}

// cosMicro returns cos(lat) × 1,000,000 for lat in micro-degrees.
func cosMicro(lat int64) int64 {
	if lat < 0 {
		lat = -lat
	}
	i, f := lat/1_000_000, lat%1_000_000
	if i >= 90 {
		return 0
	}
	return cosTable[i] + (cosTable[i+1]-cosTable[i])*f/1_000_000
}

// DistanceWithin reports whether p is within radius metres of c. A
// radius above MaxRadius (which no valid Condition has) reports false:
// the integer squares below are sized for MaxRadius.
func DistanceWithin(c, p Point, radius uint32) bool {
	if radius > MaxRadius {
		return false
	}
	dLat := p.Lat - c.Lat
	dLon := p.Lon - c.Lon
	if dLon > 180_000_000 {
		dLon -= 360_000_000
	} else if dLon < -180_000_000 {
		dLon += 360_000_000
	}
	// Millimetres north and east; each fits easily in an int64
	// (|dLat| ≤ 1.8e8 µdeg → ≤ 2.1e13 mm).
	dy := dLat * mmPerMicroDegree1000 / 1000
	dx := dLon * cosMicro((c.Lat+p.Lat)/2) / 1_000_000 * mmPerMicroDegree1000 / 1000
	r := int64(radius) * 1000
	if dy > r || dy < -r || dx > r || dx < -r {
		return false
	}
	// Now |dx|, |dy| ≤ r ≤ 1e8 mm (MaxRadius): the squares cannot overflow.
	return dx*dx+dy*dy <= r*r
}
