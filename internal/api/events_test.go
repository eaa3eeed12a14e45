package api

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// anchorEvents commits one anchor per name, each in its own block, and
// returns the sha256 attributes of their events.
func anchorEvents(t *testing.T, tn *testNode, seq uint64, names ...string) []string {
	t.Helper()
	var sums []string
	for i, n := range names {
		tn.commit(t, anchorTx(t, tn.alice, seq+uint64(i), digest(n)))
		sums = append(sums, hex.EncodeToString(digest(n)))
	}
	return sums
}

// sumsOf returns the sha256 attribute of each event.
func sumsOf(evs []EventView) []string {
	out := []string{}
	for _, e := range evs {
		for _, a := range e.Attrs {
			if a.Key == "sha256" {
				out = append(out, a.Value)
			}
		}
	}
	return out
}

func TestEventsFilters(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sums := anchorEvents(t, tn, 0, "a", "b", "c")
	tests := []struct {
		desc  string
		query string
		want  []string
	}{
		{desc: "everything", query: "after=0", want: sums},
		{desc: "by module", query: "after=0&module=notary", want: sums},
		{desc: "another module", query: "after=0&module=identity", want: []string{}},
		{desc: "by type", query: "after=0&type=anchored", want: sums},
		{desc: "another type", query: "after=0&module=notary&type=revoked", want: []string{}},
		{desc: "by attribute", query: "after=0&attr=sha256=" + sums[1], want: sums[1:2]},
		{desc: "two attributes, both must match", query: "after=0&attr=sha256=" + sums[1] + "&attr=owner=nobody", want: []string{}},
		{desc: "default: from now on", query: "", want: []string{}},
		{desc: "limit", query: "after=0&limit=2", want: sums[:2]},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			v := decode[EventsView](t, tn.get(t, "/v1/events?"+tt.query), http.StatusOK)
			if got := sumsOf(v.Events); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("events %v, want %v", got, tt.want)
			}
			for _, e := range v.Events {
				if e.Module != "notary" || e.Type != "anchored" || e.Proof != nil {
					t.Errorf("event %+v", e)
				}
			}
		})
	}
}

func TestEventsBadQueries(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	for _, q := range []string{"attr=sha256", "attr==x", "after=1.2", "after=x", "after=1.2.3.4", "limit=0", "limit=1001", "limit=x", "wait=61s", "wait=-1s", "wait=soon"} {
		t.Run(q, func(t *testing.T) {
			wantError(t, tn.get(t, "/v1/events?"+q), http.StatusBadRequest, "invalid")
		})
	}
}

// TestEventsResume follows the feed one event at a time, by after= and
// by Last-Event-ID, and sees every event once, in order.
func TestEventsResume(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sums := anchorEvents(t, tn, 0, "a", "b", "c", "d")
	for _, how := range []string{"after", "Last-Event-ID"} {
		t.Run(how, func(t *testing.T) {
			var seen []string
			cursor := "0"
			for range 10 {
				req, err := http.NewRequest("GET", tn.srv.URL+"/v1/events?limit=1", nil)
				if err != nil {
					t.Fatal(err)
				}
				if how == "after" {
					req.URL.RawQuery += "&after=" + url.QueryEscape(cursor)
				} else {
					req.Header.Set("Last-Event-ID", cursor)
				}
				resp, err := tn.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var v EventsView
				err = json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %v", resp.StatusCode, err)
				}
				if len(v.Events) == 0 {
					break
				}
				if v.Next != v.Events[0].Cursor {
					t.Errorf("next %q after the last event %q", v.Next, v.Events[0].Cursor)
				}
				seen = append(seen, sumsOf(v.Events)...)
				cursor = v.Next
			}
			if strings.Join(seen, ",") != strings.Join(sums, ",") {
				t.Errorf("followed %v, want %v", seen, sums)
			}
		})
	}
}

// TestEventsLongPoll: a long poll after the head answers when a block with
// a matching event commits.
func TestEventsLongPoll(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	anchorEvents(t, tn, 0, "a")
	head := tn.node.Head().Height
	got := make(chan EventsView, 1)
	go func() {
		resp, err := tn.srv.Client().Get(fmt.Sprintf("%s/v1/events?after=%d&wait=60s", tn.srv.URL, head))
		var v EventsView
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
		}
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	sums := anchorEvents(t, tn, 1, "b")
	v := <-got
	if s := sumsOf(v.Events); len(s) != 1 || s[0] != sums[0] {
		t.Errorf("the long poll answered %v, want %v", s, sums)
	}
}

// TestEventsClientLeaves: a long poll whose client goes away ends at once,
// though no block commits.
func TestEventsClientLeaves(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	anchorEvents(t, tn, 0, "a") // then no block for an hour
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := New(tn.node, node.Config{}, nil, tn.logKey, log, prometheus.NewRegistry()).Handler()
	started, ended := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		h.ServeHTTP(w, r)
		close(ended)
	}))
	defer srv.Close()
	for _, accept := range []string{"application/json", "text/event-stream"} {
		t.Run(accept, func(t *testing.T) {
			started, ended = make(chan struct{}), make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events?wait=60s", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", accept)
			go func() {
				if resp, err := srv.Client().Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			<-started
			cancel()
			select {
			case <-ended:
			case <-time.After(30 * time.Second):
				t.Fatal("the handler still runs 30s after its client left")
			}
		})
	}
}

// TestEventsStream reads the feed as Server-Sent Events: the events so
// far, then one committed while the stream is open; a reconnect with
// Last-Event-ID goes on after the event it names.
func TestEventsStream(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	sums := anchorEvents(t, tn, 0, "a", "b")
	open := func(lastID string) (*bufio.Reader, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, "GET", tn.srv.URL+"/v1/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Last-Event-ID", lastID)
		resp, err := tn.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, ct)
		}
		return bufio.NewReader(resp.Body), func() { cancel(); resp.Body.Close() }
	}
	// next reads one message: its id, event and data lines.
	next := func(r *bufio.Reader) (id, event string, data EventView) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the stream: %v", err)
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "" && id != "":
				return id, event, data
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &data); err != nil {
					t.Fatalf("data %q: %v", line, err)
				}
			case line == "" || strings.HasPrefix(line, ":"):
			default:
				t.Fatalf("not an event stream line: %q", line)
			}
		}
	}
	r, closeStream := open("0")
	var cursors []string
	for _, want := range sums {
		id, event, data := next(r)
		if event != "notary.anchored" || id != data.Cursor || sumsOf([]EventView{data})[0] != want {
			t.Fatalf("id %q event %q data %+v, want the anchor of %s", id, event, data, want)
		}
		cursors = append(cursors, id)
	}
	sums = append(sums, anchorEvents(t, tn, 2, "c")...)
	if _, _, data := next(r); sumsOf([]EventView{data})[0] != sums[2] {
		t.Fatalf("the open stream showed %+v, want the anchor of %s", data, sums[2])
	}
	closeStream()

	r, closeStream = open(cursors[0])
	defer closeStream()
	for _, want := range sums[1:] {
		if _, _, data := next(r); sumsOf([]EventView{data})[0] != want {
			t.Fatalf("after %s the stream showed %+v, want the anchor of %s", cursors[0], data, want)
		}
	}
}

// TestEventsProof: with proof=1 every event verifies offline against the
// log key, and an event changed in transit does not.
func TestEventsProof(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	anchorEvents(t, tn, 0, "a", "b")
	v := decode[EventsView](t, tn.get(t, "/v1/events?after=0&proof=1"), http.StatusOK)
	if len(v.Events) != 2 {
		t.Fatalf("%d events, want 2", len(v.Events))
	}
	policy := verify.Policy{LogKey: tn.logKey}
	claim := func(e *EventView) *verify.EventClaim {
		return &verify.EventClaim{Height: e.Height, Index: e.Index, N: e.N, Scheduled: e.Scheduled, Leaf: e.Leaf, Tx: e.Tx,
			Event: ledger.Event{Module: e.Module, Type: e.Type, Attrs: e.Attrs}}
	}
	for i := range v.Events {
		e := &v.Events[i]
		if e.Proof == nil {
			t.Fatalf("event %s has no proof", e.Cursor)
		}
		cp, err := verify.Event(claim(e), e.Proof, policy)
		if err != nil {
			t.Fatalf("event %s: %v", e.Cursor, err)
		}
		if cp.Height != v.Head {
			t.Errorf("proven at height %d, the answer's head is %d", cp.Height, v.Head)
		}
	}
	e := &v.Events[0]
	other := &v.Events[1]
	forged := []struct {
		desc  string
		claim func(c *verify.EventClaim)
		proof func(p *verify.EventProof)
	}{
		{desc: "an attribute changed", claim: func(c *verify.EventClaim) {
			c.Event.Attrs = []ledger.Attr{c.Event.Attrs[0], {Key: "owner", Value: "mallory"}}
		}},
		{desc: "an attribute changed in the proof's result too", claim: func(c *verify.EventClaim) { c.Event.Attrs[0].Value = "00" },
			proof: func(p *verify.EventProof) { p.Result.Events[0].Attrs[0].Value = "00" }},
		{desc: "another type", claim: func(c *verify.EventClaim) { c.Event.Type = "revoked" }},
		{desc: "another event of the transaction", claim: func(c *verify.EventClaim) { c.N = 1 }},
		{desc: "another transaction's proof", proof: func(p *verify.EventProof) { *p = *other.Proof }},
		{desc: "another height", claim: func(c *verify.EventClaim) { c.Height++ }},
		{desc: "another leaf", claim: func(c *verify.EventClaim) { *c.Leaf++ }},
		{desc: "shown as scheduled work", claim: func(c *verify.EventClaim) { c.Scheduled, c.Tx, c.Leaf = true, nil, nil }},
		{desc: "no transaction", claim: func(c *verify.EventClaim) { c.Tx = nil }},
		{desc: "another log's key", proof: func(*verify.EventProof) { policy.LogKey = otherLogKey(t) }},
	}
	for _, f := range forged {
		t.Run(f.desc, func(t *testing.T) {
			defer func() { policy.LogKey = tn.logKey }()
			var p verify.EventProof
			b, _ := json.Marshal(e.Proof)
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			var c verify.EventClaim
			b, _ = json.Marshal(claim(e))
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			if f.claim != nil {
				f.claim(&c)
			}
			if f.proof != nil {
				f.proof(&p)
			}
			if _, err := verify.Event(&c, &p, policy); err == nil {
				t.Error("a forged event verified")
			}
		})
	}
}

// TestEventsOutliveWriteTimeout: a long poll and a stream go on past the
// server's write timeout, which would otherwise cut them, and still
// answer the event of a block committed after it.
func TestEventsOutliveWriteTimeout(t *testing.T) {
	tn := newTestNode(t, nodeOptions{})
	anchorEvents(t, tn, 0, "a")
	head := tn.node.Head().Height
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := httptest.NewUnstartedServer(New(tn.node, node.Config{}, nil, tn.logKey, log, prometheus.NewRegistry()).Handler())
	srv.Config.WriteTimeout = time.Millisecond // over before any block commits
	srv.Start()
	defer srv.Close()
	type answer struct {
		sums []string
		err  error
	}
	longPoll, stream := make(chan answer, 1), make(chan answer, 1)
	go func() {
		resp, err := srv.Client().Get(fmt.Sprintf("%s/v1/events?after=%d&wait=60s", srv.URL, head))
		var v EventsView
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
		}
		longPoll <- answer{sumsOf(v.Events), err}
	}()
	go func() {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/events?after=%d", srv.URL, head), nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := srv.Client().Do(req)
		if err != nil {
			stream <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e EventView
				err := json.Unmarshal([]byte(data), &e)
				stream <- answer{sumsOf([]EventView{e}), err}
				return
			}
		}
		stream <- answer{err: fmt.Errorf("the stream ended: %v", sc.Err())}
	}()
	want := anchorEvents(t, tn, 1, "b")
	for what, ch := range map[string]chan answer{"long poll": longPoll, "stream": stream} {
		if a := <-ch; a.err != nil || strings.Join(a.sums, ",") != want[0] {
			t.Errorf("%s: %v, %v; want %v", what, a.sums, a.err, want)
		}
	}
}

// TestEventsStreamLimit: with max_event_streams streams and long polls
// open, another stream or long poll is refused with too_many_streams and
// its hint, and counted in the metrics; a plain request holds nothing
// and is served; once a stream ends, its place is free again.
func TestEventsStreamLimit(t *testing.T) {
	tn := newTestNode(t, nodeOptions{cfg: node.Config{MaxEventStreams: 1}})
	anchorEvents(t, tn, 0, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", tn.srv.URL+"/v1/events?after=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	stream, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("the first stream: status %d", stream.StatusCode)
	}
	ask := func(path, accept string) (int, *Error) {
		t.Helper()
		req, err := http.NewRequest("GET", tn.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		resp, err := tn.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Error *Error }
		if resp.StatusCode != http.StatusOK {
			json.NewDecoder(resp.Body).Decode(&body)
		}
		return resp.StatusCode, body.Error
	}
	for _, c := range []struct{ desc, path, accept string }{
		{"a long poll", "/v1/events?after=0&wait=1s", "application/json"},
		{"a second stream", "/v1/events?after=0", "text/event-stream"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			status, e := ask(c.path, c.accept)
			if status != http.StatusServiceUnavailable || e == nil || e.Code != "too_many_streams" || !strings.Contains(e.Hint, "max_event_streams") {
				t.Fatalf("status %d, error %+v; want 503 too_many_streams with a hint naming max_event_streams", status, e)
			}
		})
	}
	if status, e := ask("/v1/events?after=0", "application/json"); status != http.StatusOK {
		t.Fatalf("a plain request: status %d, error %+v", status, e)
	}
	metrics := string(tn.get(t, "/metrics").body)
	for _, want := range []string{"agora_api_event_streams 1\n", "agora_api_event_streams_refused_total 2\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}

	cancel()
	stream.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, e := ask("/v1/events?after=0&wait=1s", "application/json")
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10s after the stream ended a long poll is still refused: %d %+v", status, e)
		}
	}
}

// TestEventsScheduled follows a governance change the scheduler makes:
// an emergency action lapses at its deadline, in the scheduled work of
// the first block at or after it, which reverts its change. The lapse is
// in the feed after that block's transaction, as scheduled work; with
// proof=1 it verifies offline against the signed checkpoint, and a forged
// one does not. Replaying the chain (fsck) gives the same roots.
func TestEventsScheduled(t *testing.T) {
	var now atomic.Int64
	now.Store(fakeClock().UnixMilli())
	tn := newTestNode(t, nodeOptions{gov: true, clock: func() time.Time { return time.UnixMilli(now.Load()) }})
	acted := emergency(t, tn, "alice", 0)
	if r := tn.get(t, "/v1/gov/resources/issuers/entries/issuer-x"); r.status != http.StatusOK {
		t.Fatalf("the emergency action set no entry: %d %s", r.status, r.body)
	}

	now.Add((31 * time.Second).Milliseconds()) // past the demo's 30 s emergency period
	lapsed := tn.commit(t, anchorTx(t, tn.alice, 1, digest("after the deadline")))

	v := decode[EventsView](t, tn.get(t, fmt.Sprintf("/v1/events?after=%d&proof=1", acted.Height)), http.StatusOK)
	var got []string
	var ev *EventView
	for i := range v.Events {
		e := &v.Events[i]
		got = append(got, fmt.Sprintf("%s %s.%s scheduled=%v", e.Cursor, e.Module, e.Type, e.Scheduled))
		if e.Module == gov.Name && e.Type == "emergency" {
			ev = e
		}
	}
	if ev == nil {
		t.Fatalf("the feed after the emergency action shows %q, no lapse", got)
	}
	if want := []ledger.Attr{{Key: "id", Value: "1"}, {Key: "status", Value: gov.EmergencyLapsed}}; !ev.Scheduled || ev.Tx != nil || ev.Leaf != nil ||
		ev.Height != lapsed.Height || ev.Index != 1 || fmt.Sprint(ev.Attrs) != fmt.Sprint(want) {
		t.Fatalf("the lapse is %+v, want scheduled work of block %d at index 1 (after its one transaction) with %v", ev, lapsed.Height, want)
	}
	if first := v.Events[0]; first.Module != "notary" || first.Height != lapsed.Height || first.Index != 0 {
		t.Errorf("the feed's first event is %s %s.%s, want the block's anchor before its scheduled work", first.Cursor, first.Module, first.Type)
	}
	wantError(t, tn.get(t, "/v1/gov/resources/issuers/entries/issuer-x"), http.StatusNotFound, "not_found") // the lapse reverted it
	filtered := decode[EventsView](t, tn.get(t, fmt.Sprintf("/v1/events?after=%d&type=emergency&attr=status=lapsed", acted.Height)), http.StatusOK)
	if len(filtered.Events) != 1 || filtered.Events[0].Cursor != ev.Cursor {
		t.Errorf("the feed filtered to lapses shows %+v, want %s", filtered.Events, ev.Cursor)
	}

	policy := verify.Policy{LogKey: tn.logKey}
	claim := func() *verify.EventClaim {
		var c verify.EventClaim
		b, _ := json.Marshal(&verify.EventClaim{Height: ev.Height, Index: ev.Index, N: ev.N, Scheduled: ev.Scheduled,
			Tx: ev.Tx, Leaf: ev.Leaf, Event: ledger.Event{Module: ev.Module, Type: ev.Type, Attrs: ev.Attrs}})
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	proof := func() *verify.EventProof {
		var p verify.EventProof
		b, _ := json.Marshal(ev.Proof)
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return &p
	}
	if ev.Proof == nil {
		t.Fatal("the lapse has no proof")
	}
	if _, err := verify.Event(claim(), proof(), policy); err != nil {
		t.Fatalf("the lapse does not verify: %v", err)
	}
	anchorProof := v.Events[0].Proof
	forged := []struct {
		desc  string
		claim func(c *verify.EventClaim)
		proof func(p *verify.EventProof)
	}{
		{desc: "still in effect", claim: func(c *verify.EventClaim) { c.Event.Attrs[1].Value = gov.EmergencyInEffect }},
		{desc: "in effect in the proof's result too", claim: func(c *verify.EventClaim) { c.Event.Attrs[1].Value = gov.EmergencyInEffect },
			proof: func(p *verify.EventProof) { p.Result.Events[ev.N].Attrs[1].Value = gov.EmergencyInEffect }},
		{desc: "at another index", claim: func(c *verify.EventClaim) { c.Index = 0 }},
		{desc: "at another height", claim: func(c *verify.EventClaim) { c.Height-- }},
		{desc: "shown as the anchor's", claim: func(c *verify.EventClaim) {
			c.Scheduled, c.Tx, c.Leaf, c.Index = false, v.Events[0].Tx, v.Events[0].Leaf, 0
		}, proof: func(p *verify.EventProof) {
			p.Result, p.State, p.Inclusion = anchorProof.Result, nil, anchorProof.Inclusion
		}},
		{desc: "proven by a log entry", proof: func(p *verify.EventProof) { p.Inclusion = anchorProof.Inclusion }},
		{desc: "a proof of another key", proof: func(p *verify.EventProof) {
			p.State.Keys[0].Key = ledger.DueEventsKey(ev.Height, 0)
		}},
		{desc: "no state proof", proof: func(p *verify.EventProof) { p.State = nil }},
		{desc: "another log's key", proof: func(*verify.EventProof) { policy.LogKey = otherLogKey(t) }},
	}
	for _, f := range forged {
		t.Run(f.desc, func(t *testing.T) {
			defer func() { policy.LogKey = tn.logKey }()
			c, p := claim(), proof()
			if f.claim != nil {
				f.claim(c)
			}
			if f.proof != nil {
				f.proof(p)
			}
			if _, err := verify.Event(c, p, policy); err == nil {
				t.Error("a forged event verified")
			}
		})
	}

	tn.stop(t)
	if _, err := node.Fsck(tn.st, tn.exec, tn.genesis, nil, nil); err != nil {
		t.Fatalf("replay: %v", err)
	}
}

// emergency has the demo Community's ROLE take emergency action 1, which
// sets the entry issuer-x of the resource issuers and lapses after 30 s,
// the users' member adviser (at sequence seq) advising it first.
func emergency(t *testing.T, tn *testNode, adviser string, seq uint64) SubmitResponse {
	t.Helper()
	advice := gov.NewDocRef("Users: suspend issuer-x", "suspend issuer-x now")
	tn.commit(t, msgTx(t, keyFor(t, adviser), seq, gov.Name, "advise", &gov.Advise{As: "users", Doc: advice, About: "emergency"}))
	entry, err := tx.Marshal(&gov.SetEntry{Resource: "issuers", Key: "issuer-x", Value: "suspended"})
	if err != nil {
		t.Fatal(err)
	}
	return tn.commit(t, msgTx(t, keyFor(t, "role-operator"), 0, gov.Name, "emergency", &gov.Act{Title: "Suspend issuer-x",
		Actions: []ledger.Action{{Target: gov.Name, Type: "set_entry", Body: entry}},
		Minutes: gov.NewDocRef("Minutes", "the ROLE suspends issuer-x"), Consulted: "users", Advice: advice.ID()}))
}
