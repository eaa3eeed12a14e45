package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/custody/custodycli"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/tx"
)

// The custody ceremonies, through a node: n key holders each run the
// signer daemon of 'agora custody signer run' (custodycli.RunSigner, in
// this process or, with CeremonyOptions.Signer, each in a process of its
// own), each with its own home and keystore, following the event feed
// and checking every answer it acts on against a state proof under the
// node's log key. The bench plays the owner and the approver.
var (
	CustodyDKG = Scenario{
		Name: "custody-dkg", Module: custody.Name, Type: "create",
		Summary: "custody key generations: --size t-of-n holders (default 3-of-5) each run the signer daemon " +
			"(agora custody signer run: its own home, every answer proven); a ceremony is one wallet's DKG, " +
			"from the submission of its create to the event of the block that records its group key",
		Ceremony: withRig(custodyDKG),
	}
	CustodySign = Scenario{
		Name: "custody-sign", Module: custody.Name, Type: "share",
		Summary: "custody signatures: the holders' signer daemons (as custody-dkg) made a --size wallet " +
			"before the clock; each wave requests --concurrency withdrawals and approves them, and a " +
			"ceremony is one signature, from the commit of its approval to the event of the block that " +
			"records it (the holders' commitments and shares between)",
		Ceremony: withRig(custodySign),
	}
)

// ceremonyTimeout bounds the wait for one DKG or signature.
const ceremonyTimeout = 2 * time.Minute

// withRig makes a ceremony of run: the rig of o's size, closed once run
// returns; t is the wallets' threshold.
func withRig(run func(ctx context.Context, r *custodyRig, t int, o CeremonyOptions, res *CeremonyResult) error) func(context.Context, *client.Client, CeremonyOptions) (*CeremonyResult, error) {
	return func(ctx context.Context, c *client.Client, o CeremonyOptions) (*CeremonyResult, error) {
		t, n, err := parseSize(o.Size)
		if err != nil {
			return nil, err
		}
		r, err := newCustodyRig(ctx, c, n, o)
		if err != nil {
			return nil, err
		}
		defer r.close()
		res := &CeremonyResult{}
		return res, run(ctx, r, t, o, res)
	}
}

// custodyDKG runs DKGs, a wave of wallets created in one block.
func custodyDKG(ctx context.Context, r *custodyRig, t int, o CeremonyOptions, res *CeremonyResult) error {
	c := r.c
	return r.waves(o, res, func(first, k int) error {
		var raws [][]byte
		var ids []string
		for j := range k {
			id := fmt.Sprintf("%s-%d", r.tag, first+j)
			raw, err := r.sign(r.owner, custody.Name, "create", r.create(id, t))
			if err != nil {
				return err
			}
			raws, ids = append(raws, raw), append(ids, id)
		}
		t0 := time.Now()
		if err := commitAll(ctx, c, raws, len(raws)); err != nil {
			return err
		}
		for _, id := range ids {
			at, err := r.feed.wait(ctx, "dkg/"+id)
			if err != nil {
				return ceremonyError("the DKG of wallet "+id, err)
			}
			res.Latencies = append(res.Latencies, at.Sub(t0))
		}
		return nil
	})
}

// custodySign makes and activates a wallet, then runs signatures: a
// wave of requests in one block, their approvals in the next.
func custodySign(ctx context.Context, r *custodyRig, t int, o CeremonyOptions, res *CeremonyResult) error {
	c := r.c
	id := r.tag
	raw, err := r.sign(r.owner, custody.Name, "create", r.create(id, t))
	if err != nil {
		return err
	}
	if err := commitAll(ctx, c, [][]byte{raw}, 1); err != nil {
		return err
	}
	if _, err := r.feed.wait(ctx, "dkg/"+id); err != nil {
		return ceremonyError("the DKG of wallet "+id, err)
	}
	if raw, err = r.sign(r.owner, custody.Name, "activate", &custody.Lifecycle{Wallet: id}); err != nil {
		return err
	}
	if err := commitAll(ctx, c, [][]byte{raw}, 1); err != nil {
		return err
	}
	return r.waves(o, res, func(first, k int) error {
		var reqs, approvals [][]byte
		for j := range k {
			msg := make([]byte, 32)
			rand.Read(msg)
			raw, err := r.sign(r.owner, custody.Name, "request", &custody.Request{Wallet: id, Initiator: r.owner.did,
				Amount: 1, Destination: "bench", Message: msg})
			if err != nil {
				return err
			}
			reqs = append(reqs, raw)
			// Requests are numbered in the order they commit: one batch,
			// one block, in order.
			raw, err = r.sign(r.ops, custody.Name, "approve", &custody.Approve{Wallet: id, Request: uint64(first + j + 1), Approver: r.ops.did})
			if err != nil {
				return err
			}
			approvals = append(approvals, raw)
		}
		if err := commitAll(ctx, c, reqs, len(reqs)); err != nil {
			return err
		}
		if err := commitAll(ctx, c, approvals, len(approvals)); err != nil {
			return err
		}
		t0 := time.Now() // the approvals are in
		for j := range k {
			at, err := r.feed.wait(ctx, fmt.Sprintf("signed/%s/%d", id, first+j+1))
			if err != nil {
				return ceremonyError(fmt.Sprintf("request %d of wallet %s", first+j+1, id), err)
			}
			res.Latencies = append(res.Latencies, at.Sub(t0))
		}
		return nil
	})
}

// parseSize parses "t-of-n"; "" is 3-of-5.
func parseSize(s string) (t, n int, err error) {
	if s == "" {
		return 3, 5, nil
	}
	a, b, ok := strings.Cut(s, "-of-")
	t, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || t < 2 || t > n || n > 16 {
		return 0, 0, cli.UsageError("--size %q: want t-of-n, 2 ≤ t ≤ n ≤ 16 (3-of-5)", s)
	}
	return t, n, nil
}

// party is a DID the bench acts for, with its key's next sequence.
type party struct {
	key *tx.PrivateKey
	did string
	seq uint64
}

// custodyRig is the parties of a custody ceremony run: the owner (who
// also initiates requests), the approver, and the holders, whose signer
// daemons run until close.
type custodyRig struct {
	c          *client.Client
	chainID    string
	tag        string // this run's wallets are named from it
	dir        string // the holders' homes
	owner, ops *party
	holders    []*party
	feed       *custodyFeed
	stop       context.CancelFunc
	waits      []func() error
	mem        []func() Memory
}

// holderKey and holderPass are the key name and passphrase in each
// holder's home.
const holderKey, holderPass = "holder", "bench"

func newCustodyRig(ctx context.Context, c *client.Client, n int, o CeremonyOptions) (*custodyRig, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.LogKey == "" {
		return nil, errors.New("bench: the node serves no log key, and a custody signer checks every answer against it")
	}
	tag := make([]byte, 4)
	rand.Read(tag)
	r := &custodyRig{c: c, chainID: info.ChainID, tag: "bench-" + hex.EncodeToString(tag), feed: &custodyFeed{ch: map[string]chan feedOutcome{}}}
	if r.dir, err = os.MkdirTemp("", "agora-bench-custody-"); err != nil {
		return nil, err
	}
	rctx, stop := context.WithCancel(ctx)
	r.stop = stop
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	newParty := func() (*party, error) {
		k, err := tx.GenerateKey(tx.Ed25519, rand.Reader)
		return &party{key: k}, err
	}
	if r.owner, err = newParty(); err != nil {
		return nil, err
	}
	if r.ops, err = newParty(); err != nil {
		return nil, err
	}
	all := []*party{r.owner, r.ops}
	for range n {
		h, err := newParty()
		if err != nil {
			return nil, err
		}
		r.holders = append(r.holders, h)
		all = append(all, h)
	}
	var raws [][]byte
	for _, p := range all {
		next := make([]byte, 32)
		rand.Read(next)
		create := &identity.Create{Keys: []identity.KeySpec{{PublicKey: p.key.Public(),
			Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}}, Next: next}
		p.did = create.DID()
		raw, err := r.sign(p, identity.Name, "create", create)
		if err != nil {
			return nil, err
		}
		raws = append(raws, raw)
	}
	if err := commitAll(ctx, c, raws, len(raws)); err != nil {
		return nil, err
	}
	go r.feed.follow(rctx, c)
	out := o.Log
	if out == nil {
		out = io.Discard
	}
	out = &syncWriter{w: out}
	for i, h := range r.holders {
		home := filepath.Join(r.dir, fmt.Sprintf("h%d", i+1))
		if _, err := cli.Keys(home).Import(holderKey, h.key, holderPass, time.Now()); err != nil {
			return nil, err
		}
		args := []string{"--home", home, "--node", c.Base(), "--key", holderKey, "--did", h.did, "--log-key", info.LogKey}
		if o.Signer != nil {
			mem, wait, err := o.Signer(rctx, append([]string{"custody", "signer", "run"}, args...), holderPass, out)
			if err != nil {
				return nil, err
			}
			r.mem, r.waits = append(r.mem, mem), append(r.waits, wait)
			continue
		}
		done := make(chan error, 1)
		go func() { done <- custodycli.RunSigner(rctx, args, holderPass, out, out) }()
		r.waits = append(r.waits, func() error { return <-done })
	}
	ok = true
	return r, nil
}

// close stops the signers and removes their homes.
func (r *custodyRig) close() {
	r.stop()
	for _, w := range r.waits {
		w()
	}
	os.RemoveAll(r.dir)
}

// sign signs body as p, with p's next sequence.
func (r *custodyRig) sign(p *party, module, typ string, body any) ([]byte, error) {
	b, err := tx.Marshal(body)
	if err != nil {
		return nil, err
	}
	t := &tx.Tx{Version: tx.Version, ChainID: r.chainID, Module: module, Type: typ, Body: b,
		Signers: []tx.Signer{{Key: p.key.Public(), Sequence: p.seq}}, ExpiryTime: time.Now().Add(time.Hour).UnixMilli()}
	st, err := tx.Sign(t, p.key)
	if err != nil {
		return nil, err
	}
	p.seq++
	return st.Encode()
}

// create is a t-of-n ed25519 hot wallet of the rig's holders whose
// policy lets the approver's one approval allow any withdrawal.
func (r *custodyRig) create(id string, t int) *custody.Create {
	var holders []string
	for _, h := range r.holders {
		holders = append(holders, h.did)
	}
	var p custody.Policy
	pol := fmt.Sprintf(`{"groups":[{"name":"ops","members":[%q,%q],"quorum":1}],"rules":[{"name":"any","action":"allow","destination":"*","group":"ops","approvals":1}],"change_group":"ops"}`, r.ops.did, r.owner.did)
	if err := json.Unmarshal([]byte(pol), &p); err != nil {
		panic(err) // a constant's
	}
	return &custody.Create{Wallet: id, Owner: r.owner.did, Tier: "hot", Asset: "BENCH", Network: "bench",
		Suite: "ed25519", Threshold: uint16(t), Holders: holders, Policy: p}
}

// waves runs ceremonies, wave by wave of o.Concurrency, until o.Count
// are done or o.Duration has passed (at least one wave), sampling the
// memory every o.Every.
func (r *custodyRig) waves(o CeremonyOptions, res *CeremonyResult, wave func(first, k int) error) error {
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	done, next := 0, o.Every
	for done == 0 || ((o.Count == 0 || done < o.Count) && time.Since(start) < o.Duration) {
		k := o.Concurrency
		if o.Count > 0 {
			k = min(k, o.Count-done)
		}
		if err := wave(done, k); err != nil {
			return err
		}
		done += k
		if o.Progress != nil {
			o.Progress(time.Since(start), uint64(done))
		}
		if o.Every > 0 && done >= next {
			res.Samples = append(res.Samples, r.sample(done, start))
			next += o.Every
		}
	}
	return nil
}

// sample is the signers' memory now: the largest resident set and live
// heap of their processes, or those of this process, which they share
// with the node (and the bench).
func (r *custodyRig) sample(done int, start time.Time) Sample {
	s := Sample{Done: uint64(done), ElapsedS: time.Since(start).Seconds()}
	if len(r.mem) == 0 {
		s.HeapMB, s.RSSMB = liveHeapMB(), rssMB()
		return s
	}
	for _, f := range r.mem {
		m := f()
		s.RSSMB, s.HeapMB = max(s.RSSMB, m.RSSMB), max(s.HeapMB, m.HeapMB)
	}
	return s
}

// custodyFeed follows the node's custody events, and tells the bench
// when a wallet's DKG ended ("dkg/WALLET") and a request was signed
// ("signed/WALLET/N"), or that either failed.
type custodyFeed struct {
	mu sync.Mutex
	ch map[string]chan feedOutcome
}

type feedOutcome struct {
	at  time.Time
	err error
}

func (f *custodyFeed) get(key string) chan feedOutcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.ch[key]
	if c == nil {
		c = make(chan feedOutcome, 1)
		f.ch[key] = c
	}
	return c
}

func (f *custodyFeed) tell(key string, o feedOutcome) {
	select {
	case f.get(key) <- o:
	default: // told already
	}
}

// wait returns when the event key was seen, and forgets it.
func (f *custodyFeed) wait(ctx context.Context, key string) (time.Time, error) {
	c := f.get(key)
	defer func() {
		f.mu.Lock()
		delete(f.ch, key)
		f.mu.Unlock()
	}()
	select {
	case o := <-c:
		return o.at, o.err
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-time.After(ceremonyTimeout):
		return time.Time{}, fmt.Errorf("not done within %s", ceremonyTimeout)
	}
}

func (f *custodyFeed) follow(ctx context.Context, c *client.Client) {
	cursor := "0"
	for ctx.Err() == nil {
		var ans wire.Events
		q := url.Values{"module": {custody.Name}, "after": {cursor}, "wait": {"10s"}}
		if err := c.Get(ctx, "/v1/events?"+q.Encode(), &ans); err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		now := time.Now()
		for _, e := range ans.Events {
			a := map[string]string{}
			for _, kv := range e.Attrs {
				a[kv.Key] = kv.Value
			}
			switch {
			case e.Type == "audit" && a["step"] == "generated":
				f.tell("dkg/"+a["wallet"], feedOutcome{at: now})
			case e.Type == "audit" && a["step"] == "dkg_failed":
				f.tell("dkg/"+a["wallet"], feedOutcome{err: fmt.Errorf("the DKG failed (%s)", a["step"])})
			case e.Type == "signed":
				f.tell("signed/"+a["wallet"]+"/"+a["request"], feedOutcome{at: now})
			case e.Type == "expired":
				f.tell("signed/"+a["wallet"]+"/"+a["request"], feedOutcome{err: errors.New("the request expired unsigned")})
			}
		}
		cursor = ans.Next
	}
}

// syncWriter serialises the writes of the signers that share it.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
