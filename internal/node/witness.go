package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/witness"
	"github.com/agora-ledger/agora/internal/witness/cosig"
)

// Witnessed is the newest checkpoint that every configured witness has
// cosigned: the height of its block and its log size.
type Witnessed struct {
	Height  uint64
	LogSize uint64
}

// The collector's timing. Variables, so that tests can shorten them.
var (
	// witnessTimeout bounds one add-checkpoint request.
	witnessTimeout = 10 * time.Second
	// roundTimeout is how long a round waits for a slow witness before
	// the others go on to a newer checkpoint.
	roundTimeout = 5 * time.Second
	// minBackoff and maxBackoff bound the wait before a witness that
	// failed is asked again; it doubles with each failure in a row.
	minBackoff = time.Second
	maxBackoff = time.Minute
	// maxCosignatureScan bounds how many heights with cosignatures New
	// reads back, newest first, to find what each witness last cosigned.
	maxCosignatureScan = 10000
)

// keyID names a signed-note key: its name and key hash.
type keyID struct {
	name string
	hash uint32
}

// signers returns the keys of the signature lines in lines. Lines that are
// not signature lines are skipped: the store holds only lines the
// collector checked.
func signers(lines []byte) map[keyID]bool {
	ids := map[keyID]bool{}
	for _, line := range strings.Split(string(lines), "\n") {
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if !ok || err != nil || len(sig) < 4 {
			continue
		}
		ids[keyID{name, binary.BigEndian.Uint32(sig)}] = true
	}
	return ids
}

// collector asks the node's witnesses to cosign its checkpoints and stores
// their cosignatures with the checkpoints (store.AddCosignatures).
//
// It works in rounds, so that the witnesses cosign the same checkpoints
// and one of them soon carries every cosignature: a round offers the
// newest checkpoint to each witness that has not cosigned it, with at most
// one request in flight per witness. The next round starts, with the
// newest checkpoint then, once every witness has answered or failed, or
// roundTimeout after the round began if one is slow; checkpoints committed
// meanwhile are skipped. A witness that fails is asked again after a
// backoff.
//
// One goroutine (run) owns the rounds; each witness has a goroutine of its
// own that makes its requests.
type collector struct {
	st     *store.Store
	log    *slog.Logger
	m      *metrics
	head   func() uint64 // the height of the last committed block
	client *http.Client
	ws     []*peer
	heads  chan struct{} // a block was committed; buffered, 1

	mu        sync.Mutex
	witnessed *Witnessed
}

// peer is one witness, as the collector sees it.
type peer struct {
	url  string // the add-checkpoint endpoint
	id   keyID
	v    note.Verifier
	jobs chan uint64 // heights to cosign; buffered, 1

	// Owned by the collector's run loop.
	busy     bool
	cosigned *uint64 // the newest height it cosigned, if any
	retryAt  time.Time
	backoff  time.Duration

	// Owned by the peer's goroutine once run starts: the size of the
	// tree the witness holds, as far as the node knows.
	size uint64
}

type outcome struct {
	p      *peer
	height uint64
	err    error
}

// newCollector returns the collector of ws, and reads back from the store
// what each witness last cosigned.
func newCollector(ws []WitnessConfig, st *store.Store, log *slog.Logger, m *metrics, head func() uint64) (*collector, error) {
	c := &collector{st: st, log: log, m: m, head: head, heads: make(chan struct{}, 1),
		client: &http.Client{Timeout: witnessTimeout}}
	for _, w := range ws {
		v, err := cosig.NewVerifier(w.Key)
		if err != nil {
			return nil, err
		}
		c.ws = append(c.ws, &peer{url: strings.TrimSuffix(w.URL, "/") + "/add-checkpoint",
			id: keyID{v.Name(), v.KeyHash()}, v: v, jobs: make(chan uint64, 1)})
	}
	if err := c.recall(); err != nil {
		return nil, fmt.Errorf("read back witness cosignatures: %w", err)
	}
	return c, nil
}

// recall finds, from the newest stored cosignatures, the height each
// witness last cosigned and the newest height all of them did.
func (c *collector) recall() error {
	scanned := 0
	missing := len(c.ws)
	var err error
	scanErr := c.st.ScanCosignatures(func(h uint64, lines []byte) (bool, error) {
		ids := signers(lines)
		all := true
		for _, p := range c.ws {
			switch {
			case !ids[p.id]:
				all = false
			case p.cosigned == nil:
				p.cosigned = &h
				missing--
				hdr, herr := c.st.Header(h)
				if herr != nil {
					return false, herr
				}
				p.size = hdr.LogSize
			}
		}
		if all && c.witnessed == nil {
			if err = c.setWitnessed(h); err != nil {
				return false, err
			}
		}
		scanned++
		return (missing > 0 || c.witnessed == nil) && scanned < maxCosignatureScan, nil
	})
	return errors.Join(scanErr, err)
}

// Witnessed returns the newest checkpoint all witnesses cosigned; ok is
// false if there is none yet.
func (c *collector) Witnessed() (w Witnessed, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.witnessed == nil {
		return Witnessed{}, false
	}
	return *c.witnessed, true
}

// setWitnessed records h as witnessed by all, if it is newer.
func (c *collector) setWitnessed(h uint64) error {
	hdr, err := c.st.Header(h)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.witnessed == nil || h > c.witnessed.Height {
		c.witnessed = &Witnessed{Height: h, LogSize: hdr.LogSize}
		c.m.witnessed.Set(float64(h))
	}
	return nil
}

// committed tells the collector a block was committed.
func (c *collector) committed() {
	select {
	case c.heads <- struct{}{}:
	default:
	}
}

// run runs rounds until ctx ends, and returns once every request has.
func (c *collector) run(ctx context.Context) {
	results := make(chan outcome)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, p := range c.ws {
		wg.Go(func() { c.serve(ctx, p, results) })
	}
	var target uint64
	var started time.Time
	first := true
	for {
		now := time.Now()
		head := c.head()
		busy := false
		for _, p := range c.ws {
			busy = busy || p.busy
		}
		if first || (head > target && (!busy || now.Sub(started) >= roundTimeout)) {
			target, started, first = head, now, false
		}
		var next time.Time // when to look again, if nothing happens before
		for _, p := range c.ws {
			switch {
			case p.busy, p.cosigned != nil && *p.cosigned >= target:
			case now.Before(p.retryAt):
				next = earliest(next, p.retryAt)
			default:
				p.busy, busy = true, true
				p.jobs <- target
			}
		}
		if busy && head > target {
			next = earliest(next, started.Add(roundTimeout))
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = time.NewTimer(time.Until(next))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-c.heads:
		case <-fire:
		case r := <-results:
			c.done(r)
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// done records how a witness's request ended.
func (c *collector) done(r outcome) {
	p := r.p
	p.busy = false
	if r.err == nil {
		h := r.height
		p.cosigned, p.backoff, p.retryAt = &h, 0, time.Time{}
		c.m.witnessRequests.WithLabelValues(p.id.name, "ok").Inc()
		return
	}
	p.backoff = min(max(2*p.backoff, minBackoff), maxBackoff)
	p.retryAt = time.Now().Add(p.backoff)
	result, level := "error", slog.LevelWarn
	if refused(r.err) {
		// The witness checked the checkpoint and found it inconsistent
		// with what it saw before: the log forked or was rewound.
		result, level = "refused", slog.LevelError
	}
	c.m.witnessRequests.WithLabelValues(p.id.name, result).Inc()
	c.log.Log(context.Background(), level, "witness did not cosign", "witness", p.id.name, "url", p.url,
		"height", r.height, "err", r.err, "retry_in", p.backoff)
}

// errRewound means a witness holds a larger tree than the checkpoint the
// node offers: the log was rewound (a node restarted from an older copy of
// its store), or forked.
var errRewound = errors.New("the witness holds a larger tree than this checkpoint's: the log was rewound or forked")

// errForked means a witness holds a tree of the checkpoint's size with
// another root hash.
var errForked = errors.New("the witness holds a tree of this size with another root hash: the log forked")

// refused reports whether err is a witness's verdict that the log is
// inconsistent with what it cosigned before.
func refused(err error) bool {
	return errors.Is(err, errRewound) || errors.Is(err, errForked) || errors.Is(err, witness.ErrInvalidProof)
}

// serve makes p's requests until ctx ends.
func (c *collector) serve(ctx context.Context, p *peer, results chan<- outcome) {
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-p.jobs:
			err := c.cosign(ctx, p, h)
			select {
			case results <- outcome{p, h, err}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// cosign asks p to cosign the checkpoint of height h, with a proof from
// the size p holds, and stores its cosignature. If p answers that it holds
// another size, cosign asks again once from that size.
func (c *collector) cosign(ctx context.Context, p *peer, h uint64) error {
	signed, err := c.st.Checkpoint(h)
	if err != nil {
		return err
	}
	hdr, err := c.st.Header(h)
	if err != nil {
		return err
	}
	size := hdr.LogSize
	for retried := false; ; retried = true {
		if p.size > size {
			return fmt.Errorf("checkpoint %d has %d entries, the witness holds %d: %w", h, size, p.size, errRewound)
		}
		proof, err := tlog.ConsistencyProof(c.st, p.size, size)
		if err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, witnessTimeout)
		lines, err := witness.Submit(rctx, c.client, p.url, p.size, proof, signed)
		cancel()
		var conflict *witness.ConflictError
		switch {
		case errors.As(err, &conflict) && conflict.Known == p.size:
			return fmt.Errorf("checkpoint %d of %d entries: %w", h, size, errForked)
		case errors.As(err, &conflict) && !retried:
			p.size = conflict.Known
			continue
		case err != nil:
			return err
		}
		lines, err = checkCosignature(p, signed, lines)
		if err != nil {
			return err
		}
		p.size = size
		return c.add(h, p, lines)
	}
}

// checkCosignature returns the lines of a witness's answer that are valid
// cosignatures of signed by p's key, and an error if there is none.
func checkCosignature(p *peer, signed, lines []byte) ([]byte, error) {
	n, err := note.Open(append(bytes.Clone(signed), lines...), note.VerifierList(p.v))
	if err != nil {
		return nil, fmt.Errorf("witness %s answered without a valid cosignature: %w", p.id.name, err)
	}
	var out []byte
	for _, s := range n.Sigs {
		out = fmt.Appendf(out, "— %s %s\n", s.Name, s.Base64)
	}
	return out, nil
}

// add stores p's cosignature lines of the checkpoint of height h, unless
// it already has one, and records h as witnessed if every witness has now
// cosigned it.
func (c *collector) add(h uint64, p *peer, lines []byte) error {
	have, err := c.st.Cosignatures(h)
	if err != nil {
		return err
	}
	if !signers(have)[p.id] {
		if err := c.st.AddCosignatures(h, lines); err != nil {
			return err
		}
		// Read again: another witness's lines may have been added since.
		if have, err = c.st.Cosignatures(h); err != nil {
			return err
		}
	}
	ids := signers(have)
	for _, q := range c.ws {
		if !ids[q.id] {
			return nil
		}
	}
	return c.setWitnessed(h)
}
