package clientcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

const eventsUsage = `
Usage:
  agora events watch [--module M] [--type T] [--attr K=V]... [--after CURSOR]
                     [--count N] [--timeout D] [--json] [--log-key KEY | --validators FILE]

watch follows the ledger's event feed (GET /v1/events) and prints one line
per event as its block commits: its cursor HEIGHT.INDEX.N (the N-th event
of the INDEX-th transaction of block HEIGHT), MODULE.TYPE, its attributes
and its transaction, or "scheduled" for the block's scheduled work (a vote
closing, an emergency action lapsing), which comes after the block's
transactions. --module, --type and --attr select events; --after
starts after a cursor or a height (after=0: the whole history; default:
from now on). It stops on Ctrl-C, after --count events, or after --timeout.

With --log-key (or AGORA_LOG_KEY), or on a network --validators (or
AGORA_VALIDATORS), it trusts the node for nothing: every event comes with
a proof that its transaction's result, which the log records, holds it
(for scheduled work, the result the block kept in state), checked offline; an event that does not verify, an event out of order, or
a transaction shown with an event of it left out ends the watch with exit
status 1. The proven feed runs up to the newest checkpoint your trust
policy accepts, so it lags the head by the time that checkpoint takes.

Examples:
  agora events watch --module gov
  agora events watch --module gov --type change --attr status=approved --count 1
  agora events watch --after 0 --json --log-key "$(agora info --json | jq -r .log_key)"
`

func runEvents(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(eventsUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	if args[0] != "watch" {
		return cli.UsageError("unknown events command %q (want watch)", args[0])
	}
	return eventsWatch(args[1:], stdout, stderr)
}

// eventsPoll is how long one request of the feed waits for an event.
const eventsPoll = "30s"

func eventsWatch(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("events watch", eventsUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	cli.HomeFlag(fs) // where --log-key's accepted checkpoints are kept
	tr := cli.TrustFlags(fs)
	module := fs.String("module", "", "only this module's events")
	typ := fs.String("type", "", "only events of this type")
	var attrs cli.StringList
	fs.Var(&attrs, "attr", "only events with attribute `KEY=VALUE` (repeatable; all must match)")
	after := fs.String("after", "", "start after this `CURSOR` or height (default: from now on)")
	count := fs.Int("count", 0, "stop after this many events (0: never)")
	timeout := fs.Duration("timeout", 0, "stop after this long; exit 1 if --count events were not seen (0: never)")
	asJSON := fs.Bool("json", false, "print each event as one line of JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return cli.UsageError("events watch takes no arguments, only flags")
	}
	q := url.Values{"wait": {eventsPoll}}
	filter := verify.EventFilter{Module: *module, Type: *typ}
	if *module != "" {
		q.Set("module", *module)
	}
	if *typ != "" {
		q.Set("type", *typ)
	}
	for _, a := range attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return cli.UsageError("--attr %q is not KEY=VALUE", a)
		}
		filter.Attrs = append(filter.Attrs, ledger.Attr{Key: k, Value: v})
		q.Add("attr", a)
	}
	if *after != "" {
		if _, err := verify.ParseCursor(*after); err != nil {
			return cli.UsageError("--after: %v", err)
		}
	}
	if *count < 0 || *timeout < 0 {
		return cli.UsageError("--count and --timeout must not be negative")
	}
	policy, err := tr.Policy()
	if err != nil {
		return err
	}
	if policy != nil {
		q.Set("proof", "1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	w := &watcher{c: client.New(*nodeURL), tr: tr, policy: policy, filter: filter, out: stdout, json: *asJSON}
	cursor, seen := *after, 0
	for *count == 0 || seen < *count {
		if cursor != "" {
			q.Set("after", cursor)
		}
		ans, err := w.fetch(ctx, "/v1/events?"+q.Encode())
		switch {
		case ctx.Err() != nil:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && *count > 0 {
				return &cli.ExitError{Code: 1, Err: fmt.Errorf("saw %d of %d events in %s", seen, *count, *timeout)}
			}
			return nil
		case err != nil && (errors.As(err, new(*cli.ExitError)) || client.IsCode(err, "invalid")):
			return err
		case err != nil: // the node may be restarting: try again
			fmt.Fprintf(stderr, "agora events watch: %v\n", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		n, err := w.show(ans, cursor, *count-seen)
		if err != nil {
			return err
		}
		seen += n
		cursor = ans.Next
	}
	return nil
}

// watcher fetches, checks and prints answers of the event feed.
type watcher struct {
	c      *client.Client
	tr     *cli.Trust
	policy *verify.Policy
	filter verify.EventFilter
	out    io.Writer
	json   bool
	// accepted is the height of the last checkpoint tr accepted.
	accepted uint64
}

// fetch gets one answer of the feed.
func (w *watcher) fetch(ctx context.Context, path string) (*wire.Events, error) {
	status, body, err := w.c.GetRaw(ctx, path)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		if err := client.ErrorOf(status, body); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("GET %s: status %d", path, status)
	}
	var ans wire.Events
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("the node's answer is not a page of events: %w", err)
	}
	return &ans, nil
}

// show checks an answer to a request after the cursor from ("" for from
// now on) and prints at most max of its events (0: all). It returns how
// many it printed.
func (w *watcher) show(ans *wire.Events, from string, max int) (int, error) {
	refuse := func(format string, a ...any) error {
		return cli.NotVerified(fmt.Errorf(format, a...))
	}
	prev := verify.Cursor{End: true} // before everything: block 0 has no events
	if from != "" {
		prev, _ = verify.ParseCursor(from)
	}
	start := prev
	next, err := verify.ParseCursor(ans.Next)
	if err != nil {
		return 0, refuse("the answer's next: %v", err)
	}
	var cp *verify.Checkpoint
	shown := map[[2]uint64][]int{} // the events shown of each transaction, by height and index
	results := map[[2]uint64]*ledger.Result{}
	for i := range ans.Events {
		e := &ans.Events[i]
		if e.Cursor != (verify.Cursor{Height: e.Height, Index: e.Index, N: e.N}).String() || !prev.Before(e.Height, e.Index, e.N) || next.Before(e.Height, e.Index, e.N) {
			return 0, refuse("event %s is out of order (after %s, next %s)", e.Cursor, prev, ans.Next)
		}
		prev = verify.Cursor{Height: e.Height, Index: e.Index, N: e.N}
		ev := ledger.Event{Module: e.Module, Type: e.Type, Attrs: e.Attrs}
		if !w.filter.Match(&ev) {
			return 0, refuse("event %s is not one asked for", e.Cursor)
		}
		if w.policy == nil {
			continue
		}
		if e.Proof == nil {
			return 0, refuse("event %s came without a proof", e.Cursor)
		}
		c, err := verify.Event(&verify.EventClaim{Height: e.Height, Index: e.Index, N: e.N, Scheduled: e.Scheduled, Leaf: e.Leaf, Tx: e.Tx, Event: ev}, e.Proof, *w.policy)
		if err != nil {
			return 0, refuse("event %s: %v", e.Cursor, err)
		}
		if cp == nil || c.Height > cp.Height {
			cp = c
		}
		key := [2]uint64{e.Height, uint64(e.Index)}
		shown[key] = append(shown[key], e.N)
		results[key] = &e.Proof.Result
	}
	// A transaction shown must be shown whole: every event of its proven
	// result that the filter selects, between the request's cursor and
	// the answer's next.
	for key, res := range results {
		var want []int
		for n := range res.Events {
			if w.filter.Match(&res.Events[n]) && start.Before(key[0], int(key[1]), n) && !next.Before(key[0], int(key[1]), n) {
				want = append(want, n)
			}
		}
		if fmt.Sprint(want) != fmt.Sprint(shown[key]) {
			return 0, refuse("transaction %d.%d emitted events %v that match, the node showed %v", key[0], key[1], want, shown[key])
		}
	}
	if cp != nil && cp.Height > w.accepted {
		if err := cli.AcceptOrRefuse(w.tr.Accept(context.Background(), w.c, w.policy, cp)); err != nil {
			return 0, err
		}
		w.accepted = cp.Height
	}
	printed := 0
	for i := range ans.Events {
		if max > 0 && printed == max {
			break
		}
		if err := w.print(&ans.Events[i]); err != nil {
			return printed, err
		}
		printed++
	}
	return printed, nil
}

func (w *watcher) print(e *wire.Event) error {
	if w.json {
		v := *e
		v.Proof = nil
		b, err := json.Marshal(&v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w.out, "%s\n", b)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s.%s", e.Cursor, e.Module, e.Type)
	for _, a := range e.Attrs {
		v := a.Value
		if v == "" || strings.ContainsAny(v, " \t\n\"'\\") || !strconv.CanBackquote(v) {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
	}
	if e.Tx != nil {
		fmt.Fprintf(&b, " tx=%s\n", e.Tx)
	} else {
		b.WriteString(" scheduled\n")
	}
	_, err := io.WriteString(w.out, b.String())
	return err
}
