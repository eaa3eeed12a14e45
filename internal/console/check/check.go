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
	"time"

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

// Claim is what a page shows of a transaction, and so what Tx checks
// beside the proof.
type Claim struct {
	Hash   string `json:"hash"`
	Height uint64 `json:"height"`
	Index  int    `json:"index"`
	// Code is the result code the page shows ("ok": accepted).
	Code string `json:"code"`
}

// Tx checks body, GET /v1/tx/{hash}?proof=1's answer, under trust at
// now: the envelope and the result are those the log entry records, the
// entry is in the log the checkpoint signs, and the transaction is the
// claim's, at the claim's height and index, with the claim's result code.
func Tx(body []byte, trust, claim string, now int64) string {
	p, err := policyOf(trust)
	if err != nil {
		return report(nil, p, now, err)
	}
	var cl Claim
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
		Module    string                 `json:"module"`
		Type      string                 `json:"type"`
		ChainID   string                 `json:"chain_id"`
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
	e, c, err := verify.Transaction(env, &ans.Result, ans.Proof, p)
	if err == nil {
		err = verify.CheckTx(e, ans.Proof.LeafIndex, env, verify.TxClaim{Hash: id, Height: cl.Height, Index: cl.Index,
			LeafIndex: ans.LeafIndex, ChainID: ans.ChainID, Module: ans.Module, Type: ans.Type})
	}
	switch {
	case err != nil:
	case ans.Height != cl.Height || ans.Index != cl.Index:
		err = fmt.Errorf("%w: the page shows block %d position %d, the proof %d position %d", verify.ErrInvalid, cl.Height, cl.Index, ans.Height, ans.Index)
	case ans.Result.Code != cl.Code:
		// verify.Transaction proved the answer's result.
		err = fmt.Errorf("%w: the page shows the outcome %q, the proof %q", verify.ErrInvalid, cl.Code, ans.Result.Code)
	}
	return report(c, p, now, err)
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
