package ledger

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// StatePrefix begins the checkpoint extension line that carries the state
// root: "agora/state <height> <base64 state root>". See docs/spec/log.md.
const StatePrefix = "agora/state "

// TimePrefix begins the checkpoint extension line that carries the
// block's time, so that a client can tell how fresh a proof is:
// "agora/time <Unix milliseconds>". See docs/spec/log.md.
const TimePrefix = "agora/time "

// Origin returns the log origin of a chain: the name in its checkpoints
// and of the key that signs them.
func Origin(chainID string) string { return "agora.ledger/" + chainID }

// Checkpoint returns the checkpoint that commits to the log and the state
// after the block h heads.
func (h *Header) Checkpoint() *tlog.Checkpoint {
	return &tlog.Checkpoint{
		Origin: Origin(h.ChainID),
		Size:   h.LogSize,
		Hash:   h.LogRoot,
		Extensions: []string{fmt.Sprintf("%s%d %s", StatePrefix, h.Height, base64.StdEncoding.EncodeToString(h.AppHash)),
			fmt.Sprintf("%s%d", TimePrefix, h.Time)},
	}
}

// StateOf reads the height and state root from a checkpoint's extension
// line.
func StateOf(c *tlog.Checkpoint) (height uint64, root []byte, err error) {
	for _, line := range c.Extensions {
		rest, ok := strings.CutPrefix(line, StatePrefix)
		if !ok {
			continue
		}
		hs, rs, ok := strings.Cut(rest, " ")
		if !ok {
			break
		}
		height, err := strconv.ParseUint(hs, 10, 64)
		if err != nil || strconv.FormatUint(height, 10) != hs {
			break
		}
		root, err := base64.StdEncoding.Strict().DecodeString(rs)
		if err != nil || len(root) != 32 {
			break
		}
		return height, root, nil
	}
	return 0, nil, fmt.Errorf("%w: checkpoint has no well-formed %q line", tx.ErrMalformed, strings.TrimSpace(StatePrefix))
}

// TimeOf reads the block time (Unix milliseconds) from a checkpoint's
// agora/time line; ok is false if it has none (a checkpoint signed before
// the line was added).
func TimeOf(c *tlog.Checkpoint) (ms int64, ok bool, err error) {
	for _, line := range c.Extensions {
		rest, found := strings.CutPrefix(line, TimePrefix)
		if !found {
			continue
		}
		ms, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || ms < 0 || strconv.FormatInt(ms, 10) != rest {
			return 0, false, fmt.Errorf("%w: checkpoint has a malformed %q line", tx.ErrMalformed, strings.TrimSpace(TimePrefix))
		}
		return ms, true, nil
	}
	return 0, false, nil
}
