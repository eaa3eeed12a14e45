package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/verify"
)

// view is a consistent snapshot of the ledger with its head, and the
// newest checkpoint all the node's witnesses had cosigned when it was
// taken, if any.
type view struct {
	*store.Snapshot
	head      *ledger.Header
	witnessed *node.Witnessed
}

func (s *Server) view() (*view, error) {
	// Read before the snapshot, so that the snapshot holds the witnessed
	// checkpoint and its cosignatures.
	w, witnessed := s.node.Witnessed()
	snap := s.node.Store().Snapshot()
	h, err := snap.Head()
	if err != nil {
		snap.Close()
		return nil, err
	}
	hdr, err := snap.Header(h)
	if err != nil {
		snap.Close()
		return nil, err
	}
	v := &view{Snapshot: snap, head: hdr}
	if witnessed {
		v.witnessed = &w
	}
	return v, nil
}

// signedCheckpoint returns the signed checkpoint of the block at height h
// with the witness cosignatures the node has collected for it: the log's
// signed note with the cosignature lines appended after its signature.
func (v *view) signedCheckpoint(h uint64) (string, error) {
	c, err := v.Checkpoint(h)
	if errors.Is(err, ledger.ErrNotFound) {
		return "", &Error{Status: 501, Code: "not_implemented", Message: "this node does not sign checkpoints"}
	}
	if err != nil {
		return "", err
	}
	cosigs, err := v.Cosignatures(h)
	if err != nil {
		return "", err
	}
	return string(c) + string(cosigs), nil
}

// checkpoint returns the head's signed checkpoint, with the cosignatures
// it has so far.
func (v *view) checkpoint() (string, error) { return v.signedCheckpoint(v.head.Height) }

// checkpointOfSize returns the signed checkpoint, with its cosignatures,
// that a proof to a log of size entries is checked against: the head's if
// it has that size, else the witnessed checkpoint's (see logCheckpoint) if
// it has, else none ("").
func (v *view) checkpointOfSize(size uint64) (string, error) {
	switch {
	case size == v.head.LogSize:
		return v.checkpoint()
	case v.witnessed != nil && size == v.witnessed.LogSize:
		return v.signedCheckpoint(v.witnessed.Height)
	}
	return "", nil
}

// logCheckpoint serves GET /log/checkpoint, as C2SP tlog-tiles says: the
// latest signed checkpoint, with its cosignatures. With witnesses, that is
// the newest checkpoint all of them have cosigned (the head's until one
// has); otherwise the head's.
func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	c, err := s.latestCheckpoint()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(c))
}

// latestCheckpoint is the checkpoint GET /log/checkpoint serves.
func (s *Server) latestCheckpoint() (string, error) {
	v, err := s.view()
	if err != nil {
		return "", err
	}
	defer v.Close()
	h := v.head.Height
	if v.witnessed != nil {
		h = v.witnessed.Height
	}
	return v.signedCheckpoint(h)
}

// logTile serves GET /log/tile/...: hash tiles and entry bundles (C2SP
// tlog-tiles). Tiles never change, so they may be cached for ever.
func (s *Server) logTile(w http.ResponseWriter, r *http.Request) {
	t, err := tlog.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, &Error{Status: 404, Code: "not_found", Message: fmt.Sprintf("no tile %s: %v", r.URL.Path, err)})
		return
	}
	v, err := s.view()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer v.Close()
	size := v.head.LogSize
	var body []byte
	if t.Entries {
		if err = t.Check(size); err == nil {
			entries := make([][]byte, t.Width)
			for i := range entries {
				if entries[i], err = v.Entry(t.Index*256 + uint64(i)); err != nil {
					break
				}
			}
			if err == nil {
				body, err = tlog.MarshalBundle(entries)
			}
		}
	} else {
		body, err = tlog.ReadTile(v, t, size)
	}
	if errors.Is(err, tlog.ErrNoTile) {
		s.writeError(w, r, &Error{Status: 404, Code: "not_found", Message: fmt.Sprintf("no tile %s in a log of %d entries", r.URL.Path, size)})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(body)
}

// uintArg parses a query parameter; def is used if it is absent.
func uintArg(r *http.Request, name string, def uint64) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("%s=%q is not a number", name, s)}
	}
	return v, nil
}

// InclusionResponse answers GET /v1/proof/inclusion.
type InclusionResponse struct {
	Index  uint64   `json:"index"`
	Size   uint64   `json:"size"`
	Hashes [][]byte `json:"inclusion"`
	// Checkpoint is the signed checkpoint of the log of size entries,
	// with the cosignatures it has so far, if size is the head's or that
	// of the checkpoint GET /log/checkpoint serves.
	Checkpoint string `json:"checkpoint,omitempty"`
}

func (s *Server) proofInclusion(r *http.Request) (any, int, error) {
	v, err := s.view()
	if err != nil {
		return nil, 0, err
	}
	defer v.Close()
	index, err := uintArg(r, "index", 0)
	if err != nil {
		return nil, 0, err
	}
	if r.URL.Query().Get("index") == "" {
		return nil, 0, &Error{Status: 400, Code: "invalid", Message: "index is required", Hint: "GET /v1/proof/inclusion?index=I[&size=N]"}
	}
	size, err := uintArg(r, "size", v.head.LogSize)
	if err != nil {
		return nil, 0, err
	}
	if size > v.head.LogSize || index >= size {
		return nil, 0, &Error{Status: 400, Code: "invalid",
			Message: fmt.Sprintf("no leaf %d in a log of %d (the log has %d entries)", index, size, v.head.LogSize)}
	}
	hashes, err := tlog.InclusionProof(v, index, size)
	if err != nil {
		return nil, 0, err
	}
	resp := InclusionResponse{Index: index, Size: size, Hashes: hashes}
	if resp.Checkpoint, err = v.checkpointOfSize(size); err != nil {
		return nil, 0, err
	}
	return resp, 0, nil
}

// ConsistencyResponse answers GET /v1/proof/consistency.
type ConsistencyResponse struct {
	verify.ConsistencyProof
	// Checkpoint is the signed checkpoint of the log of to entries,
	// with the cosignatures it has so far, if to is the head's size or
	// that of the checkpoint GET /log/checkpoint serves.
	Checkpoint string `json:"checkpoint,omitempty"`
}

func (s *Server) proofConsistency(r *http.Request) (any, int, error) {
	v, err := s.view()
	if err != nil {
		return nil, 0, err
	}
	defer v.Close()
	if r.URL.Query().Get("from") == "" {
		return nil, 0, &Error{Status: 400, Code: "invalid", Message: "from is required", Hint: "GET /v1/proof/consistency?from=M[&to=N]"}
	}
	from, err := uintArg(r, "from", 0)
	if err != nil {
		return nil, 0, err
	}
	to, err := uintArg(r, "to", v.head.LogSize)
	if err != nil {
		return nil, 0, err
	}
	if to > v.head.LogSize || from > to {
		return nil, 0, &Error{Status: 400, Code: "invalid",
			Message: fmt.Sprintf("no consistency proof from %d to %d (the log has %d entries)", from, to, v.head.LogSize)}
	}
	hashes, err := tlog.ConsistencyProof(v, from, to)
	if err != nil {
		return nil, 0, err
	}
	resp := ConsistencyResponse{ConsistencyProof: verify.ConsistencyProof{From: from, To: to, Hashes: hashes}}
	if resp.Checkpoint, err = v.checkpointOfSize(to); err != nil {
		return nil, 0, err
	}
	return resp, 0, nil
}

// inclusionAt proves leaf in the log as of the block at height, with that
// block's checkpoint as signed returns it.
func inclusionAt(v *view, leaf, height uint64, signed func(h uint64) (string, error)) (*verify.InclusionProof, error) {
	hdr := v.head
	if height != v.head.Height {
		var err error
		if hdr, err = v.Header(height); err != nil {
			return nil, err
		}
	}
	entry, err := v.Entry(leaf)
	if err != nil {
		return nil, err
	}
	hashes, err := tlog.InclusionProof(v, leaf, hdr.LogSize)
	if err != nil {
		return nil, err
	}
	c, err := signed(height)
	if err != nil {
		return nil, err
	}
	return &verify.InclusionProof{LeafIndex: leaf, Entry: entry, Hashes: hashes, Checkpoint: c}, nil
}

// quorumWait bounds how long a proof waits for its checkpoint's
// signatures (quorumCheckpoint): a network signs a block's checkpoint in
// the next block, a second or so later.
var quorumWait = 10 * time.Second

// quorumCheckpoint returns the signed checkpoint of the block at height h
// (at most v's head) with the signatures of the driver's trust quorum, as
// a proof at h must carry for a client that trusts that quorum and not
// the node. On a network the validators sign a block's checkpoint in the
// next block, and configured witnesses cosign after the fact, so a proof
// at the head would carry this node's signature alone, which a client
// with --validators rightly refuses. It waits, at most quorumWait and
// while ctx lasts, until the quorum has signed h or a later checkpoint,
// then reads h's signatures from the store, where they are kept with the
// checkpoint; v's snapshot, taken before, still holds the state at h. A
// node without a quorum (no witnesses) answers with its own checkpoint at
// once; one whose quorum does not sign in time answers with the
// signatures it has, which the client judges.
func (s *Server) quorumCheckpoint(ctx context.Context, v *view, h uint64) (string, error) {
	if _, ok := s.node.Witnessed(); !ok || v.witnessed != nil && v.witnessed.Height >= h {
		return v.signedCheckpoint(h)
	}
	ctx, cancel := context.WithTimeout(ctx, quorumWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if w, ok := s.node.Witnessed(); ok && w.Height >= h {
			break
		}
		select {
		case <-ctx.Done():
			return v.signedCheckpoint(h)
		case <-tick.C:
		}
	}
	later := &view{Snapshot: s.node.Store().Snapshot()}
	defer later.Close()
	return later.signedCheckpoint(h)
}

// stateProof proves the keys a query read, at the view's head, with the
// head's checkpoint c.
func stateProof(v *view, pv *smt.Prover, reads *ledger.Reads, c string) (*verify.StateProof, error) {
	p := &verify.StateProof{Checkpoint: c, Keys: []verify.KeyProof{}}
	seen := map[string]bool{}
	for i, k := range reads.Keys {
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		val := reads.Values[i] // read from the same snapshot by the query
		mp, err := pv.Prove(v, smt.KeyHash(k))
		if err != nil {
			return nil, err
		}
		b, err := mp.MarshalBinary()
		if err != nil {
			return nil, err
		}
		p.Keys = append(p.Keys, verify.KeyProof{Key: k, Value: val, Proof: b})
	}
	return p, nil
}
