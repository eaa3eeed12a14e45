package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// A proof alone says only that some keys have some values. An answer is
// verified when the query it answers, run again over the proven values
// alone, gives the same answer (or the same refusal): then every field it
// shows is derived from proven state, and a forged value, a proof of
// unrelated keys or an empty proof is refused.

// Answered is a query's answer as the node serves it with proof=1: the
// value and its proof, or (Refusal set) the error code it refused with
// and the proof of the state that made it refuse.
type Answered struct {
	Value   json.RawMessage
	Refusal string
	Proof   *StateProof
	// Proven is the query's answer run over the proven values, once
	// Answer has verified a (nil for a refusal): the same as Value,
	// already decoded.
	Proven any
}

// ParseAnswer reads a proof=1 answer: {"value": ..., "proof": ...}, or a
// refusal {"error": {"code": ..., "proof": ...}}.
func ParseAnswer(body []byte) (*Answered, error) {
	var doc struct {
		Value json.RawMessage `json:"value"`
		Proof *StateProof     `json:"proof"`
		Error *struct {
			Code  string      `json:"code"`
			Proof *StateProof `json:"proof"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: the answer is not JSON: %v", ErrInvalid, err)
	}
	a := &Answered{Value: doc.Value, Proof: doc.Proof}
	if doc.Error != nil {
		a.Refusal, a.Proof = doc.Error.Code, doc.Error.Proof
		if a.Refusal == "" {
			a.Refusal = "error"
		}
	}
	if a.Proof == nil {
		return nil, fmt.Errorf("%w: the answer carries no proof", ErrInvalid)
	}
	return a, nil
}

// Answer verifies a as module m's answer to query q with the arguments
// arg: the proof under policy, then q run over the proven values alone,
// whose answer (or refusal code) must be a's. It returns the checkpoint
// the answer is proven against.
func Answer(m ledger.Module, q ledger.Query, arg func(string) string, a *Answered, policy Policy) (*Checkpoint, error) {
	vals, c, err := State(a.Proof, policy)
	if err != nil {
		return nil, err
	}
	ans, qerr := q.Run(ledger.NewReadView(ledger.Proven(vals), m.Name(), nil), arg)
	if a.Refusal != "" {
		if qerr == nil || ledger.Code(qerr) != a.Refusal {
			return nil, fmt.Errorf("%w: the node refused (%s), the proven state says %v", ErrInvalid, a.Refusal, orOK(qerr))
		}
		return c, nil
	}
	if qerr != nil {
		return nil, fmt.Errorf("%w: the proven state does not give this answer: %v", ErrInvalid, qerr)
	}
	mine, err := json.Marshal(ans)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(mine, a.Value) { // a node's answer is compact; another spacing is the same answer
		var x, y bytes.Buffer
		if json.Compact(&x, mine) != nil || json.Compact(&y, a.Value) != nil || !bytes.Equal(x.Bytes(), y.Bytes()) {
			return nil, fmt.Errorf("%w: the answer differs from the proven state's", ErrInvalid)
		}
	}
	a.Proven = ans
	return c, nil
}

// Verified reads body, a proof=1 answer (ParseAnswer), and verifies it
// as module m's answer to query q with the arguments args (Answer).
// Every answer is verified in full, its proofs and the query run again;
// with policy.Opened set, only the checkpoint's signatures are not
// checked again when the same signed checkpoint was opened before.
func Verified(m ledger.Module, q ledger.Query, args map[string]string, body []byte, policy Policy) (*Answered, *Checkpoint, error) {
	a, err := ParseAnswer(body)
	if err != nil {
		return nil, nil, err
	}
	c, err := Answer(m, q, func(n string) string { return args[n] }, a, policy)
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

func orOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

// FindQuery finds the query of mods that answers the request path
// (with its query string, as in "/v1/identity/dids/did:agora:x?version-id=2")
// and returns it with its arguments: the path's wildcards and the query
// string's parameters.
func FindQuery(mods []ledger.Module, path string) (ledger.Module, ledger.Query, func(string) string, error) {
	u, err := url.Parse(path)
	if err != nil {
		return nil, ledger.Query{}, nil, fmt.Errorf("%q is not a request path: %w", path, err)
	}
	params := u.Query()
	params.Del("proof")
	got := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for _, m := range mods {
		for _, q := range m.Queries() {
			method, pattern, _ := strings.Cut(q.Pattern, " ")
			if method != "GET" {
				continue
			}
			wild, ok := matchPattern(strings.Split(strings.Trim(pattern, "/"), "/"), got)
			if !ok {
				continue
			}
			return m, q, func(n string) string {
				if v, ok := wild[n]; ok {
					return v
				}
				return params.Get(n)
			}, nil
		}
	}
	return nil, ledger.Query{}, nil, fmt.Errorf("no module query answers %s", u.Path)
}

// matchPattern matches escaped path segments against a ServeMux pattern's
// segments ("{name}" one segment, "{name...}" the rest).
func matchPattern(pattern, path []string) (map[string]string, bool) {
	wild := map[string]string{}
	for i, p := range pattern {
		if name, ok := strings.CutPrefix(p, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if rest, ok := strings.CutSuffix(name, "..."); ok {
				if i >= len(path) {
					return nil, false
				}
				v, err := url.PathUnescape(strings.Join(path[i:], "/"))
				if err != nil {
					return nil, false
				}
				wild[rest] = v
				return wild, true
			}
			if i >= len(path) || path[i] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(path[i])
			if err != nil {
				return nil, false
			}
			wild[name] = v
			continue
		}
		if i >= len(path) || path[i] != p {
			return nil, false
		}
	}
	return wild, len(pattern) == len(path)
}

// TxClaim is what an answer about a committed transaction shows beside
// its proof (GET /v1/tx/{hash}?proof=1). A zero Hash, an empty string and
// a nil slice are not shown, and not checked; the position (Height,
// Index, LeafIndex) always is.
type TxClaim struct {
	Hash                  tx.ID
	Height                uint64
	Index                 int
	LeafIndex             uint64
	ChainID, Module, Type string
	Body                  []byte
	Signers               []tx.Signer
}

// CheckTx checks that claim shows what the log entry e, proven at leaf,
// and the envelope (nil if the answer has none) say: a field that neither
// proves, or that differs, is an error.
func CheckTx(e *ledger.LogEntry, leaf uint64, envelope []byte, claim TxClaim) error {
	bad := func(field string, shown, proven any) error {
		return fmt.Errorf("%w: the answer shows %s %v, the proof %v", ErrInvalid, field, shown, proven)
	}
	switch {
	case claim.Hash != (tx.ID{}) && claim.Hash != e.TxID:
		return bad("hash", claim.Hash, e.TxID)
	case claim.Height != e.Height:
		return bad("height", claim.Height, e.Height)
	case claim.Index != int(e.Index):
		return bad("index", claim.Index, e.Index)
	case claim.LeafIndex != leaf:
		return bad("leaf index", claim.LeafIndex, leaf)
	}
	shows := claim.ChainID != "" || claim.Module != "" || claim.Type != "" || claim.Body != nil || claim.Signers != nil
	if envelope == nil {
		if shows {
			return fmt.Errorf("%w: the answer shows the transaction's content without its envelope, which alone proves it", ErrInvalid)
		}
		return nil
	}
	_, t, err := tx.Decode(envelope)
	if err != nil {
		return fmt.Errorf("%w: envelope: %v", ErrInvalid, err)
	}
	switch {
	case claim.ChainID != "" && claim.ChainID != t.ChainID:
		return bad("chain", claim.ChainID, t.ChainID)
	case claim.Module != "" && claim.Module != t.Module:
		return bad("module", claim.Module, t.Module)
	case claim.Type != "" && claim.Type != t.Type:
		return bad("type", claim.Type, t.Type)
	case claim.Body != nil && !bytes.Equal(claim.Body, t.Body):
		return bad("body", fmt.Sprintf("%x", claim.Body), fmt.Sprintf("%x", t.Body))
	}
	if claim.Signers != nil {
		if len(claim.Signers) != len(t.Signers) {
			return bad("signers", len(claim.Signers), len(t.Signers))
		}
		for i, s := range claim.Signers {
			if s.Key.Address() != t.Signers[i].Key.Address() || s.Sequence != t.Signers[i].Sequence {
				return bad(fmt.Sprintf("signer %d", i+1), fmt.Sprintf("%s (sequence %d)", s.Key.Address(), s.Sequence),
					fmt.Sprintf("%s (sequence %d)", t.Signers[i].Key.Address(), t.Signers[i].Sequence))
			}
		}
	}
	return nil
}
