package cometbft

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/cometbft/cometbft/types"
)

// fakeRPC is a CometBFT RPC server that answers "commit" for a chain of
// latest blocks whose hashes depend on fork.
func fakeRPC(t *testing.T, latest int64, fork string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req rpctypes.RPCRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Method != "commit" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var p struct {
			Height *string `json:"height"`
		}
		json.Unmarshal(req.Params, &p)
		h := latest
		if p.Height != nil {
			h, _ = strconv.ParseInt(*p.Height, 10, 64)
		}
		hash := sha256.Sum256(fmt.Appendf(nil, "%s %d", fork, h))
		res := &ctypes.ResultCommit{SignedHeader: types.SignedHeader{
			Header: &types.Header{Height: h},
			Commit: &types.Commit{Height: h, BlockID: types.BlockID{Hash: hash[:]}},
		}}
		json.NewEncoder(w).Encode(rpctypes.NewRPCSuccessResponse(req.ID, res))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTrustBlock checks that TrustBlock trusts the newest block every
// server has, and only if they agree on its hash.
func TestTrustBlock(t *testing.T) {
	ctx := context.Background()
	a, b := fakeRPC(t, 12, "chain"), fakeRPC(t, 10, "chain")
	ss, err := TrustBlock(ctx, []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("chain 10"))
	if ss.TrustHeight != 10 || ss.TrustHash != fmt.Sprintf("%X", want) || !ss.Enable || len(ss.RPCServers) != 2 {
		t.Errorf("TrustBlock = %+v, want block 10 with hash %X", ss, want)
	}

	for _, tc := range []struct {
		name    string
		servers []string
		want    string
	}{
		{"disagreeing", []string{a, fakeRPC(t, 11, "fork")}, "disagree on block 11"},
		{"one server", []string{a}, "at least two"},
		{"one not answering", []string{a, "http://127.0.0.1:1"}, "RPC server http://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ss, err := TrustBlock(ctx, tc.servers); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("TrustBlock = %+v, %v; want an error saying %q", ss, err, tc.want)
			}
		})
	}
}
