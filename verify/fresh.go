package verify

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/agora-ledger/agora/internal/tlog"
)

// A proof can be genuine and old: a node (or a proxy) that replays an
// older checkpoint shows an older state, where a file was not yet
// anchored or a key not yet revoked. A client therefore demands two
// things of every checkpoint it accepts: that it is recent (Fresh), and
// that it does not go back on the last checkpoint it accepted of that
// log, as a witness does (Follows).

// ErrStale means a checkpoint is older than the caller accepts: beyond
// the age bound, or behind a checkpoint of the same log seen before.
// Ask again, of another node if this one does not advance.
var ErrStale = errors.New("stale checkpoint")

// Fresh checks that c's block time is at most maxAge before now (0: any
// age). A checkpoint without a time is not fresh.
func Fresh(c *Checkpoint, now time.Time, maxAge time.Duration) error {
	if maxAge <= 0 {
		return nil
	}
	if c.Time.IsZero() {
		return fmt.Errorf("%w: the checkpoint at height %d carries no time", ErrStale, c.Height)
	}
	if age := now.Sub(c.Time); age > maxAge {
		return fmt.Errorf("%w: the checkpoint at height %d is of %s, %s old; at most %s accepted",
			ErrStale, c.Height, c.Time.Format(time.RFC3339), age.Round(time.Second), maxAge)
	}
	return nil
}

// Follows checks that c does not go back on seen, a checkpoint of the same
// log accepted before: it is not of a smaller log or a lower height, at
// the same height it is of the same log and state, at the same size it
// has the same root, and when larger it extends seen by the consistency
// proof p (p may be nil otherwise). A nil seen is followed by anything.
func Follows(seen, c *Checkpoint, p *ConsistencyProof) error {
	if seen == nil {
		return nil
	}
	switch {
	case seen.Origin != c.Origin:
		return fmt.Errorf("%w: checkpoints of two logs (%s, %s)", ErrInvalid, seen.Origin, c.Origin)
	case c.Height == seen.Height && (c.Size != seen.Size || !bytes.Equal(c.StateRoot, seen.StateRoot)):
		return fmt.Errorf("%w: two checkpoints of height %d (logs of %d and %d entries, state roots %x and %x): the ledger forked",
			ErrInvalid, c.Height, seen.Size, c.Size, seen.StateRoot, c.StateRoot)
	case c.Size < seen.Size || c.Height < seen.Height:
		return fmt.Errorf("%w: the checkpoint (size %d, height %d) is behind one seen before (size %d, height %d)",
			ErrStale, c.Size, c.Height, seen.Size, seen.Height)
	case c.Size == seen.Size:
		if !bytes.Equal(c.Hash, seen.Hash) {
			return fmt.Errorf("%w: two roots for a log of %d entries: the log forked", ErrInvalid, c.Size)
		}
		return nil
	case p == nil:
		return fmt.Errorf("%w: no consistency proof from the size %d seen before to %d", ErrInvalid, seen.Size, c.Size)
	case p.From != seen.Size || p.To != c.Size:
		return fmt.Errorf("%w: the proof is from %d to %d, the checkpoints are of sizes %d and %d", ErrInvalid, p.From, p.To, seen.Size, c.Size)
	}
	if err := tlog.VerifyConsistency(seen.Size, c.Size, p.Hashes, seen.Hash, c.Hash); err != nil {
		return fmt.Errorf("%w: the log does not extend the one seen before: %v", ErrInvalid, err)
	}
	return nil
}
