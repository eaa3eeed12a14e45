package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	formats "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tlog"
)

// httpTiles is a golang.org/x/mod/sumdb/tlog TileReader over the node's
// C2SP tiles: sumdb names a tile tile/8/L/N, C2SP tile/L/N (height 8).
type httpTiles struct {
	t  *testing.T
	tn *testNode
}

func (h httpTiles) Height() int { return 8 }

func (h httpTiles) ReadTiles(tiles []sumdb.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		path := "/log/" + strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		r := h.tn.get(h.t, path)
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
		out[i] = r.body
	}
	return out, nil
}

func (httpTiles) SaveTiles([]sumdb.Tile, [][]byte) {}

// TestIndependentClients reads the node's log over HTTP with independent
// implementations of the specs it follows: checkpoints with
// golang.org/x/mod/sumdb/note and transparency-dev/formats, the tree with
// golang.org/x/mod/sumdb/tlog reading the served tiles, which proves and
// checks inclusion and consistency on its own.
func TestIndependentClients(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	verifier, err := note.NewVerifier(tn.logKey)
	if err != nil {
		t.Fatal(err)
	}
	origin := ledger.Origin(testChain)
	read := func() (*formats.Checkpoint, sumdb.Tree) {
		r := tn.get(t, "/log/checkpoint")
		if _, err := note.Open(r.body, note.VerifierList(verifier)); err != nil {
			t.Fatalf("sumdb/note does not open the checkpoint: %v\n%s", err, r.body)
		}
		c, ext, _, err := formats.ParseCheckpoint(r.body, origin, verifier)
		if err != nil {
			t.Fatalf("transparency-dev/formats does not parse the checkpoint: %v", err)
		}
		if !bytes.HasPrefix(ext, []byte(ledger.StatePrefix)) {
			t.Errorf("extension lines %q lack the state line", ext)
		}
		var h sumdb.Hash
		copy(h[:], c.Hash)
		return c, sumdb.Tree{N: int64(c.Size), Hash: h}
	}

	var first []byte
	for i := range 10 {
		sr := tn.commit(t, anchorTx(t, tn.alice, uint64(i), digest(fmt.Sprint("independent ", i))))
		if i == 0 {
			first = sr.Proof.Entry
		}
	}
	_, older := read()
	// Then enough for more than one full tile of 256 leaves.
	var txs []string
	for j := 10; j < 300; j++ {
		txs = append(txs, base64.StdEncoding.EncodeToString(anchorTx(t, tn.alice, uint64(j), digest(fmt.Sprint("independent ", j)))))
	}
	body, _ := json.Marshal(BatchRequest{Txs: txs})
	for _, item := range decode[batchResponse](t, tn.do(t, "POST", "/v1/txs?wait=commit", "application/json", body), http.StatusOK).Results {
		if item.Error != nil || item.Code != "ok" {
			t.Fatalf("batch item: %+v", item)
		}
	}
	c, tree := read()
	if c.Size != 300 {
		t.Fatalf("log size %d, want 300", c.Size)
	}

	hr := sumdb.TileHashReader(tree, httpTiles{t, tn})
	if th, err := sumdb.TreeHash(tree.N, hr); err != nil || th != tree.Hash {
		t.Fatalf("sumdb/tlog tree hash from the tiles = %x, %v; checkpoint says %x", th, err, tree.Hash)
	}
	for _, leaf := range []int64{0, 9, 255, 256, 299} {
		p, err := sumdb.ProveRecord(tree.N, leaf, hr)
		if err != nil {
			t.Fatalf("sumdb/tlog ProveRecord(%d): %v", leaf, err)
		}
		path := fmt.Sprintf("/log/tile/entries/%03d", leaf/256) // a full bundle
		if w := 300 - leaf/256*256; w < 256 {
			path += fmt.Sprintf(".p/%d", w)
		}
		r := tn.get(t, path)
		entries, err := tlog.ParseBundle(r.body)
		if r.status != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d, %v", path, r.status, err)
		}
		e := entries[leaf%256]
		if leaf == 0 && !bytes.Equal(e, first) {
			t.Error("entry 0 in the bundle is not the one the submit proof gave")
		}
		if err := sumdb.CheckRecord(p, tree.N, tree.Hash, leaf, sumdb.RecordHash(e)); err != nil {
			t.Errorf("sumdb/tlog CheckRecord(%d): %v", leaf, err)
		}
	}
	tp, err := sumdb.ProveTree(tree.N, older.N, hr)
	if err != nil {
		t.Fatal(err)
	}
	if err := sumdb.CheckTree(tp, tree.N, tree.Hash, older.N, older.Hash); err != nil {
		t.Errorf("sumdb/tlog CheckTree(%d -> %d): %v", older.N, tree.N, err)
	}
}
