package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// The event feed: GET /v1/events.
//
// Every event a transaction's execution emitted (ledger.Result.Events) is
// an event of the feed, in log order. An event's position is its cursor
// "HEIGHT.INDEX.N" (verify.Cursor): the N-th event of the INDEX-th
// transaction of block HEIGHT. A client follows the feed by asking for
// the events after the last cursor it saw, as a long poll (wait=) or as
// Server-Sent Events (Accept: text/event-stream); each answer says where
// to go on from, so a client that reconnects misses nothing and sees
// nothing twice.
//
// One request scans at most maxEventBlocks blocks per look, so a filter
// that matches rarely still answers promptly: the answer then carries
// fewer events (or none) and a Next cursor further on. With proof=1 the
// feed runs only to the height of the checkpoint the proofs are against,
// the one GET /log/checkpoint serves. The requests that hold their
// connection, streams and long polls, are at most max_event_streams at
// once (holdStream).

const (
	// maxEventBlocks bounds the blocks one look scans.
	maxEventBlocks = 1000
	// maxEvents bounds the events of one answer (the limit parameter's
	// ceiling); defaultEvents is its default.
	maxEvents     = 1000
	defaultEvents = 100
	// maxEventWait bounds a long poll.
	maxEventWait = 60 * time.Second
	// headPoll is how often a waiting request looks for a new block.
	headPoll = 50 * time.Millisecond
	// sseKeepAlive is how often an idle event stream sends a comment, so
	// that proxies keep it open and a closed client is noticed.
	sseKeepAlive = 15 * time.Second
)

// eventQuery is a parsed request of the feed.
type eventQuery struct {
	filter verify.EventFilter
	after  verify.Cursor
	limit  int
	wait   time.Duration
	proof  bool
}

func (s *Server) parseEventQuery(r *http.Request) (*eventQuery, error) {
	q := r.URL.Query()
	eq := &eventQuery{filter: verify.EventFilter{Module: q.Get("module"), Type: q.Get("type")}, limit: defaultEvents, proof: wantProof(r)}
	for _, a := range q["attr"] {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("attr %q is not KEY=VALUE", a), Hint: "for example attr=id=1"}
		}
		eq.filter.Attrs = append(eq.filter.Attrs, ledger.Attr{Key: k, Value: v})
	}
	after := q.Get("after")
	if after == "" {
		after = r.Header.Get("Last-Event-ID")
	}
	if after == "" {
		// From now on: after every event of the feed's head.
		eq.after = verify.Cursor{Height: s.feedHead(eq.proof), End: true}
	} else {
		c, err := verify.ParseCursor(after)
		if err != nil {
			return nil, &Error{Status: 400, Code: "invalid", Message: err.Error(), Hint: "use the cursor or next of an earlier answer, or a height (after=0 for the whole history)"}
		}
		eq.after = c
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxEvents {
			return nil, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("limit %q is not a number from 1 to %d", l, maxEvents)}
		}
		eq.limit = n
	}
	if w := q.Get("wait"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 || d > maxEventWait {
			return nil, &Error{Status: 400, Code: "invalid", Message: fmt.Sprintf("wait %q is not a duration from 0s to %s", w, maxEventWait), Hint: "for example wait=30s"}
		}
		eq.wait = d
	}
	return eq, nil
}

// feedHead is the height the feed runs to: the head, or with proof the
// height of the checkpoint proofs are against (see provenHeight).
func (s *Server) feedHead(proof bool) uint64 {
	if proof {
		if w, ok := s.node.Witnessed(); ok {
			return w.Height
		}
	}
	return s.node.Head().Height
}

// provenHeight is the height of the checkpoint a view proves events
// against: the one GET /log/checkpoint serves.
func (v *view) provenHeight() uint64 {
	if v.witnessed != nil {
		return v.witnessed.Height
	}
	return v.head.Height
}

// scanEvents returns the events after q.after in the blocks up to top
// that match q's filter: at most q.limit of them, from at most
// maxEventBlocks blocks. A block's events are its transactions', then its
// scheduled work's (ledger.DueEvents), at the index after the last
// transaction.
func (s *Server) scanEvents(q *eventQuery, top uint64) (*EventsView, error) {
	sv, err := s.view()
	if err != nil {
		return nil, err
	}
	defer sv.Close()
	v := &EventsView{Events: []EventView{}, Head: top}
	next := q.after
	h := q.after.Height
	if q.after.End || h == 0 {
		h++ // nothing of that block is left (the genesis has no transactions)
	}
	for scanned := 0; h <= top && scanned < maxEventBlocks; h, scanned = h+1, scanned+1 {
		rec, err := s.node.Store().Block(h)
		if err != nil {
			return nil, err
		}
		first := rec.Header.LogSize - uint64(len(rec.Txs))
		// add appends the n-th event of the result at index i, unless it
		// is not asked for; it reports whether the answer is full.
		add := func(i, n int, ev *ledger.Event, id *tx.ID, leaf *uint64) bool {
			if !q.after.Before(h, i, n) || !q.filter.Match(ev) {
				return false
			}
			c := verify.Cursor{Height: h, Index: i, N: n}
			v.Events = append(v.Events, EventView{Cursor: c.String(), Height: h, Index: i, N: n, Time: time.UnixMilli(rec.Header.Time).UTC(),
				Tx: id, Leaf: leaf, Scheduled: id == nil, Module: ev.Module, Type: ev.Type, Attrs: ev.Attrs})
			if len(v.Events) == q.limit {
				v.Next = c.String()
				return true
			}
			return false
		}
		for i := range rec.Results {
			if len(rec.Results[i].Events) == 0 {
				continue
			}
			id, err := txID(rec.Txs[i])
			if err != nil {
				return nil, err
			}
			leaf := first + uint64(i)
			for n := range rec.Results[i].Events {
				if add(i, n, &rec.Results[i].Events[n], &id, &leaf) {
					return v, nil
				}
			}
		}
		due, ok, err := ledger.DueEvents(sv, h, len(rec.Txs))
		if err != nil {
			return nil, err
		}
		for n := 0; ok && n < len(due.Events); n++ {
			if add(len(rec.Txs), n, &due.Events[n], nil, nil) {
				return v, nil
			}
		}
		next = verify.Cursor{Height: h, End: true}
	}
	v.Next = next.String()
	return v, nil
}

func txID(raw []byte) (tx.ID, error) {
	var st tx.Signed
	if err := tx.Unmarshal(raw, &st); err != nil {
		return tx.ID{}, fmt.Errorf("a committed transaction does not decode: %w", err)
	}
	return st.ID(), nil
}

// proveEvents adds to each event its proof: a transaction's result and
// its log entry's inclusion against the checkpoint GET /log/checkpoint
// serves, which is at or above every event's height (the feed ran only to
// it); scheduled work's result and the state proof of the key the block
// kept it under, against the head's checkpoint as a query's proof.
func (s *Server) proveEvents(ctx context.Context, v *EventsView) error {
	if len(v.Events) == 0 {
		return nil
	}
	lv, err := s.view()
	if err != nil {
		return err
	}
	defer lv.Close()
	at := lv.provenHeight()
	var rec *ledger.Record
	var headCheckpoint string // for the state proofs
	for i := range v.Events {
		ev := &v.Events[i]
		if ev.Height > at {
			return fmt.Errorf("api: event %s is above the proven height %d", ev.Cursor, at)
		}
		if ev.Scheduled {
			if headCheckpoint == "" {
				if headCheckpoint, err = s.quorumCheckpoint(ctx, lv, lv.head.Height); err != nil {
					return err
				}
			}
			if ev.Proof, err = proveScheduled(lv, s.prover, ev, headCheckpoint); err != nil {
				return err
			}
			continue
		}
		if rec == nil || rec.Header.Height != ev.Height {
			if rec, err = s.node.Store().Block(ev.Height); err != nil {
				return err
			}
		}
		inc, err := inclusionAt(lv, *ev.Leaf, at, lv.signedCheckpoint)
		if err != nil {
			return err
		}
		ev.Proof = &verify.EventProof{Result: rec.Results[ev.Index], Inclusion: inc}
	}
	return nil
}

// proveScheduled proves an event of scheduled work at the view's head,
// with the head's checkpoint c.
func proveScheduled(lv *view, pv *smt.Prover, ev *EventView, c string) (*verify.EventProof, error) {
	key := ledger.DueEventsKey(ev.Height, ev.Index)
	raw, ok, err := lv.Get(key)
	if err != nil {
		return nil, err
	}
	var due ledger.Result
	if !ok {
		return nil, fmt.Errorf("api: event %s: the scheduled work's result is not in state", ev.Cursor)
	}
	if err := tx.Unmarshal(raw, &due); err != nil {
		return nil, fmt.Errorf("%w: event %s: the scheduled work's result: %v", ledger.ErrStorage, ev.Cursor, err)
	}
	p, err := stateProof(lv, pv, &ledger.Reads{Keys: [][]byte{key}, Values: [][]byte{raw}}, c)
	if err != nil {
		return nil, err
	}
	return &verify.EventProof{Result: due, State: p}, nil
}

// look scans once, up to the feed's head, and proves what it found.
func (s *Server) look(ctx context.Context, q *eventQuery) (*EventsView, error) {
	v, err := s.scanEvents(q, s.feedHead(q.proof))
	if err == nil && q.proof {
		err = s.proveEvents(ctx, v)
	}
	return v, err
}

// events serves GET /v1/events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseEventQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stream := acceptsEventStream(r)
	if stream || q.wait > 0 {
		release, err := s.holdStream()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
	}
	if stream {
		s.streamEvents(w, r, q)
		return
	}
	// The server's write timeout is for ordinary answers; a long poll
	// answers after its wait.
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Now().Add(q.wait + s.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), q.wait)
	defer cancel()
	for {
		v, err := s.look(r.Context(), q)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(v.Events) > 0 || !caughtUp(v) || !s.waitFeed(ctx, v.Head, q.proof) {
			writeJSON(w, http.StatusOK, v)
			return
		}
		// Nothing up to v.Head: look only at the blocks after it.
		if q.after, err = verify.ParseCursor(v.Next); err != nil {
			panic(fmt.Sprintf("api: the feed's own cursor %q does not parse", v.Next)) // scanEvents writes it
		}
	}
}

// holdStream counts a request of the feed that holds its connection (a
// stream, or a long poll) against max_event_streams, and refuses it with
// too_many_streams beyond; release ends its count.
func (s *Server) holdStream() (release func(), err error) {
	if s.streams.Add(1) > s.maxStreams {
		s.streams.Add(-1)
		s.metrics.streamsRefused.Inc()
		return nil, &Error{Code: "too_many_streams",
			Message: fmt.Sprintf("the node holds %d event streams and long polls, as many as it allows", s.maxStreams)}
	}
	s.metrics.streams.Inc()
	return func() {
		s.streams.Add(-1)
		s.metrics.streams.Dec()
	}, nil
}

// apiMetrics are the API's own metrics, served by /metrics with the
// driver's.
type apiMetrics struct {
	registry       *prometheus.Registry
	streams        prometheus.Gauge
	streamsRefused prometheus.Counter
}

func newAPIMetrics() apiMetrics {
	m := apiMetrics{
		registry: prometheus.NewRegistry(),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "agora_api_event_streams",
			Help: "Requests of the event feed holding their connection: Server-Sent Events streams and long polls."}),
		streamsRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "agora_api_event_streams_refused_total",
			Help: "Requests of the event feed refused with too_many_streams (max_event_streams reached)."}),
	}
	m.registry.MustRegister(m.streams, m.streamsRefused)
	return m
}

// caughtUp reports whether an answer scanned every block up to its head.
func caughtUp(v *EventsView) bool {
	c, err := verify.ParseCursor(v.Next)
	return err == nil && c.Height >= v.Head
}

// waitFeed waits until the feed's head is above height; false if ctx
// ended or the driver stopped first.
func (s *Server) waitFeed(ctx context.Context, height uint64, proof bool) bool {
	t := time.NewTicker(headPoll)
	defer t.Stop()
	for {
		if s.feedHead(proof) > height {
			return true
		}
		if s.node.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

func acceptsEventStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
			return true
		}
	}
	return false
}

// streamEvents serves the feed as Server-Sent Events: each event's id is
// its cursor (a reconnecting client sends it back as Last-Event-ID), its
// event name "MODULE.TYPE" and its data the EventView as JSON. The stream
// runs until the client goes or the driver stops.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, q *eventQuery) {
	rc := http.NewResponseController(w)
	// The server's write timeout bounds ordinary answers; a stream has
	// none.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	ctx := r.Context()
	lastWrite := time.Now()
	for ctx.Err() == nil { // a client gone while the stream catches up ends it too
		v, err := s.look(r.Context(), q)
		if err != nil {
			s.log.Error("event stream failed", "err", err)
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", mustJSON(map[string]*Error{"error": toError(err)}))
			rc.Flush()
			return
		}
		for i := range v.Events {
			fmt.Fprintf(w, "id: %s\nevent: %s.%s\ndata: %s\n\n", v.Events[i].Cursor, v.Events[i].Module, v.Events[i].Type, mustJSON(&v.Events[i]))
		}
		if len(v.Events) > 0 {
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		if q.after, err = verify.ParseCursor(v.Next); err != nil {
			panic(fmt.Sprintf("api: the feed's own cursor %q does not parse", v.Next)) // scanEvents writes it
		}
		if !caughtUp(v) {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, sseKeepAlive-time.Since(lastWrite))
		moved := s.waitFeed(wctx, v.Head, q.proof)
		cancel()
		if ctx.Err() != nil || s.node.Err() != nil {
			return
		}
		if !moved {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("api: an event does not encode: %v", err)) // every field is plain data
	}
	return b
}
