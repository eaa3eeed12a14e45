// Package check is what the console's in-browser verifier runs
// (internal/console/verifywasm): the verify package's checks of a node's
// proof=1 answers, taking and returning JSON, with the outcome in a
// Report the page puts into words. It does no I/O: the page fetches the
// answers and passes the clock.
package check

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/asset"
	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// MaxAge is how old a checkpoint may be and still be fresh: a node makes
// a block at least every few seconds, empty or not, so an older one means
// a node (or something between it and the reader) that shows the past.
const MaxAge = 10 * time.Minute

// Trust is what the reader's browser trusts: the log key it pinned on
// its first visit, or a network's validator set.
type Trust struct {
	LogKey     string             `json:"log_key,omitempty"`
	Validators []ledger.Validator `json:"validators,omitempty"`
	// Witnesses, with LogKey, are the verifier keys of witnesses that
	// must all have cosigned the checkpoint.
	Witnesses []string `json:"witnesses,omitempty"`
}

// Report is the outcome of a check.
type Report struct {
	OK bool `json:"ok"`
	// Height, Size and Time are the checkpoint's: the block whose state
	// was checked, the log's size and the block's time (RFC 3339).
	Height uint64 `json:"height,omitempty"`
	Size   uint64 `json:"size,omitempty"`
	Time   string `json:"time,omitempty"`
	// Signers says who signed the checkpoint, in words.
	Signers string `json:"signers,omitempty"`
	// Digest is the hex SHA-256 of the proven answer's compact JSON,
	// which the page compares with the answer it was rendered from.
	Digest string `json:"digest,omitempty"`
	// Error says what failed; Stale is set when it is only the
	// checkpoint's age.
	Error string `json:"error,omitempty"`
	Stale bool   `json:"stale,omitempty"`
}

// modules are the modules whose queries the console proves.
func modules() []ledger.Module {
	base := []ledger.Module{identity.Module{}, notary.Module{}, gov.Module{}, credential.Module{}, consent.Module{}, asset.Module{}, custody.Module{}}
	acts := ledger.NewActions(base...)
	return []ledger.Module{identity.Module{}, notary.Module{}, gov.Module{Actions: acts}, credential.Module{}, consent.Module{}, asset.Module{}, custody.Module{}}
}

func policyOf(trust string) (verify.Policy, error) {
	var t Trust
	if err := json.Unmarshal([]byte(trust), &t); err != nil {
		return verify.Policy{}, fmt.Errorf("trust: %v", err)
	}
	if t.LogKey == "" && len(t.Validators) == 0 {
		return verify.Policy{}, errors.New("nothing to trust: no log key and no validators")
	}
	return verify.Policy{LogKey: t.LogKey, Validators: t.Validators, Witnesses: t.Witnesses, Quorum: len(t.Witnesses)}, nil
}

// report is the report of a check that ended with c and err.
func report(c *verify.Checkpoint, p verify.Policy, now int64, err error) string {
	r := Report{OK: err == nil}
	if c != nil {
		r.Height, r.Size = c.Height, c.Size
		if !c.Time.IsZero() {
			r.Time = c.Time.Format(time.RFC3339)
		}
		r.Signers = signers(c, p)
		if err == nil {
			if ferr := verify.Fresh(c, time.UnixMilli(now), MaxAge); ferr != nil {
				err, r.OK, r.Stale = ferr, false, true
			}
		}
	}
	if err != nil {
		r.Error = err.Error()
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// signers says who signed c under p: "the ledger's key", or "3 of 4
// validators".
func signers(c *verify.Checkpoint, p verify.Policy) string {
	switch {
	case len(p.Validators) == 0 && p.Quorum == 1:
		return "signed by the ledger's key and cosigned by the witness"
	case len(p.Validators) == 0 && p.Quorum > 1:
		return fmt.Sprintf("signed by the ledger's key and cosigned by all %d witnesses", p.Quorum)
	case len(p.Validators) == 0:
		return "signed by the ledger's key"
	}
	_, by, err := verify.NetworkCheckpoint(c.Signed, p.Validators)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("signed by %d of %d validators", len(by), len(p.Validators))
}

// Answer checks body, the proof=1 answer to the GET path, under trust
// (a Trust as JSON) at now (Unix milliseconds): the proof, then the
// query run again over the proven values, which must give the same
// answer. The report's Digest is the proven answer's.
func Answer(path string, body []byte, trust string, now int64) string {
	p, err := policyOf(trust)
	if err != nil {
		return report(nil, p, now, err)
	}
	m, q, arg, err := verify.FindQuery(modules(), path)
	if err != nil {
		return report(nil, p, now, err)
	}
	a, err := verify.ParseAnswer(body)
	if err != nil {
		return report(nil, p, now, err)
	}
	c, err := verify.Answer(m, q, arg, a, p)
	out := report(c, p, now, err)
	if err != nil || a.Refusal != "" {
		return out
	}
	var r Report
	json.Unmarshal([]byte(out), &r)
	var buf bytes.Buffer
	if err := json.Compact(&buf, a.Value); err == nil {
		h := sha256.Sum256(buf.Bytes())
		r.Digest = hex.EncodeToString(h[:])
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// Tx checks body, GET /v1/tx/{hash}?proof=1's answer, under trust at
// now: the envelope and the result are those the log entry records, the
// entry is in the log the checkpoint signs, and the transaction is the
// claim's, at the claim's height and index, with the claim's result and
// the content the claim shows.
func Tx(body []byte, trust, claim string, now int64) string {
	p, err := policyOf(trust)
	if err != nil {
		return report(nil, p, now, err)
	}
	var cl wire.TxClaim
	if err := json.Unmarshal([]byte(claim), &cl); err != nil {
		return report(nil, p, now, fmt.Errorf("claim: %v", err))
	}
	id, err := tx.ParseID(cl.Hash)
	if err != nil {
		return report(nil, p, now, fmt.Errorf("claim: %v", err))
	}
	var ans struct {
		Envelope  string                 `json:"envelope"`
		Height    uint64                 `json:"height"`
		Index     int                    `json:"index"`
		LeafIndex uint64                 `json:"leaf_index"`
		Result    ledger.Result          `json:"result"`
		Proof     *verify.InclusionProof `json:"proof"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return report(nil, p, now, fmt.Errorf("%w: the answer is not a transaction: %v", verify.ErrInvalid, err))
	}
	if ans.Proof == nil {
		return report(nil, p, now, fmt.Errorf("%w: the answer carries no proof", verify.ErrInvalid))
	}
	env, err := base64.StdEncoding.DecodeString(ans.Envelope)
	if err != nil {
		return report(nil, p, now, fmt.Errorf("%w: envelope: %v", verify.ErrInvalid, err))
	}
	leaf := ans.LeafIndex
	if cl.LeafIndex != nil {
		leaf = *cl.LeafIndex
	}
	e, c, err := verify.Transaction(env, &ans.Result, ans.Proof, p)
	if err == nil {
		var shown []byte
		if shown, err = hex.DecodeString(cl.Body); err == nil && cl.Body == "" {
			shown = nil
		}
		if err != nil {
			err = fmt.Errorf("claim: body: %v", err)
		} else {
			err = verify.CheckTx(e, ans.Proof.LeafIndex, env, verify.TxClaim{Hash: id, Height: cl.Height, Index: cl.Index,
				LeafIndex: leaf, ChainID: cl.ChainID, Module: cl.Module, Type: cl.Type, Body: shown})
		}
	}
	if err == nil {
		// verify.Transaction proved the answer's result and envelope.
		err = shows(cl, env, &ans.Result)
	}
	return report(c, p, now, err)
}

// shows checks what the claim shows against the proven envelope and
// result.
func shows(cl wire.TxClaim, env []byte, res *ledger.Result) error {
	bad := func(what string, shown, proven any) error {
		return fmt.Errorf("%w: the page shows %s %v, the proof %v", verify.ErrInvalid, what, shown, proven)
	}
	if res.Code != cl.Code {
		return bad("the outcome", cl.Code, res.Code)
	}
	if cl.Error != "" && cl.Error != res.Error {
		return bad("the reason", cl.Error, res.Error)
	}
	if cl.Events != nil && (len(cl.Events) > 0 || len(res.Events) > 0) {
		a, _ := json.Marshal(cl.Events)
		b, _ := json.Marshal(res.Events)
		if !bytes.Equal(a, b) {
			return bad("what it did", string(a), string(b))
		}
	}
	if cl.Signers == nil && cl.Fields == nil {
		return nil
	}
	_, t, err := tx.Decode(env)
	if err != nil {
		return fmt.Errorf("%w: envelope: %v", verify.ErrInvalid, err)
	}
	if cl.Signers != nil {
		if len(cl.Signers) != len(t.Signers) {
			return bad("signers", len(cl.Signers), len(t.Signers))
		}
		for i, s := range t.Signers {
			if cl.Signers[i].Address != s.Key.Address() || cl.Signers[i].Sequence != s.Sequence {
				return bad(fmt.Sprintf("signer %d", i+1), cl.Signers[i], wire.ClaimSigner{Address: s.Key.Address(), Sequence: s.Sequence})
			}
		}
	}
	if cl.Fields == nil {
		return nil
	}
	var m ledger.Module
	for _, mod := range modules() {
		if mod.Name() == t.Module {
			m = mod
		}
	}
	if m == nil {
		return fmt.Errorf("%w: the page shows fields of a %s transaction, which this verifier cannot read", verify.ErrInvalid, t.Module)
	}
	msg, err := m.Decode(t.Type, t.Body)
	if err != nil {
		return fmt.Errorf("%w: body: %v", verify.ErrInvalid, err)
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("%w: body: %v", verify.ErrInvalid, err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%w: body: %v", verify.ErrInvalid, err)
	}
	keys := make([]string, 0, len(cl.Fields))
	for k := range cl.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := pointer(doc, k)
		if !ok || v != cl.Fields[k] {
			return bad(k, cl.Fields[k], v)
		}
	}
	return nil
}

// pointer is the string at the JSON pointer ptr (RFC 6901) in doc.
func pointer(doc any, ptr string) (string, bool) {
	if ptr == "" {
		s, ok := doc.(string)
		return s, ok
	}
	if !strings.HasPrefix(ptr, "/") {
		return "", false
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch d := doc.(type) {
		case map[string]any:
			v, ok := d[tok]
			if !ok {
				return "", false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(d) || tok != strconv.Itoa(i) {
				return "", false
			}
			doc = d[i]
		default:
			return "", false
		}
	}
	s, ok := doc.(string)
	return s, ok
}

// Checkpoint checks a signed checkpoint (GET /log/checkpoint) under trust
// at now.
func Checkpoint(signed []byte, trust string, now int64) string {
	p, err := policyOf(trust)
	if err != nil {
		return report(nil, p, now, err)
	}
	c, err := verify.OpenCheckpoint(signed, p)
	return report(c, p, now, err)
}
