package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
)

// TestSpamQuota is issue 12's finding 7 through the API: fresh keys
// submitting at once get at most the free quota into each block, the rest
// waiting their turn rather than lost, while a key with standing is not
// held back; with no free quota they are refused at once, with a hint.
func TestSpamQuota(t *testing.T) {
	t.Run("waits its turn", func(t *testing.T) {
		tn := newTestNode(t, nodeOptions{params: func(p *ledger.Params) {
			two := uint64(2)
			p.FreeBlockTxs = &two
		}})
		var raws [][]byte
		for i := range 7 {
			raws = append(raws, anchorTx(t, keyFor(t, fmt.Sprint("spammer ", i)), 0, digest(fmt.Sprint("spam ", i))))
		}
		raws = append(raws, anchorTx(t, tn.alice, 0, digest("alice")))
		r := tn.do(t, "POST", "/v1/txs?wait=commit", "application/json", batchBody(t, raws...))
		for i, it := range decode[batchResponse](t, r, http.StatusOK).Results {
			if it.Error != nil || it.Code != "ok" {
				t.Fatalf("transaction %d: %+v", i, it)
			}
		}
		head := tn.node.Head().Height
		for h := uint64(1); h <= head; h++ {
			rec, err := tn.st.Block(h)
			if err != nil {
				t.Fatal(err)
			}
			fresh := len(rec.Txs)
			for _, raw := range rec.Txs {
				if idOf(t, raw) == idOf(t, raws[len(raws)-1]) {
					fresh--
				}
			}
			if fresh > 2 {
				t.Errorf("block %d holds %d transactions of fresh keys, more than free_block_txs 2", h, fresh)
			}
		}
		if head < 4 {
			t.Errorf("7 transactions of fresh keys, at most 2 a block, committed by height %d", head)
		}
	})
	t.Run("refused without a free quota", func(t *testing.T) {
		tn := newTestNode(t, nodeOptions{params: func(p *ledger.Params) { p.FreeBlockTxs = new(uint64) }})
		r := tn.submitJSON(t, anchorTx(t, keyFor(t, "spammer"), 0, digest("spam")), "")
		if e := wantError(t, r, http.StatusForbidden, "over_quota"); !strings.Contains(e.Hint, "DID") {
			t.Errorf("over_quota hint %q does not say how to get standing", e.Hint)
		}
		tn.commit(t, anchorTx(t, tn.alice, 0, digest("alice"))) // a key named in genesis has standing
	})
}
