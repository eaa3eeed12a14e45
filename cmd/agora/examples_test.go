package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestExamplesNotary keeps the walkthrough in examples/notary.sh working.
func TestExamplesNotary(t *testing.T) { runExample(t, "notary.sh") }

// TestExamplesIdentity keeps the walkthrough in examples/identity.sh
// working.
func TestExamplesIdentity(t *testing.T) { runExample(t, "identity.sh") }

// TestExamplesTestnet keeps the walkthrough in examples/testnet.sh, a
// network of four validators that governance grows to five, working.
func TestExamplesTestnet(t *testing.T) { runExample(t, "testnet.sh") }

// TestExamplesNames keeps the walkthrough in examples/names.sh working.
func TestExamplesNames(t *testing.T) { runExample(t, "names.sh") }

// TestExamplesConsent keeps the walkthrough in examples/consent.sh (a
// subject, a bank and a scoring firm) working.
func TestExamplesConsent(t *testing.T) { runExample(t, "consent.sh") }

// TestExamplesAssets keeps the walkthrough in examples/assets.sh, Lithopia's
// oracle-triggered parcel, working.
func TestExamplesAssets(t *testing.T) { runExample(t, "assets.sh") }

// runExample runs the walkthrough examples/script against a freshly built
// agora. The script checks every outcome itself and exits non-zero if one
// differs.
func runExample(t *testing.T, script string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a node and the walkthrough; skipped with -short")
	}
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("examples/%s needs %s: %v", script, tool, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "agora")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as README builds it
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", "examples", script))
	cmd.Env = append(os.Environ(), "AGORA_BIN="+bin, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/%s: %v\n%s", script, err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// TestExamplesGovernance keeps the walkthrough in examples/governance.sh
// working.
func TestExamplesGovernance(t *testing.T) { runExample(t, "governance.sh") }

// TestExamplesCredentials keeps the walkthrough in
// examples/credentials.sh working.
func TestExamplesCredentials(t *testing.T) { runExample(t, "credentials.sh") }

// TestExamplesCustody keeps the walkthrough in examples/custody.sh working:
// a 3-of-5 wallet made by DKG among five signers in homes of their own, a
// withdrawal refused by policy and one signed, and a taproot signature.
func TestExamplesCustody(t *testing.T) { runExample(t, "custody.sh") }
