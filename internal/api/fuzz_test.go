package api

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// fuzzRoutes are the requests FuzzAPI varies: each gets the fuzzed path
// segment and body.
var fuzzRoutes = []struct{ method, path, contentType string }{
	{"POST", "/v1/tx", "application/json"},
	{"POST", "/v1/tx?wait=commit", "application/cbor"},
	{"POST", "/v1/txs", "application/json"},
	{"GET", "/v1/tx/%s?proof=1", ""},
	{"GET", "/v1/blocks/%s", ""},
	{"GET", "/v1/accounts/%s", ""},
	{"GET", "/v1/notary/anchors/%s?proof=1", ""},
	{"GET", "/v1/proof/inclusion?index=%s", ""},
	{"GET", "/v1/proof/consistency?from=%s", ""},
	{"GET", "/log/tile/%s", ""},
}

// FuzzAPI sends fuzzed bodies and path segments to every input of the API
// on a real node: nothing may panic, every answer must be JSON or a tile
// or checkpoint, every error must carry a stable code with its status,
// and nothing may be reported as an internal failure.
func FuzzAPI(f *testing.F) {
	bl := newBenchLedger(f, 10)
	codes := map[string]bool{}
	for _, c := range errorCodes() {
		codes[c] = true
	}
	f.Add(uint8(0), "", []byte(`{"tx":"oQ"}`))
	f.Add(uint8(1), "", []byte{0xa2, 0x01, 0x40, 0x02, 0x80})
	f.Add(uint8(1), "", truncatedEnvelope(f))
	f.Add(uint8(2), "", []byte(`{"txs":["AAAA","",null]}`))
	f.Add(uint8(3), strings.Repeat("0", 64), []byte(nil))
	f.Add(uint8(4), "latest", []byte(nil))
	f.Add(uint8(5), strings.Repeat("a", 40), []byte(nil))
	f.Add(uint8(6), strings.Repeat("f", 64), []byte(nil))
	f.Add(uint8(7), "0", []byte(nil))
	f.Add(uint8(8), "3&to=1", []byte(nil))
	f.Add(uint8(9), "0/000.p/5", []byte(nil))
	f.Add(uint8(9), "entries/x001/000", []byte(nil))
	f.Fuzz(func(t *testing.T, route uint8, segment string, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := r.path
		if strings.Contains(path, "%s") {
			path = strings.Replace(path, "%s", segment, 1)
		}
		if strings.ContainsAny(path, " \t\r\n#") || !strings.HasPrefix(path, "/") {
			return // not a request line a client can send
		}
		req, err := http.NewRequest(r.method, path, strings.NewReader(string(body)))
		if err != nil {
			return
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		w := httptest.NewRecorder()
		bl.h.ServeHTTP(w, req)
		ct := w.Header().Get("Content-Type")
		if w.Code >= 300 && w.Code < 400 {
			return // ServeMux redirects a path that is not clean ("/v1/tx/.")
		}
		if w.Code < 400 {
			if ct != "application/json" && ct != "application/octet-stream" && !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("%s %s: %d with Content-Type %q", r.method, path, w.Code, ct)
			}
			return
		}
		var e struct{ Error *Error }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil {
			t.Fatalf("%s %s: %d with a body that is not a JSON error: %q", r.method, path, w.Code, w.Body)
		}
		if !codes[e.Error.Code] || statusOf(e.Error.Code) != w.Code {
			t.Fatalf("%s %s: %d with code %q (status for it: %d)", r.method, path, w.Code, e.Error.Code, statusOf(e.Error.Code))
		}
		if e.Error.Code == "internal" || e.Error.Code == "storage" {
			t.Fatalf("%s %s (body %q): an input caused an internal failure: %s", r.method, path, body, e.Error.Message)
		}
	})
}

// truncatedEnvelope is the first half of a signed envelope: what a client
// that stopped sending leaves.
func truncatedEnvelope(f *testing.F) []byte {
	seed := sha256.Sum256([]byte("agora api fuzz key"))
	key, err := tx.NewPrivateKey(tx.Ed25519, seed[:])
	if err != nil {
		f.Fatal(err)
	}
	body, err := tx.Marshal(&notary.Anchor{SHA256: seed[:], MediaType: "text/plain"})
	if err != nil {
		f.Fatal(err)
	}
	s, err := tx.Sign(&tx.Tx{Version: tx.Version, ChainID: testChain, Module: notary.Name, Type: "anchor", Body: body,
		Signers: []tx.Signer{{Key: key.Public()}}, ExpiryHeight: 1 << 40}, key)
	if err != nil {
		f.Fatal(err)
	}
	raw, err := s.Encode()
	if err != nil {
		f.Fatal(err)
	}
	return raw[:len(raw)/2]
}
