package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStartCPUProfile: no path, no profile; a path gets a profile
// (gzipped protobuf, so not empty) once stopped; an unwritable path is
// an error, and no profile is left running.
func TestStartCPUProfile(t *testing.T) {
	stop, err := StartCPUProfile("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	path := filepath.Join(t.TempDir(), "cpu.prof")
	if stop, err = StartCPUProfile(path); err != nil {
		t.Fatal(err)
	}
	stop()
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("the profile: %v, %v", st, err)
	}
	if _, err := StartCPUProfile(filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof")); err == nil {
		t.Fatal("a profile in a folder that does not exist")
	}
	if stop, err = StartCPUProfile(path); err != nil {
		t.Fatalf("again after the failure: %v", err)
	}
	stop()
}
