// Package verify checks an Agora node's answers offline: signed
// checkpoints (with witness cosignatures), inclusion of a transaction in
// the log, consistency between two checkpoints, and values of state
// proven against the state root a checkpoint carries. It needs nothing
// but the answers and the keys the caller trusts; it makes no network
// calls.
//
// # Trust
//
// A checkpoint is trusted when it is signed by the log's key (the
// signed-note verifier key a node reports as log_key in GET
// /v1/node/info, which a careful client pins), and, if the caller asks,
// cosigned by enough of the witnesses it trusts. Everything else is
// checked against a trusted checkpoint: its log root for transactions,
// its "agora/state" extension line for state.
//
// # Formats
//
// The JSON types below are what the node's API returns with proof=1 and
// from /v1/proof/...; docs/spec/log.md and docs/spec/state-map.md specify
// the proofs themselves.
package verify

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

// ErrInvalid means a proof, checkpoint or answer does not verify.
var ErrInvalid = errors.New("verification failed")

// Checkpoint is a verified checkpoint with the state it commits to.
type Checkpoint struct {
	*tlog.Checkpoint
	// Height and StateRoot are from the checkpoint's agora/state line.
	Height    uint64
	StateRoot []byte
	// Time is the block's time, from its agora/time line; zero if the
	// checkpoint has none.
	Time time.Time
	// Signed is the signed note it was opened from.
	Signed []byte
}

// newCheckpoint reads the state and time lines of c, opened from signed.
func newCheckpoint(c *tlog.Checkpoint, signed []byte) (*Checkpoint, error) {
	h, root, err := ledger.StateOf(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	out := &Checkpoint{Checkpoint: c, Height: h, StateRoot: root, Signed: signed}
	ms, ok, err := ledger.TimeOf(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if ok {
		out.Time = time.UnixMilli(ms).UTC()
	}
	return out, nil
}

// Policy says which checkpoints to trust.
type Policy struct {
	// LogKey is the log's signed-note verifier key.
	LogKey string
	// Witnesses are the witnesses' verifier keys, and Quorum how many of
	// them must have cosigned (0: none needed).
	Witnesses []string
	Quorum    int
	// Validators, if set, is the validator set of a network the caller
	// trusts (its genesis's, or one learned since): a checkpoint must then
	// be signed by validators holding more than two thirds of its voting
	// power (NetworkCheckpoint), and LogKey and the witnesses are not
	// used.
	Validators []ledger.Validator
	// Opened, if set, keeps the checkpoints opened, so that a verifier
	// checking many answers against one checkpoint verifies its
	// signatures once: the same signed bytes under the same policy open
	// to the same checkpoint (the cache is keyed by both).
	Opened *Opened
}

// Opened is a cache of opened checkpoints (Policy.Opened), safe for
// concurrent use. The zero value is empty and ready.
type Opened struct {
	mu sync.Mutex
	m  map[string]*Checkpoint
}

// maxOpened bounds an Opened: when full, it starts again empty.
const maxOpened = 64

// OpenCheckpoint verifies a signed checkpoint under p and returns it.
// The checkpoint is shared with other callers when p.Opened is set: do
// not modify it.
func OpenCheckpoint(signed []byte, p Policy) (*Checkpoint, error) {
	if p.Opened == nil {
		return openCheckpoint(signed, p)
	}
	o, key := p.Opened, p.cacheKey()+string(signed)
	o.mu.Lock()
	c, ok := o.m[key]
	o.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := openCheckpoint(signed, p)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	if o.m == nil || len(o.m) >= maxOpened {
		o.m = map[string]*Checkpoint{}
	}
	o.m[key] = c
	o.mu.Unlock()
	return c, nil
}

// cacheKey is what of p an Opened's keys hold.
func (p Policy) cacheKey() string {
	return fmt.Sprintf("%q %q %d %v\n", p.LogKey, p.Witnesses, p.Quorum, p.Validators)
}

func openCheckpoint(signed []byte, p Policy) (*Checkpoint, error) {
	if len(p.Validators) > 0 {
		c, _, err := NetworkCheckpoint(signed, p.Validators)
		return c, err
	}
	v, err := tlog.NewVerifier(p.LogKey)
	if err != nil {
		return nil, fmt.Errorf("%w: log key: %v", ErrInvalid, err)
	}
	var c *tlog.Checkpoint
	if p.Quorum > 0 {
		c, err = cosig.VerifyCosigned(signed, v, p.Witnesses, p.Quorum)
	} else {
		c, err = tlog.Open(signed, v)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint: %v", ErrInvalid, err)
	}
	return newCheckpoint(c, signed)
}

// InclusionProof shows that a log entry is in the log a checkpoint
// commits to. It is what GET /v1/tx/{hash}?proof=1 and
// POST /v1/tx?wait=commit return as "proof".
type InclusionProof struct {
	LeafIndex uint64   `json:"leaf_index"`
	Entry     []byte   `json:"entry"` // the canonical log entry
	Hashes    [][]byte `json:"inclusion"`
	// Checkpoint is a signed checkpoint whose size is the proof's tree
	// size.
	Checkpoint string `json:"checkpoint"`
}

// Inclusion verifies p under policy and returns the decoded log entry
// and the checkpoint.
func Inclusion(p *InclusionProof, policy Policy) (*ledger.LogEntry, *Checkpoint, error) {
	c, err := OpenCheckpoint([]byte(p.Checkpoint), policy)
	if err != nil {
		return nil, nil, err
	}
	if err := tlog.VerifyInclusion(p.LeafIndex, c.Size, tlog.LeafHash(p.Entry), p.Hashes, c.Hash); err != nil {
		return nil, nil, fmt.Errorf("%w: inclusion of leaf %d in a log of %d: %v", ErrInvalid, p.LeafIndex, c.Size, err)
	}
	e, err := ledger.DecodeLogEntry(p.Entry)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: log entry: %v", ErrInvalid, err)
	}
	return e, c, nil
}

// Transaction verifies that the signed envelope was committed with the
// result res, as p proves.
func Transaction(envelope []byte, res *ledger.Result, p *InclusionProof, policy Policy) (*ledger.LogEntry, *Checkpoint, error) {
	e, c, err := Inclusion(p, policy)
	if err != nil {
		return nil, nil, err
	}
	env := sha256.Sum256(envelope)
	if !bytes.Equal(env[:], e.EnvelopeHash) {
		return nil, nil, fmt.Errorf("%w: the log entry is of another envelope", ErrInvalid)
	}
	var s tx.Signed
	if err := tx.Unmarshal(envelope, &s); err != nil || s.ID() != e.TxID {
		return nil, nil, fmt.Errorf("%w: the envelope is not transaction %s", ErrInvalid, e.TxID)
	}
	if res != nil {
		if err := ResultOf(e, res); err != nil {
			return nil, nil, err
		}
	}
	return e, c, nil
}

// ConsistencyProof shows that the log at a newer checkpoint extends the
// log at an older one. It is what GET /v1/proof/consistency returns.
type ConsistencyProof struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes [][]byte `json:"consistency"`
}

// Consistency verifies that the checkpoint newer extends older, both
// trusted under policy, with proof p.
func Consistency(older, newer []byte, p *ConsistencyProof, policy Policy) error {
	a, err := OpenCheckpoint(older, policy)
	if err != nil {
		return fmt.Errorf("older %w", err)
	}
	b, err := OpenCheckpoint(newer, policy)
	if err != nil {
		return fmt.Errorf("newer %w", err)
	}
	if a.Origin != b.Origin {
		return fmt.Errorf("%w: checkpoints of two logs (%s, %s)", ErrInvalid, a.Origin, b.Origin)
	}
	if p.From != a.Size || p.To != b.Size {
		return fmt.Errorf("%w: the proof is from %d to %d, the checkpoints are of sizes %d and %d", ErrInvalid, p.From, p.To, a.Size, b.Size)
	}
	if err := tlog.VerifyConsistency(a.Size, b.Size, p.Hashes, a.Hash, b.Hash); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// StateProof proves the values (or absence) of state keys at the height of
// a checkpoint. It is what module queries return as "proof" with proof=1.
type StateProof struct {
	Checkpoint string     `json:"checkpoint"`
	Keys       []KeyProof `json:"keys"`
}

// KeyProof proves one key: Value is nil when the key is absent.
type KeyProof struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
	Proof []byte `json:"map_proof"`
}

// State verifies every key of p against the state root of its checkpoint,
// trusted under policy, and returns the proven values by key (absent keys
// map to nil) with the checkpoint.
func State(p *StateProof, policy Policy) (map[string][]byte, *Checkpoint, error) {
	c, err := OpenCheckpoint([]byte(p.Checkpoint), policy)
	if err != nil {
		return nil, nil, err
	}
	var root [32]byte
	copy(root[:], c.StateRoot)
	out := map[string][]byte{}
	for _, k := range p.Keys {
		mp, err := smt.ParseProof(k.Proof)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: proof of %q: %v", ErrInvalid, k.Key, err)
		}
		var vh *[32]byte
		if k.Value != nil {
			h := smt.ValueHash(k.Value)
			vh = &h
		}
		if err := mp.Verify(root, smt.KeyHash(k.Key), vh); err != nil {
			what := "value"
			if k.Value == nil {
				what = "absence"
			}
			return nil, nil, fmt.Errorf("%w: %s of %q at height %d: %v", ErrInvalid, what, k.Key, c.Height, err)
		}
		out[string(k.Key)] = k.Value
	}
	return out, c, nil
}

// ResultOf checks that the log entry e records the result res.
func ResultOf(e *ledger.LogEntry, res *ledger.Result) error {
	rb, err := tx.Marshal(res)
	if err != nil {
		return err
	}
	rh := sha256.Sum256(rb)
	if !bytes.Equal(rh[:], e.ResultHash) {
		return fmt.Errorf("%w: the log entry records another result", ErrInvalid)
	}
	return nil
}
