package ledger_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// clock is a module for the scheduler's tests. Its "at" message schedules
// (or cancels) callbacks; its Due appends the key to "ran" and, for a key
// beginning with "fail", writes and then fails.
type clock struct{}

type atMsg struct {
	Keys   []string `cbor:"1,keyasint"`
	In     []int64  `cbor:"2,keyasint,omitempty"` // ms after the block, per key
	Cancel bool     `cbor:"3,keyasint,omitempty"`
}

func (m *atMsg) Validate() error { return nil }

func (clock) Name() string { return "clock" }

func (clock) Decode(_ string, body []byte) (ledger.Msg, error) {
	var m atMsg
	return &m, tx.Unmarshal(body, &m)
}

func (clock) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	m := msg.(*atMsg)
	for i, k := range m.Keys {
		var err error
		if m.Cancel {
			err = ctx.Cancel([]byte(k))
		} else {
			err = ctx.Schedule(ctx.Block.Time.Add(time.Duration(m.In[i])*time.Millisecond), []byte(k))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (clock) Due(ctx *ledger.Context, key []byte) error {
	ran, _, err := ctx.KV.Get([]byte("ran"))
	if err != nil {
		return err
	}
	ctx.KV.Set([]byte("ran"), fmt.Appendf(ran, "%d:%s ", ctx.Block.Height, key))
	if bytes.HasPrefix(key, []byte("fail")) {
		return fmt.Errorf("%w: clock: %s fails", ledger.ErrInvalid, key)
	}
	return nil
}

func (clock) Queries() []ledger.Query                           { return nil }
func (clock) InitGenesis(*ledger.KV, json.RawMessage) error     { return nil }
func (clock) ExportGenesis(*ledger.KV) (json.RawMessage, error) { return nil, nil }

// schedChain applies blocks a second apart, each of "at" messages alice
// signs, and keeps their headers.
type schedChain struct {
	*ledgertest.Chain
	alice   *tx.PrivateKey
	headers []ledger.Header
}

func newSchedChain(t *testing.T) *schedChain {
	t.Helper()
	e, err := ledger.NewExecutor(testChain, clock{}, testmod{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledgertest.StartChain(t, e, testGenesis(t))
	if err != nil {
		t.Fatal(err)
	}
	return &schedChain{Chain: c, alice: keyFor(t, "alice", tx.Ed25519)}
}

// at signs msg with alice's key.
func (c *schedChain) at(msg *atMsg) []byte {
	return c.Sign(&tx.Tx{Module: "clock", Type: "at", Body: ledgertest.Body(c.T, msg), ExpiryHeight: 1000}, []*tx.PrivateKey{c.alice}, nil)
}

func (c *schedChain) block(msgs ...*atMsg) *ledger.Outcome {
	c.T.Helper()
	for _, m := range msgs {
		c.Stage(c.at(m))
	}
	out, err := c.Commit(c.Next(), false)
	if err != nil {
		c.T.Fatal(err)
	}
	for i, r := range out.Results {
		if !r.OK() {
			c.T.Fatalf("block %d tx %d: %s %s", out.Header.Height, i, r.Code, r.Error)
		}
	}
	c.headers = append(c.headers, out.Header)
	return out
}

func (c *schedChain) ran() string { return strings.TrimSpace(string(c.State["clock/ran"])) }

// schedule runs the ledger's schedule query with the given arguments.
func (c *schedChain) schedule(args map[string]string) []ledger.Entry {
	c.T.Helper()
	for _, q := range ledger.Queries() {
		if q.Name == "schedule" {
			ans, err := q.Run(ledger.NewReadView(c.State, ledger.Namespace, nil), func(n string) string { return args[n] })
			if err != nil {
				c.T.Fatal(err)
			}
			return ans.([]ledger.Entry)
		}
	}
	c.T.Fatal("no schedule query")
	return nil
}

func TestSchedulerDueOrder(t *testing.T) {
	c := newSchedChain(t)
	// Block 1 at +1s schedules b at +4s, a and c at +3s; block 2 at +2s
	// schedules d at +3s too, and e at once.
	c.block(&atMsg{Keys: []string{"b", "a", "c"}, In: []int64{3000, 2000, 2000}})
	c.block(&atMsg{Keys: []string{"d", "e"}, In: []int64{1000, 0}})
	if got := c.ran(); got != "2:e" {
		t.Fatalf("after block 2 ran %q, want only e (due at once, in its own block)", got)
	}
	c.block()
	c.block()
	c.block()
	// At the same time (+3s), in the order they were scheduled: a, c, d.
	if got, want := c.ran(), "2:e 3:a 3:c 3:d 4:b"; got != want {
		t.Fatalf("ran %q, want %q", got, want)
	}
	if left := c.schedule(nil); len(left) != 0 {
		t.Fatalf("entries left: %+v", left)
	}
	for _, k := range c.State.Keys() {
		if strings.HasPrefix(k, "ledger/sched/") && k != "ledger/sched/seq" {
			t.Errorf("state key %q left after every entry ran", k)
		}
	}
}

func TestSchedulerBoundCarriesOver(t *testing.T) {
	c := newSchedChain(t)
	n := ledger.MaxDuePerBlock + 5
	var keys, later []string
	var in, laterIn []int64
	for i := range n {
		keys = append(keys, fmt.Sprintf("k%03d", i))
		in = append(in, 1000)
	}
	later, laterIn = append(later, "late"), append(laterIn, 1500)
	c.block(&atMsg{Keys: keys, In: in}, &atMsg{Keys: later, In: laterIn})
	c.block() // +1s: MaxDuePerBlock of the n run
	ran := strings.Fields(c.ran())
	if len(ran) != ledger.MaxDuePerBlock {
		t.Fatalf("block 2 ran %d callbacks, want %d", len(ran), ledger.MaxDuePerBlock)
	}
	for i, r := range ran {
		if r != fmt.Sprintf("2:k%03d", i) {
			t.Fatalf("callback %d of block 2 is %s, want k%03d (scheduling order)", i, r, i)
		}
	}
	if left := c.schedule(map[string]string{"status": "due"}); len(left) != 6 || string(left[0].Key) != fmt.Sprintf("k%03d", ledger.MaxDuePerBlock) {
		t.Fatalf("left due after block 2: %d entries, first %q", len(left), left[0].Key)
	}
	c.block() // +2s: the 5 carried over first, then the one due at +1.5s
	ran = strings.Fields(c.ran())[ledger.MaxDuePerBlock:]
	want := []string{}
	for i := ledger.MaxDuePerBlock; i < n; i++ {
		want = append(want, fmt.Sprintf("3:k%03d", i))
	}
	want = append(want, "3:late")
	if diff := cmp.Diff(want, ran); diff != "" {
		t.Fatalf("block 3 ran (-want +got):\n%s", diff)
	}
}

func TestSchedulerCancelAndMove(t *testing.T) {
	c := newSchedChain(t)
	c.block(&atMsg{Keys: []string{"x", "y", "z"}, In: []int64{1000, 1000, 1000}})
	// Block 2: cancel x, move y to +3s (scheduling a key again moves it);
	// z runs.
	c.block(&atMsg{Keys: []string{"x"}, Cancel: true}, &atMsg{Keys: []string{"y"}, In: []int64{3000}})
	if got := c.ran(); got != "2:z" {
		t.Fatalf("block 2 ran %q, want only z", got)
	}
	if due := c.schedule(map[string]string{"module": "clock"}); len(due) != 1 || string(due[0].Key) != "y" || due[0].Time != c.Head.Time+3000 {
		t.Fatalf("due after block 2: %+v", due)
	}
	c.block(&atMsg{Keys: []string{"nothing"}, Cancel: true}) // cancelling what is not scheduled does nothing
	c.block()
	c.block()
	c.block()
	if got := c.ran(); got != "2:z 5:y" {
		t.Fatalf("ran %q, want z, then y once at its new time", got)
	}
}

func TestSchedulerFailureIsRecorded(t *testing.T) {
	c := newSchedChain(t)
	c.block(&atMsg{Keys: []string{"a", "fail1", "b"}, In: []int64{1000, 1000, 1000}})
	out := c.block()
	if len(out.Txs) != 0 {
		t.Fatalf("block %+v", out)
	}
	// fail1's write ("ran" with fail1 in it) vanished; a and b ran.
	if got := c.ran(); got != "2:a 2:b" {
		t.Fatalf("ran %q, want a and b (fail1's writes discarded)", got)
	}
	failed := c.schedule(map[string]string{"status": "failed"})
	want := []ledger.Entry{{Seq: 2, Time: c.Head.Time, Module: "clock", Key: []byte("fail1"),
		Failed: &ledger.Failure{Height: 2, Code: "invalid", Error: "invalid: clock: fail1 fails"}}}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Fatalf("failed entries (-want +got):\n%s", diff)
	}
	c.block()
	if got := c.ran(); got != "2:a 2:b" {
		t.Fatalf("a failed callback ran again: %q", got)
	}
	// It survives export and import, with the sequence counter.
	g, err := c.Exec.ExportGenesis(c.State, genesisTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Scheduled) != 1 || g.ScheduleSeq != 3 {
		t.Fatalf("exported schedule %+v, seq %d", g.Scheduled, g.ScheduleSeq)
	}
	out2, err := c.Exec.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	st2 := ledgertest.State{}
	st2.ApplyOutcome(out2)
	for _, k := range c.State.Keys() {
		if strings.HasPrefix(k, "ledger/sched") && !bytes.Equal(c.State[k], st2[k]) {
			t.Errorf("%q differs after export and import", k)
		}
	}
}

func TestSchedulerReplay(t *testing.T) {
	run := func() []ledger.Header {
		c := newSchedChain(t)
		c.block(&atMsg{Keys: []string{"b", "a", "fail", "c"}, In: []int64{2000, 1000, 1000, 1000}})
		c.block(&atMsg{Keys: []string{"d"}, In: []int64{0}}, &atMsg{Keys: []string{"b"}, In: []int64{500}})
		c.block(&atMsg{Keys: []string{"c"}, Cancel: true})
		c.block()
		return c.headers
	}
	first, second := run(), run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("replay gives other headers (-first +second):\n%s", diff)
	}
}

func TestScheduleRefused(t *testing.T) {
	c := newSchedChain(t)
	long := strings.Repeat("k", ledger.MaxScheduleKey+1)
	for _, tc := range []struct {
		desc string
		msg  *atMsg
	}{
		{"an empty key", &atMsg{Keys: []string{""}, In: []int64{1000}}},
		{"a key too long", &atMsg{Keys: []string{long}, In: []int64{1000}}},
		{"a time before 1970", &atMsg{Keys: []string{"k"}, In: []int64{-c.Head.Time - 5000}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			// Applied, not committed: each case is the same next block.
			blk := ledger.Block{ChainID: testChain, Height: c.Head.Height + 1, Time: c.Next()}
			out, err := c.Exec.Apply(c.State, &c.Head, blk, [][]byte{c.at(tc.msg)}, false)
			if err != nil {
				t.Fatal(err)
			}
			if r := out.Results[0]; r.Code != "invalid" {
				t.Fatalf("result %s %s, want invalid", r.Code, r.Error)
			}
		})
	}
}
