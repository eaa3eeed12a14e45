package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/verify"
)

// TestKeepOpenedRemembers: a long-running verifier (KeepOpened) keeps the
// last checkpoint it accepted in memory, so an older one is refused even
// once the home's file is gone; a one-shot command reads the file each
// time.
func TestKeepOpenedRemembers(t *testing.T) {
	skey, vkey, err := tlog.GenerateKey(rand.Reader, ledger.Origin("trust-1"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	checkpoint := func(height, size uint64) *verify.Checkpoint {
		h := ledger.Header{ChainID: "trust-1", Height: height, LogSize: size, Time: 1,
			LogRoot: bytes.Repeat([]byte{byte(size)}, 32), AppHash: bytes.Repeat([]byte{byte(height)}, 32)}
		text, err := h.Checkpoint().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := verify.OpenCheckpoint(msg, verify.Policy{LogKey: vkey})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	newer, older := checkpoint(5, 3), checkpoint(4, 2)
	t.Run("concurrent", func(t *testing.T) { acceptConcurrently(t, vkey, older, newer) })
	for _, keep := range []bool{false, true} {
		home := t.TempDir()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		HomeFlag(fs)
		tr := TrustFlags(fs)
		if err := fs.Parse([]string{"--home", home, "--log-key", vkey, "--max-age", "0"}); err != nil {
			t.Fatal(err)
		}
		if keep {
			tr.KeepOpened()
		}
		p, err := tr.Policy()
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Accept(context.Background(), nil, p, newer); err != nil {
			t.Fatalf("keep %v: the first checkpoint: %v", keep, err)
		}
		if err := tr.Accept(context.Background(), nil, p, older); !errors.Is(err, verify.ErrStale) {
			t.Fatalf("keep %v: an older checkpoint after it: %v, want stale", keep, err)
		}
		if err := os.RemoveAll(filepath.Join(home, "checkpoints")); err != nil {
			t.Fatal(err)
		}
		err = tr.Accept(context.Background(), nil, p, older)
		if keep && !errors.Is(err, verify.ErrStale) {
			t.Fatalf("kept: an older checkpoint once the file is gone: %v, want stale", err)
		}
		if !keep && err != nil {
			t.Fatalf("not kept: the file gone, an older checkpoint is the first seen: %v", err)
		}
	}
}

// acceptConcurrently has goroutines of one long-running verifier accept
// the same checkpoints at once (go test -race watches the kept one): each
// is accepted or stale, never another error, and what is kept rules.
func acceptConcurrently(t *testing.T, vkey string, older, newer *verify.Checkpoint) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	HomeFlag(fs)
	tr := TrustFlags(fs)
	if err := fs.Parse([]string{"--home", t.TempDir(), "--log-key", vkey, "--max-age", "0"}); err != nil {
		t.Fatal(err)
	}
	tr.KeepOpened()
	p, err := tr.Policy()
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 32)
	for i := range 32 {
		go func() {
			cp := older
			if i%2 == 1 {
				cp = newer
			}
			errs <- tr.Accept(context.Background(), nil, p, cp)
		}()
	}
	for range 32 {
		if err := <-errs; err != nil && !errors.Is(err, verify.ErrStale) {
			t.Fatal(err)
		}
	}
	// Offline (no node to prove that newer extends older) a newer one is
	// kept only if it came first: either way the kept one still rules.
	kept := tr.seen[tr.seenPath(p, newer.Origin)]
	if kept == nil {
		t.Fatal("nothing kept")
	}
	err = tr.Accept(context.Background(), nil, p, older)
	if kept.Height == newer.Height && !errors.Is(err, verify.ErrStale) {
		t.Fatalf("newer kept, then the older checkpoint: %v, want stale", err)
	}
	if kept.Height == older.Height && err != nil {
		t.Fatalf("older kept, then older again: %v", err)
	}
}
