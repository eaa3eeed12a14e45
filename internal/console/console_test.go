package console

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestShare(t *testing.T) {
	for _, c := range []struct {
		desc     string
		permille any
		want     string
	}{
		{desc: "a simple majority", permille: float64(501), want: "more than half"},
		{desc: "half", permille: 500, want: "at least half"},
		{desc: "a supermajority", permille: uint32(667), want: "more than two thirds"},
		{desc: "three quarters", permille: int64(750), want: "at least three quarters"},
		{desc: "a third and a bit", permille: 334, want: "more than one third"},
		{desc: "everyone", permille: 1000, want: "all"},
		{desc: "no simple fraction", permille: 600, want: "at least 60%"},
		{desc: "tenths of a percent", permille: 605, want: "at least 60.5%"},
	} {
		if got := Share(c.permille); got != c.want {
			t.Errorf("%s: Share(%v) = %q, want %q", c.desc, c.permille, got, c.want)
		}
	}
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		desc string
		n    any
		want string
	}{
		{desc: "small", n: 12, want: "12"},
		{desc: "thousands", n: uint64(1204), want: "1,204"},
		{desc: "millions", n: float64(12345678), want: "12,345,678"},
		{desc: "negative", n: int64(-1000), want: "-1,000"},
	} {
		if got := Num(c.n); got != c.want {
			t.Errorf("%s: Num(%v) = %q, want %q", c.desc, c.n, got, c.want)
		}
	}
}

// millis is a module's own time type, as gov.Time is.
type millis int64

func TestWhen(t *testing.T) {
	const want = `<time datetime="2026-12-05T18:11:12.780Z">2026-12-05 18:11:12 UTC</time>`
	at := time.Date(2026, 12, 5, 19, 11, 12, 780e6, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		desc string
		v    any
		want string
	}{
		{desc: "a time in another zone", v: at, want: want},
		{desc: "RFC 3339", v: "2026-12-05T18:11:12.78Z", want: want},
		{desc: "milliseconds from JSON", v: float64(at.UnixMilli()), want: want},
		{desc: "a module's milliseconds", v: millis(at.UnixMilli()), want: want},
		{desc: "zero", v: millis(0), want: ""},
		{desc: "not a time", v: "soon", want: "soon"},
	} {
		if got := string(When(c.v)); got != c.want {
			t.Errorf("%s: When(%v) = %s, want %s", c.desc, c.v, got, c.want)
		}
	}
}

func TestDIDShortened(t *testing.T) {
	did := "did:agora:6z6ka7zfksblnacujwvr472ic4jkmdqnktsxa6plcrs6wne7lygq"
	got := string(DID(did))
	for _, want := range []string{`href="/did/did:agora:6z6ka7zfksblnacujwvr472ic4jkmdqnktsxa6plcrs6wne7lygq"`,
		`>did:agora:6z6ka7…lygq</a>`, `data-copy="` + did + `"`} {
		if !strings.Contains(got, want) {
			t.Errorf("DID(%s) = %s, lacks %s", did, got, want)
		}
	}
}

func TestDigestIgnoresLayout(t *testing.T) {
	if Digest([]byte("{\"a\": 1,\n \"b\": [2]}\n")) != Digest([]byte(`{"a":1,"b":[2]}`)) {
		t.Error("the digest of the same JSON differs by its spacing")
	}
}

// TestVerifierIsFresh rebuilds the in-browser verifier as go generate
// does and compares it with the committed assets/verify.wasm, so that a
// change to verify, the modules or the check package cannot ship with a
// stale verifier. A toolchain other than the stamp's builds other bytes:
// then the test is skipped, and says so.
func TestVerifierIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the verifier for js/wasm")
	}
	stamp, err := os.ReadFile("assets/verify.wasm.stamp")
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(stamp)); v != runtime.Version() {
		t.Skipf("assets/verify.wasm was built by %s, this is %s: its bytes cannot be compared; run go generate ./internal/console with %s to check",
			v, runtime.Version(), v)
	}
	out := filepath.Join(t.TempDir(), "verify.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, "./verifywasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the verifier: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("assets/verify.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := sha256.Sum256(fresh), sha256.Sum256(committed); !bytes.Equal(a[:], b[:]) {
		t.Fatalf("assets/verify.wasm (SHA-256 %x) is not what its sources build now (%x): run go generate ./internal/console", b, a)
	}
	wasmExec, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if mine, _ := os.ReadFile("assets/wasm_exec.js"); !bytes.Equal(mine, wasmExec) {
		t.Error("assets/wasm_exec.js is not this Go's: run go generate ./internal/console")
	}
}

func TestInWords(t *testing.T) {
	for _, c := range []struct{ desc, in, want string }{
		{desc: "seconds", in: "30s", want: "30 seconds"},
		{desc: "one minute", in: "1m0s", want: "1 minute"},
		{desc: "mixed", in: "26h1m5s", want: "1 day 2 hours 1 minute 5 seconds"},
		{desc: "not a duration", in: "soon", want: "soon"},
	} {
		if got := InWords(c.in); got != c.want {
			t.Errorf("%s: InWords(%q) = %q, want %q", c.desc, c.in, got, c.want)
		}
	}
}

func TestTextWritesTimesAsWhenAndThresholdsInWords(t *testing.T) {
	got := string(Text("the Board votes until 2026-12-05T18:11:42.78Z <now>; the Bylaws need 500‰ to vote"))
	want := "the Board votes until " + string(When("2026-12-05T18:11:42.78Z")) + " &lt;now&gt;; the Bylaws need at least half to vote"
	if got != want {
		t.Errorf("Text = %s, want %s", got, want)
	}
}

func TestValue(t *testing.T) {
	for _, c := range []struct {
		desc string
		v    any
		want string
	}{
		{desc: "a whole number from JSON", v: float64(16777216), want: "16,777,216"},
		{desc: "a fraction", v: 0.5, want: "0.5"},
		{desc: "a string", v: "open", want: "open"},
		{desc: "nothing", v: nil, want: "none"},
		{desc: "a list", v: []any{"a", float64(1)}, want: `["a",1]`},
	} {
		if got := Value(c.v); got != c.want {
			t.Errorf("%s: Value(%v) = %q, want %q", c.desc, c.v, got, c.want)
		}
	}
}

func TestThroughput(t *testing.T) {
	for _, c := range []struct {
		desc string
		n    int
		span time.Duration
		want string
	}{
		{desc: "busy", n: 30, span: 2 * time.Second, want: "15.0 transactions a second"},
		{desc: "quiet", n: 1, span: 10 * time.Second, want: "0.1 transactions a second"},
		{desc: "none", n: 0, span: time.Second, want: "no transactions lately"},
		{desc: "one block", n: 5, span: 0, want: "no transactions lately"},
	} {
		if got := throughput(c.n, c.span); got != c.want {
			t.Errorf("%s: throughput(%d, %s) = %q, want %q", c.desc, c.n, c.span, got, c.want)
		}
	}
}

func TestAttr(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, c := range []struct{ desc, key, value, want string }{
		{desc: "a DID", key: "did", value: "did:agora:6z6ka7zfksblnacujwvr472ic4jkmdqnktsxa6plcrs6wne7lygq", want: `href="/did/did:agora:6z6ka7zfksblnacujwvr472ic4jkmdqnktsxa6plcrs6wne7lygq"`},
		{desc: "a file's digest", key: "sha256", value: sum, want: `<a href="/anchor/` + sum + `">`},
		{desc: "a transaction", key: "tx", value: sum, want: `<a href="/tx/` + sum + `"`},
		{desc: "an account", key: "owner", value: strings.Repeat("0a", 20), want: `<code title="` + strings.Repeat("0a", 20) + `">0a0a0a0a…0a0a</code>`},
		{desc: "text", key: "title", value: "<b>", want: "&lt;b&gt;"},
	} {
		if got := string(Attr(c.key, c.value)); !strings.Contains(got, c.want) {
			t.Errorf("%s: Attr = %s, lacks %s", c.desc, got, c.want)
		}
	}
}
