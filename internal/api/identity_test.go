package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// identityTx is a signed identity message of type typ by key at seq.
func identityTx(t *testing.T, key *tx.PrivateKey, seq uint64, typ string, msg any) []byte {
	t.Helper()
	return msgTx(t, key, seq, identity.Name, typ, msg)
}

// msgTx is the message msg of module's type typ, signed by key at seq.
func msgTx(t *testing.T, key *tx.PrivateKey, seq uint64, module, typ string, msg any) []byte {
	t.Helper()
	body, err := tx.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, &tx.Tx{Version: tx.Version, ChainID: testChain, Module: module, Type: typ, Body: body,
		Signers: []tx.Signer{{Key: key.Public(), Sequence: seq}}, ExpiryHeight: 1 << 40}, key)
}

// deactivateTx is a "deactivate" signed by a DID's controller and its
// committed next key, which deactivates at once (the controller alone only
// proposes it: docs/spec/did-agora.md).
func deactivateTx(t *testing.T, did string, ctrl *tx.PrivateKey, ctrlSeq uint64, next *tx.PrivateKey, nextSeq uint64) []byte {
	t.Helper()
	body, err := tx.Marshal(&identity.Deactivate{DID: did})
	if err != nil {
		t.Fatal(err)
	}
	both, err := tx.Sign(&tx.Tx{Version: tx.Version, ChainID: testChain, Module: identity.Name, Type: "deactivate", Body: body,
		Signers: []tx.Signer{{Key: ctrl.Public(), Sequence: ctrlSeq}, {Key: next.Public(), Sequence: nextSeq}}, ExpiryHeight: 1 << 40}, ctrl, next)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := both.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestResolveDID resolves a DID over HTTP: 200 with a DID Resolution
// result, historical versions, 400 for a malformed DID, 404 for an unknown
// one, 410 with the last document for a deactivated one, and proof=1
// answers that verify against the log key.
func TestResolveDID(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	ctrl, next := keyFor(t, "did controller"), keyFor(t, "did next")
	c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}},
		Next: identity.Commitment(next.Public())}
	did := c.DID()
	tn.commit(t, identityTx(t, ctrl, 0, "create", c))
	path := "/1.0/identifiers/" + did

	r := decode[identity.Resolution](t, tn.get(t, path), http.StatusOK)
	if r.Document == nil || r.Document.ID != did || r.DocumentMetadata.VersionID != "1" || len(r.Document.VerificationMethod) != 2 {
		t.Fatalf("resolution %+v", r)
	}
	// The DID percent-encoded in the path resolves the same.
	decode[identity.Resolution](t, tn.get(t, "/1.0/identifiers/"+strings.ReplaceAll(did, ":", "%3A")), http.StatusOK)

	// Content negotiation: the resolution result, or the document alone.
	for _, c := range []struct {
		accept, contentType string
		document            bool
		status              int
	}{
		{accept: "", contentType: "application/json"},
		{accept: "*/*", contentType: "application/json"},
		{accept: "application/json", contentType: "application/json"},
		{accept: `application/ld+json;profile="https://w3id.org/did-resolution"`, contentType: `application/ld+json;profile="https://w3id.org/did-resolution"`},
		{accept: "application/did+ld+json", contentType: "application/did+ld+json", document: true},
		{accept: "text/html;q=0.9, application/did+json", contentType: "application/did+json", document: true},
		{accept: "application/did+json;q=0.5, application/did+ld+json", contentType: "application/did+ld+json", document: true},
		{accept: "application/did-resolution", contentType: "application/did-resolution"},
		{accept: "application/did-resolution;charset=utf-8", contentType: "application/did-resolution"},
		{accept: "application/did+json; charset=UTF-8", contentType: "application/did+json", document: true},
		{accept: "text/html", status: http.StatusNotAcceptable},
		{accept: "application/did+json;q=0", status: http.StatusNotAcceptable},
		{accept: "application/did+json;charset=iso-8859-1", status: http.StatusNotAcceptable},
	} {
		req, _ := http.NewRequest("GET", tn.srv.URL+path, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := tn.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.Header.Get("Vary") != "Accept" {
			t.Errorf("Accept %q: Vary %q, want Accept", c.accept, resp.Header.Get("Vary"))
		}
		if c.status != 0 {
			md, _ := body["didResolutionMetadata"].(map[string]any)
			if resp.StatusCode != c.status || md["error"] != identity.RepresentationNotSupported || body["didDocument"] != nil {
				t.Errorf("Accept %q: status %d %v, want %d with a representationNotSupported result", c.accept, resp.StatusCode, body, c.status)
			}
			continue
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.contentType {
			t.Errorf("Accept %q: %d %q, want 200 %q", c.accept, resp.StatusCode, resp.Header.Get("Content-Type"), c.contentType)
		}
		if _, isDoc := body["verificationMethod"]; isDoc != c.document || (body["didDocument"] == nil) == !c.document {
			t.Errorf("Accept %q: document alone %v, want %v", c.accept, isDoc, c.document)
		}
	}

	// The documents name Agora's context, which the node serves.
	if !slices.Contains(r.Document.Context, identity.Context) {
		t.Errorf("@context %v lacks %s", r.Document.Context, identity.Context)
	}
	cr := tn.get(t, "/ns/did/v1")
	if cr.status != http.StatusOK || cr.header.Get("Content-Type") != "application/ld+json" || string(cr.body) != string(identity.ContextDocument) {
		t.Errorf("GET /ns/did/v1: %d %q", cr.status, cr.header.Get("Content-Type"))
	}

	// A DID URL dereferences to the verification method.
	vr := tn.get(t, path+"%23key-0-jwk")
	if vm := decode[identity.Dereferencing](t, vr, http.StatusOK); vm.Content == nil || vm.Metadata.ContentType != identity.ContentType {
		t.Errorf("GET %s%%23key-0-jwk: %s", path, vr.body)
	}

	// Errors are resolution results with DID Resolution's codes and
	// statuses.
	for _, c := range []struct {
		path, code string
		status     int
	}{
		{path: "did:agora:nope", code: identity.InvalidDid, status: http.StatusBadRequest},
		{path: "did:example_222", code: identity.InvalidDid, status: http.StatusBadRequest},
		{path: "did:example:123", code: identity.MethodNotSupported, status: http.StatusNotImplemented},
		{path: "did:example:123?proof=1", code: identity.MethodNotSupported, status: http.StatusNotImplemented},
		{path: "did:agora:" + strings.Repeat("a", 52), code: identity.NotFound, status: http.StatusNotFound},
		{path: did + "?versionId=2", code: identity.NotFound, status: http.StatusNotFound},
		{path: did + "?versionId=x", code: identity.InvalidOptions, status: http.StatusBadRequest},
	} {
		res := decode[identity.Resolution](t, tn.get(t, "/1.0/identifiers/"+c.path), c.status)
		if res.ResolutionMetadata.Error != c.code || res.ResolutionMetadata.ErrorMessage == "" || res.Document != nil ||
			res.DocumentMetadata != (identity.DocumentMetadata{}) {
			t.Errorf("%s: %+v, want a %s result", c.path, res, c.code)
		}
	}

	// proof=1: the resolution is computed from point reads, each proven.
	policy := verify.Policy{LogKey: tn.logKey}
	pv := decode[struct {
		Value identity.Resolution `json:"value"`
		Proof verify.StateProof   `json:"proof"`
	}](t, tn.get(t, path+"?proof=1"), http.StatusOK)
	vals, _, err := verify.State(&pv.Proof, policy)
	if err != nil {
		t.Fatalf("verify.State: %v", err)
	}
	id, _ := identity.ParseDID(did)
	var st identity.State
	if err := tx.Unmarshal(vals["identity/d/"+id], &st); err != nil || st.DID() != did {
		t.Fatalf("proven state %+v (%v)", st, err)
	}
	d, err := st.Document()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(d)
	b, _ := json.Marshal(pv.Value.Document)
	if string(a) != string(b) {
		t.Errorf("the proven state renders\n%s\nbut the node answered\n%s", a, b)
	}
	// An unknown DID is proven absent.
	e := wantError(t, tn.get(t, "/1.0/identifiers/did:agora:"+strings.Repeat("b", 52)+"?proof=1"), http.StatusNotFound, "not_found")
	if e.Proof == nil {
		t.Fatal("absent with proof=1: no proof")
	}
	if vals, _, err := verify.State(e.Proof, policy); err != nil || vals["identity/d/"+strings.Repeat("b", 52)] != nil {
		t.Errorf("absence proof: %v", err)
	}

	// History: every event, and with proof=1 proven complete.
	hr := tn.get(t, "/v1/identity/dids/"+did+"/history")
	if hist := decode[identity.HistoryPage](t, hr, http.StatusOK); hist.Total != 1 || len(hist.Events) != 1 || hist.Events[0].Type != "create" || hist.Next != 0 {
		t.Errorf("history %s", hr.body)
	}
	checkHistoryProof(t, tn, policy, did, 1)
	wantError(t, tn.get(t, "/v1/identity/dids/did:agora:"+strings.Repeat("a", 52)+"/history"), http.StatusNotFound, "not_found")

	// Deactivated: 410 with the deactivated document's metadata, with and
	// without proof; version 1 still resolves.
	sr := tn.submitJSON(t, identityTx(t, next, 0, "deactivate", &identity.Deactivate{DID: did}), "?wait=commit")
	defer checkHistoryProof(t, tn, policy, did, 2)
	if res := decode[SubmitResponse](t, sr, http.StatusOK); res.Result.Code != "unauthorized" {
		t.Fatalf("deactivate by the next key: %s", sr.body)
	}
	// The controller and the committed next key together deactivate at
	// once (the controller alone only proposes it: docs/spec/did-agora.md).
	tn.commit(t, deactivateTx(t, did, ctrl, 1, next, 1))
	gone := decode[identity.Resolution](t, tn.get(t, path), http.StatusGone)
	if !gone.DocumentMetadata.Deactivated || gone.DocumentMetadata.VersionID != "2" {
		t.Errorf("deactivated: %+v", gone.DocumentMetadata)
	}
	pg := decode[Proven](t, tn.get(t, path+"?proof=1"), http.StatusGone)
	if pg.Proof == nil {
		t.Error("deactivated with proof=1: no proof")
	} else if _, _, err := verify.State(pg.Proof, policy); err != nil {
		t.Errorf("deactivated proof: %v", err)
	}
	decode[identity.Resolution](t, tn.get(t, path+"?versionId=1"), http.StatusOK)
	sr = tn.submitJSON(t, identityTx(t, ctrl, 2, "deactivate", &identity.Deactivate{DID: did}), "?wait=commit")
	if res := decode[SubmitResponse](t, sr, http.StatusOK); res.Result.Code != "gone" {
		t.Fatalf("deactivate twice: %s", sr.body)
	}
}

// checkHistoryProof fetches the history of did with proof=1, checks that
// it verifies and has n events, and that answers with an event removed or
// altered, or a proof that lacks an event, do not.
func checkHistoryProof(t *testing.T, tn *testNode, policy verify.Policy, did string, n int) {
	t.Helper()
	pv := decode[struct {
		Value json.RawMessage   `json:"value"`
		Proof verify.StateProof `json:"proof"`
	}](t, tn.get(t, "/v1/identity/dids/"+did+"/history?proof=1"), http.StatusOK)
	vals, _, err := verify.State(&pv.Proof, policy)
	if err != nil {
		t.Fatalf("history proof: %v", err)
	}
	var page struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(pv.Value, &page); err != nil || len(page.Events) != n {
		t.Fatalf("history of %d events, want %d (%v)", len(page.Events), n, err)
	}
	const from, limit = 1, identity.HistoryPageSize
	if err := identity.VerifyHistory(vals, did, from, limit, pv.Value); err != nil {
		t.Fatalf("the node's history does not verify: %v", err)
	}
	withEvents := func(evs []json.RawMessage) json.RawMessage {
		var v map[string]any
		json.Unmarshal(pv.Value, &v)
		v["events"] = evs
		b, _ := json.Marshal(v)
		return b
	}
	if err := identity.VerifyHistory(vals, did, from, limit, withEvents(page.Events[:n-1])); err == nil {
		t.Error("an answer without its last event verifies")
	}
	if err := identity.VerifyHistory(vals, did, from, limit, withEvents(page.Events[1:])); err == nil {
		t.Error("an answer without its first event verifies")
	}
	altered := slices.Clone(page.Events)
	altered[0] = json.RawMessage(strings.Replace(string(altered[0]), `"create"`, `"deactivate"`, 1))
	if err := identity.VerifyHistory(vals, did, from, limit, withEvents(altered)); err == nil {
		t.Error("an altered answer verifies")
	}
	id, _ := identity.ParseDID(did)
	delete(vals, fmt.Sprintf("identity/e/%s/%016x", id, n))
	if _, err := identity.ProvenHistory(vals, did, from, limit); err == nil {
		t.Error("a proof without the last event shows a history")
	}
}

// TestHistoryPaged: a long history is served in bounded pages, each
// proven on its own with proof=1; following next gives every event once.
func TestHistoryPaged(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	ctrl, next, other := keyFor(t, "paged controller"), keyFor(t, "paged next"), keyFor(t, "paged other")
	c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{identity.CapabilityInvocation}}},
		Next: identity.Commitment(next.Public())}
	did := c.DID()
	raws := [][]byte{identityTx(t, ctrl, 0, "create", c),
		identityTx(t, ctrl, 1, "add-key", &identity.AddKey{DID: did, Key: identity.KeySpec{PublicKey: other.Public(), Relationships: []string{identity.Authentication}}})}
	for i := range identity.HistoryPageSize / 2 {
		raws = append(raws, identityTx(t, ctrl, uint64(2+2*i), "suspend", &identity.SetStatus{DID: did, KeyID: "key-1"}),
			identityTx(t, ctrl, uint64(3+2*i), "reinstate", &identity.SetStatus{DID: did, KeyID: "key-1"}))
	}
	for _, raw := range raws {
		tn.commit(t, raw)
	}
	total := len(raws)
	policy := verify.Policy{LogKey: tn.logKey}
	seen := 0
	for from := 1; from != 0; {
		path := fmt.Sprintf("/v1/identity/dids/%s/history?proof=1&from=%d", did, from)
		r := tn.get(t, path)
		if len(r.body) > 256<<10 {
			t.Errorf("%s: a %d-byte answer", path, len(r.body))
		}
		pv := decode[struct {
			Value json.RawMessage   `json:"value"`
			Proof verify.StateProof `json:"proof"`
		}](t, r, http.StatusOK)
		vals, _, err := verify.State(&pv.Proof, policy)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := identity.VerifyHistory(vals, did, uint64(from), identity.HistoryPageSize, pv.Value); err != nil {
			t.Fatalf("%s does not verify: %v", path, err)
		}
		var page identity.HistoryPage
		json.Unmarshal(pv.Value, &page)
		if int(page.Total) != total || len(page.Events) == 0 || int(page.Events[0].Version) != seen+1 {
			t.Fatalf("%s: total %d, %d events from %d", path, page.Total, len(page.Events), page.Events[0].Version)
		}
		seen += len(page.Events)
		from = int(page.Next)
	}
	if seen != total {
		t.Errorf("the pages hold %d events, want %d", seen, total)
	}
	wantError(t, tn.get(t, "/v1/identity/dids/"+did+"/history?limit=1000"), http.StatusBadRequest, "invalid")
}

// TestIdentityRegistriesProven checks that a name lookup, a confidence
// score and a verification anchor prove their answers with proof=1,
// absences included: all three are point reads. (The score's and the
// anchor's reads of governance registries are proven the same way; the
// identity package's tests check they are point reads.)
func TestIdentityRegistriesProven(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	ctrl, next := keyFor(t, "score subject"), keyFor(t, "score next")
	c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{identity.CapabilityInvocation}}},
		Next: identity.Commitment(next.Public())}
	tn.commit(t, identityTx(t, ctrl, 0, "create", c))
	policy := verify.Policy{LogKey: tn.logKey}

	pv := decode[struct {
		Value identity.Score    `json:"value"`
		Proof verify.StateProof `json:"proof"`
	}](t, tn.get(t, "/v1/identity/dids/"+c.DID()+"/score?proof=1"), http.StatusOK)
	vals, _, err := verify.State(&pv.Proof, policy)
	if err != nil || pv.Value.Score != 0 {
		t.Fatalf("score %+v, proof: %v", pv.Value, err)
	}
	id, _ := identity.ParseDID(c.DID())
	if _, ok := vals["identity/ai/"+id]; !ok {
		t.Error("the score's proof does not cover the subject's attestation index")
	}

	for _, path := range []string{"/v1/identity/names/tokyo.exchange", "/v1/identity/verifications/" + strings.Repeat("ab", 32)} {
		e := wantError(t, tn.get(t, path+"?proof=1"), http.StatusNotFound, "not_found")
		if e.Proof == nil {
			t.Fatalf("%s: absent with proof=1, but no proof", path)
		}
		if _, _, err := verify.State(e.Proof, policy); err != nil {
			t.Errorf("%s: absence proof: %v", path, err)
		}
	}
	wantError(t, tn.get(t, "/v1/identity/names/Tokyo.exchange"), http.StatusBadRequest, "invalid")
}

// TestLedgerParamsProven: the ledger's governed parameters are served,
// and proven against the log key like any module's answer.
func TestLedgerParamsProven(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	p := decode[ledger.Params](t, tn.get(t, "/v1/ledger/params"), http.StatusOK)
	if p != ledger.DefaultParams() {
		t.Fatalf("params %+v", p)
	}
	pv := decode[struct {
		Value ledger.Params     `json:"value"`
		Proof verify.StateProof `json:"proof"`
	}](t, tn.get(t, "/v1/ledger/params?proof=1"), http.StatusOK)
	vals, _, err := verify.State(&pv.Proof, verify.Policy{LogKey: tn.logKey})
	if err != nil {
		t.Fatalf("params proof: %v", err)
	}
	var proven ledger.Params
	if err := tx.Unmarshal(vals["ledger/params"], &proven); err != nil || proven != pv.Value {
		t.Fatalf("proven params %+v (%v), answer %+v", proven, err, pv.Value)
	}
	if v := decode[[]ledger.Validator](t, tn.get(t, "/v1/ledger/validators"), http.StatusOK); len(v) != 0 {
		t.Fatalf("the embedded node has validators: %+v", v)
	}
}
