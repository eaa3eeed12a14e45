package vcdm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The official material, copied verbatim (read-only; testdata/README.md):
// testdata/w3c-vc-data-model-2.0/ and contexts/ (the jsonld-contexts set).
const suiteDir = "testdata/w3c-vc-data-model-2.0/test-suite"

// skipped are the test-suite fixtures this checker does not judge, each
// with the reason. Every other fixture must get its stated verdict.
var skipped = map[string]string{
	"credential-proof-ok.json":                           "a Data Integrity proof: Agora secures VC 2.0 with SD-JWT (vc+sd-jwt) and verifies no Data Integrity proof; the fixture is used by no test at this commit",
	"credential-proof-missing-type-fail.json":            "a Data Integrity proof under https://w3id.org/security/suites/ed25519-2020/v1, a context not in jsonld-contexts/ (it would be refused for that, not for the missing proof type); used by no test at this commit",
	"presentation-self-asserted-vc-holder-mismatch.json": selfAssertedReason,
	"presentation-self-asserted-vc-issuer-mismatch.json": selfAssertedReason,
	"presentation-self-asserted-vc-no-holder.json":       selfAssertedReason,
}

// selfAssertedReason: the suite states no verdict for these three
// ("see-statement" in fixture-index.json) and no test uses them at this
// commit. The statements they were written for (VC 2.0 Section 4.13.3:
// a presentation with a self-asserted credential secured only by the
// presentation's own mechanism MUST have a holder, and that credential's
// issuer MUST be the holder) turn on how the embedded credential is
// secured, which an unsecured fixture does not say: as JSON, the
// holder-mismatch and issuer-mismatch fixtures are presentation-holder-ok
// with another issuer, and the no-holder one is presentation-vc-ok with
// another issuer, both of which must be accepted. (Agora's vp+sd-jwt
// presentations envelope issuer-signed credentials only: none is
// self-asserted.)
const selfAssertedReason = "no stated verdict: VC 2.0 Section 4.13.3's holder/issuer rule for self-asserted credentials depends on how the embedded credential is secured, which this unsecured fixture does not say; as JSON it is the shape of an -ok fixture"

// asIssued is a fixture as the suite's issuer endpoint turns it into a
// credential: the issuer fills in its own id where the fixture has none.
// The unused validity fixtures carry placeholders ("PAST DATE", "FUTURE
// DATE") the suite would replace; they get fixed dates. A fixture that
// tests the absence of the issuer is left as it is.
func asIssued(name string, c map[string]any) {
	if name != "credential-no-issuer-fail.json" {
		switch iss := c["issuer"].(type) {
		case nil:
			if _, ok := c["issuer"]; !ok {
				c["issuer"] = "did:example:issuer"
			}
		case map[string]any:
			if _, ok := iss["id"]; !ok {
				iss["id"] = "did:example:issuer"
			}
		}
	}
	for _, f := range []string{"validFrom", "validUntil"} {
		switch c[f] {
		case "PAST DATE":
			c[f] = "2020-01-01T00:00:00Z"
		case "FUTURE DATE":
			c[f] = "2099-01-01T00:00:00Z"
		}
	}
}

type manifestEntry struct{ URL, File, SHA256 string }

// manifestEntries is contexts/manifest.json: URL, file and digest.
func manifestEntries(t *testing.T) []manifestEntry {
	t.Helper()
	b, err := os.ReadFile("contexts/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// manifest returns the documents of the manifest's contexts (URL →
// bytes), each checked against its digest.
func manifest(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, e := range manifestEntries(t) {
		doc, err := os.ReadFile(filepath.Join("contexts", e.File))
		if err != nil {
			t.Fatal(err)
		}
		if d := sha256.Sum256(doc); hex.EncodeToString(d[:]) != e.SHA256 {
			t.Fatalf("%s: SHA-256 %x, manifest says %s", e.File, d, e.SHA256)
		}
		out[e.URL] = doc
	}
	return out
}

// fullChecker knows every context of jsonld-contexts/ (the examples
// contexts the fixtures use included).
func fullChecker(t *testing.T) *Checker {
	t.Helper()
	k, err := New(manifest(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSuiteFixtures runs the checker over every input fixture of the W3C
// VC 2.0 test suite (Presentation for the presentation-* ones, Credential
// for the others) and expects the verdict its name states: -ok
// accepted, -fail refused, -fail-or-inject refused (Agora never injects
// a missing base context). Skipped fixtures are listed in skipped.
func TestSuiteFixtures(t *testing.T) {
	k := fullChecker(t)
	b, err := os.ReadFile(filepath.Join(suiteDir, "fixture-index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Fixtures []struct {
			Fixture  string `json:"fixture"`
			Expected string `json:"expected_by_name"`
		} `json:"fixtures"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Fixtures) != 120 {
		t.Fatalf("%d fixtures in the index, want 120", len(index.Fixtures))
	}
	var pass, skip int
	for _, f := range index.Fixtures {
		name := filepath.Base(f.Fixture)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			if why, ok := skipped[name]; ok {
				skip++
				t.Skip(why)
			}
			raw, err := os.ReadFile(filepath.Join(suiteDir, f.Fixture))
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "presentation-") {
				err = k.Presentation(c) // the suite posts these to a verifier's presentation endpoint
			} else {
				asIssued(name, c)
				err = k.Credential(c)
			}
			switch f.Expected {
			case "accept":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case "reject", "reject-or-inject-base-context":
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("accepted (err %v)", err)
				}
				t.Logf("refused: %v", err)
			default:
				t.Fatalf("no verdict %q; list the fixture in skipped", f.Expected)
			}
			pass++
		})
	}
	t.Logf("%d fixtures get their stated verdict, %d skipped", pass, skip)
	for name := range skipped {
		found := false
		for _, f := range index.Fixtures {
			found = found || filepath.Base(f.Fixture) == name
		}
		if !found {
			t.Errorf("skipped lists %s, which the suite does not have", name)
		}
	}
}
