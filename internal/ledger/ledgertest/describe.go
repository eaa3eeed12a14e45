package ledgertest

import (
	"fmt"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// describe renders a state value for the output: the module's Describe,
// else the ledger's own values decoded, else quoted (or its size, if
// long).
func (r *Runner) describe(key string, v []byte) string {
	if r.ext.Describe != nil {
		if s, ok := r.ext.Describe(key, v); ok {
			return s
		}
	}
	switch {
	case key == "ledger/params":
		var p ledger.Params
		if tx.Unmarshal(v, &p) == nil {
			s := fmt.Sprintf("params max_block_txs=%d max_block_bytes=%d", p.MaxBlockTxs, p.MaxBlockBytes)
			if p.MaxTxBytes != 0 {
				s += fmt.Sprintf(" max_tx_bytes=%d", p.MaxTxBytes)
			}
			if p.FreeBlockTxs != nil {
				s += fmt.Sprintf(" free_block_txs=%d", *p.FreeBlockTxs)
			}
			if p.FreeBlockBytes != nil {
				s += fmt.Sprintf(" free_block_bytes=%d", *p.FreeBlockBytes)
			}
			return s
		}
	case strings.HasPrefix(key, "ledger/acct/"):
		var a ledger.Account
		if tx.Unmarshal(v, &a) == nil {
			s := fmt.Sprintf("account %s seq=%d", a.Key.Alg, a.Sequence)
			if a.Label != "" {
				s += " label=" + a.Label
			}
			return s
		}
	}
	if len(v) > 64 {
		return fmt.Sprintf("(%d bytes)", len(v))
	}
	return fmt.Sprintf("%q", v)
}
