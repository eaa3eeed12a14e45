package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestExamplesNotary keeps the walkthrough in examples/notary.sh working:
// it runs the script against a freshly built agora. The script checks
// every outcome itself and exits non-zero if one differs.
func TestExamplesNotary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node and the walkthrough; skipped with -short")
	}
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("examples/notary.sh needs %s: %v", tool, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "agora")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", "examples", "notary.sh"))
	cmd.Env = append(os.Environ(), "AGORA_BIN="+bin, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/notary.sh: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
