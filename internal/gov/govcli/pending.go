package govcli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// acting finds which of your keys are members of a body, at any depth,
// and whether together they meet its rule.
type acting struct {
	ctx   context.Context
	c     *client.Client
	ks    *keystore.Store
	given []string // --key names; none: every key in the keystore
	names []string // the member keys found, in the order found
}

// local returns the name of the key at addr if it may sign.
func (a *acting) local(addr string) (string, bool) {
	e, ok := a.ks.FindAddress(addr)
	if !ok || (len(a.given) > 0 && !slices.Contains(a.given, e.Name)) {
		return "", false
	}
	return e.Name, true
}

// meets reports whether the keys meet body id's rule, collecting those
// that are its members, through member bodies up to gov.MaxNesting deep.
func (a *acting) meets(id string, depth int) (bool, error) {
	var b gov.Body
	if err := a.c.Get(a.ctx, "/v1/gov/bodies/"+url.PathEscape(id), &b); err != nil {
		return false, err
	}
	n := 0
	for _, m := range b.Members {
		ok := false
		switch {
		case m.Key != nil:
			var name string
			if name, ok = a.local(m.Key.Address()); ok && !slices.Contains(a.names, name) {
				a.names = append(a.names, name)
			}
		case depth < gov.MaxNesting:
			var err error
			if ok, err = a.meets(m.Body, depth+1); err != nil {
				return false, err
			}
		}
		if ok {
			n++
		}
	}
	return n >= int(b.Threshold), nil
}

// govPropose posts msg as a pending action of body as, approved by names,
// or approves the same action if it is already pending.
func govPropose(ctx context.Context, c *client.Client, f *govFlags, as, typ string, msg ledger.Msg, names []string, stdout, stderr io.Writer) error {
	body, err := tx.Marshal(msg)
	if err != nil {
		return err
	}
	var open []ledger.Pending
	if err := c.Get(ctx, "/v1/ledger/pending?status=pending&principal="+url.QueryEscape(as), &open); err != nil {
		return err
	}
	for _, p := range open {
		if p.Module == gov.Name && p.Type == typ && bytes.Equal(p.Body, body) {
			fmt.Fprintf(stdout, "the same action is pending as %d: approving it\n", p.ID)
			return approvePending(ctx, c, *f.home, *f.node, &p, names, *f.ttl, *f.asJSON, stdout, stderr)
		}
	}
	m := &ledger.ProposeAction{Module: gov.Name, Principal: as, Type: typ, Body: body, TTL: uint64(*f.expiresIn / time.Millisecond)}
	res, err := cli.SignAndSubmitAll(*f.home, *f.node, names, ledger.Namespace, "propose", m, *f.ttl, stderr)
	if err != nil {
		return err
	}
	return reportPending(ctx, c, res, *f.asJSON, stdout)
}

// approvePending approves p with those of names that have not approved it.
func approvePending(ctx context.Context, c *client.Client, homeDir, nodeURL string, p *ledger.Pending, names []string, ttl time.Duration, asJSON bool, stdout, stderr io.Writer) error {
	ks := cli.Keys(homeDir)
	var fresh []string
	for _, n := range names {
		e, err := ks.Get(n)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(p.Approvals, func(a ledger.Approval) bool { return a.Key.Equal(e.PublicKey) }) {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) == 0 {
		return ledger.WithHint(fmt.Errorf("pending action %d: %s already approved it", p.ID, strings.Join(names, ", ")),
			fmt.Sprintf("'agora gov pending %d' shows who has; the other members approve from their own homes", p.ID))
	}
	res, err := cli.SignAndSubmitAll(homeDir, nodeURL, fresh, ledger.Namespace, "approve", &ledger.Approve{ID: p.ID}, ttl, stderr)
	if err != nil {
		return err
	}
	return reportPending(ctx, c, res, asJSON, stdout)
}

// reportPending prints what a propose or approve transaction did to its
// pending action: still waiting, executed, or failed (an error).
func reportPending(ctx context.Context, c *client.Client, res *api.SubmitResponse, asJSON bool, stdout io.Writer) error {
	if asJSON {
		return cli.PrintJSON(stdout, res)
	}
	cli.PrintResult(stdout, "pending", res)
	var p ledger.Pending
	for _, e := range res.Result.Events {
		if e.Module == ledger.Namespace && e.Type == "pending" {
			for _, a := range e.Attrs {
				if a.Key == "id" {
					if err := c.Get(ctx, "/v1/ledger/pending/"+a.Value, &p); err != nil {
						return err
					}
				}
			}
		}
	}
	switch p.Status {
	case ledger.PendingOpen:
		var b gov.Body
		if err := c.Get(ctx, "/v1/gov/bodies/"+url.PathEscape(p.Principal), &b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pending %d: %s acts when %d of its %d members approve; approvals so far: %d; expires %s\n"+
			"hint: the other members approve from their own homes: agora gov approve %d --key NAME\n",
			p.ID, p.Principal, b.Threshold, len(b.Members), len(p.Approvals), fmtMillis(p.Expires), p.ID)
	case ledger.PendingExecuted:
		fmt.Fprintf(stdout, "pending %d: executed as %s\n", p.ID, p.Principal)
	case ledger.PendingFailed:
		return fmt.Errorf("pending %d: the approvals met %s's rule, but the action was refused: %s", p.ID, p.Principal, p.Result)
	}
	return nil
}

func govApprove(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("gov approve", govUsage, stderr)
	homeDir, nodeURL := cli.HomeFlag(fs), cli.NodeFlag(fs)
	var keys cli.StringList
	fs.Var(&keys, "key", "a key `NAME` that approves (repeatable); default: your keys among the body's members")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora gov approve ID [--key NAME]")
	}
	id, err := num(pos[0], "pending action")
	if err != nil {
		return err
	}
	c, ctx := client.New(*nodeURL), context.Background()
	var p ledger.Pending
	if err := c.Get(ctx, fmt.Sprintf("/v1/ledger/pending/%d", id), &p); err != nil {
		return err
	}
	names := []string(keys)
	if len(names) == 0 {
		a := &acting{ctx: ctx, c: c, ks: cli.Keys(*homeDir)}
		if _, err := a.meets(p.Principal, 1); err != nil {
			return err
		}
		if names = a.names; len(names) == 0 {
			return ledger.WithHint(fmt.Errorf("no key in your keystore is a member of %s", p.Principal), fmt.Sprintf("'agora gov show body %s' lists its members", p.Principal))
		}
	}
	return approvePending(ctx, c, *homeDir, *nodeURL, &p, names, *ttl, *asJSON, stdout, stderr)
}

func govPending(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("gov pending", govUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	homeDir := cli.HomeFlag(fs)
	as := fs.String("as", "", "only the actions of this `BODY`")
	all := fs.Bool("all", false, "also those executed, failed or expired")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	c, ctx := client.New(*nodeURL), context.Background()
	if len(pos) == 1 {
		id, err := num(pos[0], "pending action")
		if err != nil {
			return err
		}
		var p ledger.Pending
		if err := c.Get(ctx, fmt.Sprintf("/v1/ledger/pending/%d", id), &p); err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(stdout, &p)
		}
		printPending(stdout, &p)
		// Name approvers as the body names its members, else as your
		// keystore does.
		names := map[string]string{}
		var b gov.Body
		if err := c.Get(ctx, "/v1/gov/bodies/"+url.PathEscape(p.Principal), &b); err == nil {
			for _, m := range b.Members {
				if m.Key != nil {
					names[m.Key.Address()] = m.Name
				}
			}
		}
		ks := cli.Keys(*homeDir)
		for _, a := range p.Approvals {
			who := a.Key.Address()
			if n, ok := names[who]; ok {
				who = n
			} else if e, ok := ks.FindAddress(who); ok {
				who = e.Name
			}
			fmt.Fprintf(stdout, "  approved by %s at height %d (%s)\n", who, a.Height, fmtMillis(a.Time))
		}
		if p.Result != "" {
			fmt.Fprintf(stdout, "  result: %s\n", p.Result)
		}
		return nil
	} else if len(pos) > 1 {
		return cli.UsageError("usage: agora gov pending [ID] [--as BODY] [--all]")
	}
	q := url.Values{}
	if *as != "" {
		q.Set("principal", *as)
	}
	if !*all {
		q.Set("status", ledger.PendingOpen)
	}
	var list []ledger.Pending
	if err := c.Get(ctx, "/v1/ledger/pending?"+q.Encode(), &list); err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no pending actions")
	}
	for i := range list {
		printPending(stdout, &list[i])
	}
	return nil
}

// printPending prints a pending action in one line for people.
func printPending(w io.Writer, p *ledger.Pending) {
	when := "expires " + fmtMillis(p.Expires)
	if p.Status != ledger.PendingOpen {
		when = fmt.Sprintf("at height %d", p.Closed)
	}
	fmt.Fprintf(w, "pending %d  as %-12s %-8s approvals: %d, %s\n  %s\n", p.ID, p.Principal, p.Status, len(p.Approvals), when, pendingSummary(p))
}

// pendingSummary describes a pending action's message: its type, its
// documents' titles and its other plain fields.
func pendingSummary(p *ledger.Pending) string {
	if p.Module != gov.Name {
		return p.Module + " " + p.Type
	}
	msg, err := ledger.DecodeMsg(gov.Module{}.MsgTypes(), p.Type, p.Body)
	if err != nil {
		return fmt.Sprintf("%s (does not decode: %v)", p.Type, err)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return p.Type
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		return p.Type
	}
	var parts []string
	for k, v := range fields {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["title"].(string); ok {
				parts = append(parts, fmt.Sprintf("%s=%q", strings.ToLower(k), t))
			}
		case string, float64, bool:
			if v != "" && v != float64(0) && v != false {
				parts = append(parts, fmt.Sprintf("%s=%v", strings.ToLower(k), v))
			}
		case []any:
			parts = append(parts, fmt.Sprintf("%s=%d", strings.ToLower(k), len(v)))
		}
	}
	sort.Strings(parts)
	return p.Type + " " + strings.Join(parts, " ")
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
