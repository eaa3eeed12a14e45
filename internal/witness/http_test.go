package witness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/witness"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

// The example request body of C2SP tlog-witness.
const specRequest = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`

func TestParseRequest(t *testing.T) {
	old, proof, cp, err := witness.ParseRequest([]byte(specRequest))
	if err != nil {
		t.Fatal(err)
	}
	if old != 20852014 || len(proof) != 4 || !strings.HasPrefix(string(cp), "example.com/behind-the-sofa\n20852163\n") {
		t.Fatalf("parsed old %d, %d proof hashes, checkpoint %q", old, len(proof), cp)
	}
	if got := witness.MarshalRequest(old, proof, cp); string(got) != specRequest {
		t.Fatalf("MarshalRequest gives\n%s\nwant\n%s", got, specRequest)
	}

	h := "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
	bad := []struct{ name, body string }{
		{"empty", ""},
		{"no old line", "\ncheckpoint\n"},
		{"Old", "Old 1\n\ncheckpoint\n"},
		{"leading zero", "old 01\n\ncheckpoint\n"},
		{"sign", "old +1\n\ncheckpoint\n"},
		{"two spaces", "old  1\n\ncheckpoint\n"},
		{"overflow", "old 18446744073709551616\n\ncheckpoint\n"},
		{"no empty line", "old 1\n" + h + "\n"},
		{"no checkpoint", "old 1\n" + h + "\n\n"},
		{"short hash", "old 1\nAAAA\n\ncheckpoint\n"},
		{"unpadded hash", "old 1\n" + strings.TrimSuffix(h, "=") + "\n\ncheckpoint\n"},
		{"URL alphabet", "old 1\n5-pKlUdi2LeF_BcMHBn-Ku6yhPGNCswZZD1X_6QgPd8=\n\ncheckpoint\n"},
		{"CRLF", "old 1\r\n\r\ncheckpoint\n"},
		{"64 proof lines", "old 1\n" + strings.Repeat(h+"\n", 64) + "\ncheckpoint\n"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := witness.ParseRequest([]byte(tt.body)); !errors.Is(err, witness.ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	if _, p, _, err := witness.ParseRequest([]byte("old 1\n" + strings.Repeat(h+"\n", 63) + "\ncheckpoint\n")); err != nil || len(p) != 63 {
		t.Fatalf("63 proof lines: %d, %v", len(p), err)
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"ok", nil, 200},
		{"malformed", fmt.Errorf("x: %w", witness.ErrMalformed), 400},
		{"bad signature", fmt.Errorf("x: %w", witness.ErrBadSignature), 403},
		{"unknown log", fmt.Errorf("x: %w", witness.ErrUnknownLog), 404},
		{"conflict", &witness.ConflictError{Known: 3}, 409},
		{"fork", fmt.Errorf("x: %w", witness.ErrConflict), 409},
		{"bad proof", fmt.Errorf("x: %w", witness.ErrInvalidProof), 422},
		{"too large", &http.MaxBytesError{Limit: 1}, 413},
		{"internal", errors.New("disk full"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := witness.StatusOf(tt.err); got != tt.want {
				t.Fatalf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	l := newLog(t).grow("entry", 30)
	e := newEnv(t, witness.Log{Origin: origin, Keys: []string{l.vkey}})
	var logs bytes.Buffer
	srv := httptest.NewServer(http.StripPrefix("/witness", witness.NewHandler(e.w, slog.New(slog.NewTextHandler(&logs, nil)))))
	defer srv.Close()
	url := srv.URL + "/witness/add-checkpoint"
	ctx := context.Background()

	// A log's side: Submit, append the cosignature, verify.
	msg := l.checkpoint(10)
	line, err := witness.Submit(ctx, srv.Client(), url, 0, nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	e.checkCosignature(msg, line)
	if _, err := cosig.VerifyCosigned(append(msg, line...), l.verifier(), []string{e.w.VerifierKey()}, 1); err != nil {
		t.Fatal(err)
	}
	// Submit reports the size the witness knows.
	_, err = witness.Submit(ctx, srv.Client(), url, 0, nil, l.checkpoint(20))
	var c *witness.ConflictError
	if !errors.As(err, &c) || c.Known != 10 {
		t.Fatalf("Submit from a stale size: %v, want a conflict at 10", err)
	}
	if _, err := witness.Submit(ctx, srv.Client(), url, c.Known, l.proof(10, 20), l.checkpoint(20)); err != nil {
		t.Fatal(err)
	}

	post := func(body string) (*http.Response, string) {
		t.Helper()
		resp, err := srv.Client().Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	flipped := l.proof(20, 30)
	flipped[0] = bytes.Clone(flipped[0])
	flipped[0][0] ^= 1
	unknown := newLogAt(t, "other.example/log", "other key").grow("x", 5)
	impostor, _ := logKey(t, origin, "impostor")
	forged := l.fork()
	forged.signer = impostor

	tests := []struct {
		name     string
		body     string
		status   int
		respBody string // if set, the exact response body
	}{
		{"malformed", "old x\n\n" + string(l.checkpoint(30)), 400, ""},
		{"old size beyond the checkpoint", string(witness.MarshalRequest(40, nil, l.checkpoint(30))), 400, ""},
		{"bad signature", string(witness.MarshalRequest(20, l.proof(20, 30), forged.checkpoint(30))), 403, ""},
		{"unknown log", string(witness.MarshalRequest(0, nil, unknown.checkpoint(5))), 404, ""},
		{"stale old size", string(witness.MarshalRequest(10, l.proof(10, 30), l.checkpoint(30))), 409, "20\n"},
		{"bad proof", string(witness.MarshalRequest(20, flipped, l.checkpoint(30))), 422, ""},
		{"too large", strings.Repeat("x", witness.MaxRequestSize+1), 413, ""},
		{"good", string(witness.MarshalRequest(20, l.proof(20, 30), l.checkpoint(30))), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.respBody != "" && body != tt.respBody {
				t.Fatalf("body %q, want %q", body, tt.respBody)
			}
			if tt.status == 409 && resp.Header.Get("Content-Type") != "text/x.tlog.size" {
				t.Fatalf("409 with Content-Type %q, want text/x.tlog.size", resp.Header.Get("Content-Type"))
			}
		})
	}
	if !strings.Contains(logs.String(), "consistency proof does not verify") {
		t.Errorf("the refused proof was not logged:\n%s", logs.String())
	}

	// Only POST /add-checkpoint exists.
	resp, err := srv.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}
	// Submit maps the statuses back to the errors.
	if _, err := witness.Submit(ctx, srv.Client(), url, 30, flipped, l.checkpoint(30)); !errors.Is(err, witness.ErrInvalidProof) {
		t.Errorf("Submit with a bad proof: %v, want ErrInvalidProof", err)
	}
	if _, err := witness.Submit(ctx, srv.Client(), url, 0, nil, forged.checkpoint(30)); !errors.Is(err, witness.ErrBadSignature) {
		t.Errorf("Submit with a bad signature: %v, want ErrBadSignature", err)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(specRequest))
	f.Add([]byte("old 0\n\nexample.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— example.com/log AAAA\n"))
	f.Add([]byte("old 01\n\nx"))
	f.Fuzz(func(t *testing.T, body []byte) {
		old, proof, cp, err := witness.ParseRequest(body)
		if err != nil {
			if !errors.Is(err, witness.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if got := witness.MarshalRequest(old, proof, cp); !bytes.Equal(got, body) {
			t.Fatalf("round trip: %q became %q", body, got)
		}
	})
}
