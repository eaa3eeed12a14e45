package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// Trust holds the flags, shared by every command that checks a node's
// answers, that say whom the caller trusts to sign the log's checkpoints:
// the log's key (--log-key, env AGORA_LOG_KEY), optionally with a quorum
// of witnesses (--witness, --quorum); or a network's validator set
// (--validators, env AGORA_VALIDATORS), of whose voting power more than
// two thirds must have signed.
type Trust struct {
	fs         *flag.FlagSet
	logKey     *string
	validators *string
	witnesses  StringList
	quorum     *int
	maxAge     *time.Duration
	now        func() time.Time
	opened     *verify.Opened
	// seen, with KeepOpened, keeps in memory the last checkpoint accepted
	// of each log (by its file), so that a long-running verifier reads
	// the file once; it still writes each newer one.
	mu   sync.Mutex
	seen map[string]*verify.Checkpoint
}

// defaultMaxAge bounds the age of a proven answer's checkpoint: a node
// makes a block every few seconds even when idle, so an older one is a
// node that stopped, or a replay.
const defaultMaxAge = 10 * time.Minute

// TrustFlags defines the trust flags on fs.
func TrustFlags(fs *flag.FlagSet) *Trust {
	t := &Trust{fs: fs, now: time.Now}
	t.logKey = fs.String("log-key", os.Getenv("AGORA_LOG_KEY"), "the log's signed-note verifier `KEY` that signs its checkpoints (env AGORA_LOG_KEY)")
	t.validators = fs.String("validators", os.Getenv("AGORA_VALIDATORS"), "a `FILE` with the network's validator set you trust: a genesis, or a saved GET /v1/ledger/validators (env AGORA_VALIDATORS); more than two thirds of its power must sign")
	fs.Var(&t.witnesses, "witness", "with --log-key: a witness's cosigner verifier `KEY` (repeatable)")
	t.quorum = fs.Int("quorum", 0, "with --log-key: how many of the --witness keys must have cosigned")
	t.maxAge = fs.Duration("max-age", defaultMaxAge, "refuse a proof whose checkpoint is older than this (0: any age)")
	return t
}

// Accept applies the freshness rules to cp, a checkpoint verified under
// policy p: it must be at most --max-age old, and must not go back on the
// last checkpoint of its log accepted before, kept in the home directory
// (--home, or AGORA_HOME) as a witness keeps it. A newer one must extend
// it: with a node to ask (c) accept fetches the consistency proof and
// then keeps cp; offline (c nil) it keeps what it had, since it cannot
// prove that cp extends it.
func (t *Trust) Accept(ctx context.Context, c *client.Client, p *verify.Policy, cp *verify.Checkpoint) error {
	if err := verify.Fresh(cp, t.now(), *t.maxAge); err != nil {
		return err
	}
	path := t.seenPath(p, cp.Origin)
	seen, err := t.lastSeen(path, p)
	if err != nil {
		return err
	}
	var proof *verify.ConsistencyProof
	if seen != nil && cp.Size > seen.Size {
		if c == nil {
			return nil
		}
		proof = &verify.ConsistencyProof{}
		if err := c.Get(ctx, fmt.Sprintf("/v1/proof/consistency?from=%d&to=%d", seen.Size, cp.Size), proof); err != nil {
			return fmt.Errorf("a consistency proof from the checkpoint seen before: %w", err)
		}
	}
	if err := verify.Follows(seen, cp, proof); err != nil {
		return err
	}
	if seen != nil && cp.Height <= seen.Height {
		return nil
	}
	t.remember(path, cp)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	// A temporary file of its own: several commands (a signer, an
	// operator's) may accept checkpoints in one home at once.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(cp.Signed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// lastSeen is the last checkpoint accepted of a log, kept in the file
// path (nil if none): read from memory once read, with KeepOpened.
func (t *Trust) lastSeen(path string, p *verify.Policy) (*verify.Checkpoint, error) {
	if t.opened != nil {
		t.mu.Lock()
		seen, ok := t.seen[path]
		t.mu.Unlock()
		if ok {
			return seen, nil
		}
	}
	var seen *verify.Checkpoint
	if b, err := os.ReadFile(path); err == nil {
		if seen, err = verify.OpenCheckpoint(b, *p); err != nil {
			return nil, ledger.WithHint(fmt.Errorf("%s: %w", path, err),
				"the checkpoint this client accepted before no longer verifies; remove the file if you changed whom you trust")
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if seen != nil {
		t.remember(path, seen)
	}
	return seen, nil
}

// remember keeps cp in memory as the last checkpoint accepted of the log
// kept in path, with KeepOpened, unless a higher one is kept already.
func (t *Trust) remember(path string, cp *verify.Checkpoint) {
	if t.opened == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if last := t.seen[path]; last == nil || cp.Height > last.Height {
		t.seen[path] = cp
	}
}

// seenPath is the file that keeps the last checkpoint of origin accepted
// under p: one per log and per whom the client trusts, so that two
// ledgers with one chain id (a dev ledger made again) do not clash.
func (t *Trust) seenPath(p *verify.Policy, origin string) string {
	dir := DefaultHome()
	if f := t.fs.Lookup("home"); f != nil {
		dir = f.Value.String()
	}
	id := sha256.New()
	fmt.Fprintln(id, p.LogKey)
	for _, v := range p.Validators {
		fmt.Fprintln(id, v.NoteKey, v.Power)
	}
	name := strings.NewReplacer("/", "_", ":", "_").Replace(origin) + "-" + hex.EncodeToString(id.Sum(nil)[:6])
	return filepath.Join(dir, "checkpoints", name)
}

// KeepOpened makes the policies t returns share one verify.Opened: a
// long-running verifier (a relying party) then verifies a checkpoint's
// signatures once, and every answer in full (verify.Policy.Opened), and
// keeps the last checkpoint it accepted in memory as well as in the home.
func (t *Trust) KeepOpened() {
	t.opened = &verify.Opened{}
	t.seen = map[string]*verify.Checkpoint{}
}

// Policy returns the policy the flags name, or nil if they name no one:
// then the node is trusted.
func (t *Trust) Policy() (*verify.Policy, error) {
	if *t.quorum > len(t.witnesses) {
		return nil, UsageError("--quorum %d but only %d --witness keys", *t.quorum, len(t.witnesses))
	}
	if *t.validators != "" {
		if len(t.witnesses) > 0 {
			return nil, UsageError("--witness goes with --log-key; a network's checkpoints are signed by its --validators")
		}
		vs, err := readValidators(*t.validators)
		if err != nil {
			return nil, err
		}
		return &verify.Policy{Validators: vs, Opened: t.opened}, nil
	}
	if *t.logKey == "" {
		if len(t.witnesses) > 0 {
			return nil, UsageError("--witness needs --log-key: the witnesses cosign the log's own checkpoints")
		}
		return nil, nil
	}
	return &verify.Policy{LogKey: *t.logKey, Witnesses: t.witnesses, Quorum: *t.quorum, Opened: t.opened}, nil
}

// readValidators reads a validator set: a genesis's "validators", or a
// GET /v1/ledger/validators answer (a list).
func readValidators(path string) ([]ledger.Validator, error) {
	b, err := ReadInput(path)
	if err != nil {
		return nil, err
	}
	var vs []ledger.Validator
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &vs)
	} else {
		var doc struct {
			Validators []ledger.Validator `json:"validators"`
		}
		err = json.Unmarshal(b, &doc)
		vs = doc.Validators
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(vs) == 0 {
		return nil, ledger.WithHint(fmt.Errorf("%s names no validators", path), "give a network's genesis.json or a saved GET /v1/ledger/validators answer")
	}
	for i := range vs {
		if err := vs[i].Validate(); err != nil {
			return nil, fmt.Errorf("%s: validator %d: %w", path, i, err)
		}
	}
	return vs, nil
}

// ValidatorsFile is the --validators FILE given (or AGORA_VALIDATORS), ""
// if none.
func (t *Trust) ValidatorsFile() string { return *t.validators }
