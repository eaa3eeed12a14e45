package asset

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"
)

// haversine is the great-circle distance in metres between a and b on the
// sphere DistanceWithin assumes (mean radius 6,371,008.8 m). Floating
// point is fine here: it is the test's reference, never a state
// transition.
func haversine(a, b Point) float64 {
	const earth = 6_371_008.8
	rad := func(v int64) float64 { return float64(v) / 1e6 * math.Pi / 180 }
	lat1, lat2 := rad(a.Lat), rad(b.Lat)
	dLat, dLon := lat2-lat1, rad(b.Lon)-rad(a.Lon)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earth * math.Asin(math.Sqrt(min(h, 1)))
}

// TestWithinAgreesWithHaversine checks the bound docs/spec/assets.md
// states for the deterministic distance test: where both points lie within
// the band's latitude, DistanceWithin(c, p, r) is true whenever the
// haversine distance d ≤ r·(1−rel) − 0.5 m and false whenever
// d ≥ r·(1+rel) + 0.5 m. Radii are drawn close to d (within twice the
// bound, and exactly at it) so that the decisions near the edge are the
// ones tested; the points cover every longitude, the antimeridian
// included, and a fixed seed keeps the run reproducible.
func TestWithinAgreesWithHaversine(t *testing.T) {
	const slack = 0.5 // metres: micro-degree rounding and integer truncation
	for _, band := range []struct {
		name   string
		maxLat float64 // degrees, both points
		rel    float64
	}{
		{"mid-latitudes", 80, 0.001},
		{"high latitudes", 89, 0.05},
	} {
		t.Run(band.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(20, uint64(band.maxLat)))
			n := 500_000
			if testing.Short() {
				n = 20_000
			}
			tested := 0
			for range n {
				// A centre, biased towards the band's edge where the
				// projection is worst; a place up to MaxRadius away in any
				// direction.
				lat := band.maxLat * math.Sqrt(rng.Float64())
				if rng.IntN(2) == 0 {
					lat = -lat
				}
				lon := rng.Float64()*360 - 180
				c := Point{Lat: int64(lat * 1e6), Lon: int64(lon * 1e6)}
				d := rng.Float64() * MaxRadius * 1.05
				bearing := rng.Float64() * 2 * math.Pi
				pLat := lat + d*math.Cos(bearing)/111_195
				pLon := lon + d*math.Sin(bearing)/111_195/math.Cos(lat*math.Pi/180)
				if math.Abs(pLat) > band.maxLat {
					continue
				}
				pLon = math.Mod(pLon+540, 360) - 180
				p := Point{Lat: int64(pLat * 1e6), Lon: int64(pLon * 1e6)}
				if p.Validate() != nil {
					continue
				}
				h := haversine(c, p)
				// A radius around the true distance: inside, outside, or
				// exactly at the stated bound.
				var r float64
				switch rng.IntN(3) {
				case 0:
					r = (h + slack) / (1 - band.rel) // just wide enough to have to match
				case 1:
					r = (h - slack) / (1 + band.rel) // just narrow enough to have to miss
				default:
					r = h * (1 + (rng.Float64()*4-2)*band.rel)
				}
				radius := uint32(math.Round(r))
				if radius < 1 || radius > MaxRadius {
					continue
				}
				tested++
				got := DistanceWithin(c, p, radius)
				switch {
				case h <= float64(radius)*(1-band.rel)-slack && !got:
					t.Fatalf("DistanceWithin(%v, %v, %d) = false, but the haversine distance is %.3f m", c, p, radius, h)
				case h >= float64(radius)*(1+band.rel)+slack && got:
					t.Fatalf("DistanceWithin(%v, %v, %d) = true, but the haversine distance is %.3f m", c, p, radius, h)
				}
			}
			if tested < n/3 {
				t.Fatalf("only %d of %d draws were tested", tested, n)
			}
		})
	}
}

// TestWithinEdges covers the inputs the random draws rarely reach: the
// poles, the antimeridian, the largest radius and one above it, and the
// largest coordinates (which must not overflow).
func TestWithinEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c, p   Point
		radius uint32
		want   bool
	}{
		{"same point", Point{50_087_451, 14_420_671}, Point{50_087_451, 14_420_671}, 1, true},
		{"one micro-degree north, 1 m", Point{0, 0}, Point{1, 0}, 1, true},
		{"111 m north of the equator, 110 m", Point{0, 0}, Point{1_000, 0}, 110, false},
		{"111 m north of the equator, 112 m", Point{0, 0}, Point{1_000, 0}, 112, true},
		{"across the antimeridian, 22 m apart", Point{0, 179_999_900}, Point{0, -179_999_900}, 25, true},
		{"across the antimeridian, 22 m apart, 20 m", Point{0, 179_999_900}, Point{0, -179_999_900}, 20, false},
		{"opposite corners of the world", Point{-90_000_000, -180_000_000}, Point{90_000_000, 180_000_000}, MaxRadius, false},
		{"north pole to itself at another longitude", Point{90_000_000, 0}, Point{90_000_000, 90_000_000}, 1, true},
		{"a radius above MaxRadius", Point{0, 0}, Point{0, 0}, MaxRadius + 1, false},
		{"the largest radius", Point{0, 0}, Point{899_000, 0}, MaxRadius, true},
		{"just past the largest radius", Point{0, 0}, Point{900_000, 0}, MaxRadius, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DistanceWithin(tc.c, tc.p, tc.radius); got != tc.want {
				t.Errorf("DistanceWithin(%v, %v, %d) = %v, want %v (haversine %.3f m)", tc.c, tc.p, tc.radius, got, tc.want, haversine(tc.c, tc.p))
			}
		})
	}
}

// TestCosMicro checks the interpolated cosine table against math.Cos:
// linear interpolation over whole degrees is within 40 millionths.
func TestCosMicro(t *testing.T) {
	for lat := int64(-90_000_000); lat <= 90_000_000; lat += 1_237 {
		want := math.Cos(float64(lat) / 1e6 * math.Pi / 180)
		if got := float64(cosMicro(lat)) / 1e6; math.Abs(got-want) > 40e-6 {
			t.Fatalf("cosMicro(%d) = %.6f, cos = %.6f", lat, got, want)
		}
	}
}

// TestObservationSigningBytes pins the bytes a provider signs, as
// docs/spec/assets.md gives them: a provider's signer written from the
// spec must produce exactly these.
func TestObservationSigningBytes(t *testing.T) {
	o := Observation{Chain: "agora-dev", Type: "marker", Place: Point{Lat: 50_087_600, Lon: 14_420_800}, Time: 1_767_225_600_000, Value: 95}
	const want = "61676f72612f6f62736572766174696f6e2f763100a5016961676f72612d64657602666d61726b657203a2011a02fc46b0021a00dc0b40041b0000019b76daa80005185f"
	if got := hex.EncodeToString(o.SigningBytes()); got != want {
		t.Errorf("signing bytes:\n got %s\nwant %s", got, want)
	}
	d := o.Digest()
	if got := hex.EncodeToString(d[:]); got != "9e861e8ef5c7b6011969454a4e836074b552aceda362800bd751dbbdea5f24bc" {
		t.Errorf("digest %s", got)
	}
}
