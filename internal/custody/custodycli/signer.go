package custodycli

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/tx"
)

// The signer: 'agora custody signer run' follows the custody events of
// the feed and, for every wallet that names its DID as a holder, takes
// its part: it joins the DKG with a fresh X25519 key, posts its round-one
// package, deals its round-two shares sealed with HPKE to each other
// holder, opens the shares dealt to it (complaining of a dealer whose
// share does not match its commitments) and keeps its signing share,
// encrypted at rest (state.go). For a request it commits and gives its
// share only after checking, offline against a state proof, that the
// ledger approved this exact request under the wallet's policy; a node
// that claims otherwise is refused, and the signer says why.
//
// Every read goes through cli.ModuleQuery with the trust flags, so every
// fact the signer acts on is proven; it refuses to run without them.
//
// Its DKG polynomial is drawn from a secret seed kept in its state, so a
// signer that restarts between the rounds deals the same shares. Its
// signing nonces are saved in its state, encrypted, before its commitment
// is posted, and erased (replaced by the share they made) before the
// share is posted: a signer that restarts between commit and share gives
// its share; a pair of nonces signs once. It works in passes: the
// nonces and shares of every request due are saved together, in one
// save, then posted together, in one batch (requests).

func signerRun(args []string, stdout, stderr io.Writer) error {
	// Interrupt (Ctrl-C) or TERM (a service manager) stops it between
	// steps.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunSigner(ctx, args, "", stdout, stderr)
}

// RunSigner is 'agora custody signer run' with the flags args, until ctx
// is done: the daemon itself, for a caller that runs signers in its own
// process (agora bench). pass is the key's passphrase; "" asks for it as
// every command does (cli.Passphrase).
func RunSigner(ctx context.Context, args []string, pass string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody signer run", usage, stderr)
	home := cli.HomeFlag(fs)
	node := cli.NodeFlag(fs)
	keyName := fs.String("key", "", "the key `NAME` of the holder's DID, which signs its transactions")
	did := fs.String("did", "", "the holder's `DID`")
	once := fs.Bool("once", false, "catch up with the feed, act on what is due, and exit")
	tr := cli.TrustFlags(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *keyName == "" || *did == "" {
		return cli.UsageError("--key NAME and --did DID are required")
	}
	policy, err := tr.Policy()
	if err != nil {
		return err
	}
	if policy == nil {
		return cli.UsageHint("agora info --json | jq -r .log_key prints a dev node's log key",
			"a signer checks every approval against a proof: give --log-key KEY (or AGORA_LOG_KEY) or --validators FILE")
	}
	ks := cli.Keys(*home)
	if _, err := ks.Get(*keyName); err != nil {
		return err
	}
	if pass == "" {
		if pass, err = cli.Passphrase(stderr, fmt.Sprintf("Passphrase for key %s: ", *keyName), false); err != nil {
			return err
		}
	}
	key, err := ks.Unlock(*keyName, pass)
	if err != nil {
		return err
	}
	st, err := openState(*home, *keyName, pass)
	if err != nil {
		return err
	}
	s := &signer{c: client.New(*node), tr: tr, key: key, keyName: *keyName, did: *did, st: st,
		out: stdout, log: stderr, said: map[string]string{}, wallets: map[string]bool{}, named: map[string]bool{}, again: map[string]bool{}, seen: map[string]time.Time{}, once: *once}
	fmt.Fprintf(stdout, "signer %s for %s following %s\n", *keyName, *did, *node)
	return s.run(ctx, *once)
}

type signer struct {
	c       *client.Client
	tr      *cli.Trust
	key     *tx.PrivateKey
	keyName string
	did     string
	st      *state
	out     io.Writer         // what it did and refused
	log     io.Writer         // transient errors
	said    map[string]string // the last thing said of a wallet or request, said once
	wallets map[string]bool   // wallets the feed named, true while there is work to watch
	// named are the wallets the feed named since the last pass, and
	// again those whose last pass left something to retry (an error, a
	// standby's grace): a pass visits only these, so a wallet where
	// nothing happens (one waiting for its activation, say) is not read
	// again and again. Every change of a wallet's state is an event
	// naming it; and a long poll that ends without an event visits them
	// all.
	named, again map[string]bool
	retry        bool // the wallet being visited has something to retry
	// seen is when the signer first saw each request (wallet/n) approved
	// that it is a standby for, and next when the first of those is due
	// (zero if none waits).
	seen map[string]time.Time
	next time.Time
	once bool // one pass: a standby commits at once
}

// standbyGrace is how long a holder beyond the first t of a wallet's
// holders (a standby) leaves an approved request to the first t before
// it commits too: the first t commitments make the signers, and a
// further one is refused (conflict), a transaction wasted. A standby
// still commits once the grace is over and fewer than t have, so a
// request is signed while t holders are online.
const standbyGrace = 3 * time.Second

// pollWait is how long one request of the feed waits for an event.
const pollWait = 10 * time.Second

func (s *signer) run(ctx context.Context, once bool) error {
	cursor := "0"
	for {
		q := url.Values{"module": {custody.Name}, "after": {cursor}}
		if !once {
			wait := pollWait
			if !s.next.IsZero() {
				// A standby's grace ends before the long poll would.
				wait = min(wait, max(time.Until(s.next).Round(time.Second), time.Second))
			}
			q.Set("wait", wait.String())
		}
		var ans wire.Events
		if err := s.c.Get(ctx, "/v1/events?"+q.Encode(), &ans); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(s.log, "events: %v\n", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		for _, e := range ans.Events {
			for _, a := range e.Attrs {
				if a.Key == "wallet" {
					s.wallets[a.Value] = true
					s.named[a.Value] = true
				}
			}
		}
		caughtUp := ans.Next == strconv.FormatUint(ans.Head, 10)
		cursor = ans.Next
		if !caughtUp && once {
			continue
		}
		s.next = time.Time{}
		// A long poll that ended without an event visits every wallet:
		// what a missed event would leave undone waits at most pollWait.
		sweep := len(ans.Events) == 0
		for _, w := range slices.Sorted(mapsKeys(s.wallets)) {
			if ctx.Err() != nil {
				return nil
			}
			if !s.named[w] && !s.again[w] && !sweep {
				continue
			}
			s.retry = false
			if err := s.wallet(ctx, w); err != nil {
				fmt.Fprintf(s.log, "wallet %s: %v\n", w, err)
				s.retry = true
			}
			if s.retry {
				s.again[w] = true
			} else {
				delete(s.again, w)
			}
		}
		clear(s.named)
		if once && caughtUp {
			return nil
		}
	}
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k, v := range m {
			if v && !yield(k) {
				return
			}
		}
	}
}

// say prints what the signer did or why it does not act, once per
// subject until it changes.
func (s *signer) say(subject, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s.said[subject] == msg {
		return
	}
	s.said[subject] = msg
	fmt.Fprintln(s.out, msg)
}

func (s *signer) query(ctx context.Context, name string, params map[string]string, out any) error {
	_, err := cli.ModuleQuery(ctx, s.c, custody.Module{}, name, params, s.tr, out)
	return err
}

func (s *signer) submit(ctx context.Context, typ string, body any) error {
	res, err := cli.SubmitFresh(ctx, s.c, []*tx.PrivateKey{s.key}, []string{s.keyName}, custody.Name, typ, body, 5*time.Minute, s.log)
	if err != nil {
		return err
	}
	if res.TxCommit != nil && !res.Result.OK() {
		return fmt.Errorf("refused: %s (%s)", cli.Reason(res.Result), res.Result.Code)
	}
	return nil
}

// wallet does what is due for one wallet.
func (s *signer) wallet(ctx context.Context, id string) error {
	var w custody.Wallet
	if err := s.query(ctx, "wallet", map[string]string{"wallet": id}, &w); err != nil {
		return err
	}
	if w.Rotations > 0 && w.State != custody.Destroyed {
		if handled, err := s.rotation(ctx, &w); handled || err != nil {
			return err
		}
	}
	me := find(w.Holders, s.did)
	sec := s.st.Wallets[id]
	if me == nil && (sec == nil || w.State != custody.Destroyed) {
		s.wallets[id] = false // not ours: stop looking
		return nil
	}
	switch w.State {
	case custody.Generation:
		return s.dkg(ctx, &w, me, sec)
	case custody.Failed:
		s.say(id, "wallet %s: key generation failed: %s", id, w.Reason)
		if sec != nil {
			delete(s.st.Wallets, id)
			return s.st.save()
		}
		return nil
	case custody.Destroyed:
		if sec != nil {
			delete(s.st.Wallets, id)
			if err := s.st.save(); err != nil {
				return err
			}
			s.say(id, "wallet %s destroyed: share deleted", id)
		}
		s.wallets[id] = false
		return nil
	}
	if sec == nil || (sec.Key == nil && sec.Seed == nil) {
		s.say(id, "wallet %s: holder %d has no share here", id, me.ID)
		return nil
	}
	if sec.Key == nil {
		if err := s.finish(ctx, &w, me, sec); err != nil {
			return err
		}
	}
	if w.State != custody.Active && w.State != custody.InUse {
		return nil
	}
	return s.requests(ctx, &w, me, sec)
}

// requests does what is due for the wallet's open requests in one pass:
// it reads each, makes the nonces and shares due, saves them all at once
// (encrypted, before any of them leaves), then posts every commitment and
// share in one batch and waits once for their commit. A wave of requests
// so takes this holder about a block per round, not a block per request
// and round; and the state, whose every save costs a scrypt, is saved
// once a pass.
func (s *signer) requests(ctx context.Context, w *custody.Wallet, me *custody.Holder, sec *secrets) error {
	var (
		posts []post
		done  = map[uint64]bool{}
	)
	for n := sec.Done + 1; n <= w.Requests; n++ {
		d, p, err := s.request(ctx, w, me, sec, n)
		if err != nil {
			fmt.Fprintf(s.log, "wallet %s request %d: %v\n", w.ID, n, err)
			s.retry = true
			continue
		}
		if p != nil {
			posts = append(posts, *p)
		}
		done[n] = d
	}
	if s.st.dirty {
		// The pass's new nonces and shares are on disk before any
		// commitment or share leaves; if not, none leaves.
		if err := s.st.save(); err != nil {
			return err
		}
	}
	for i, err := range s.submitAll(ctx, posts) {
		p := posts[i]
		if err != nil {
			fmt.Fprintf(s.log, "wallet %s request %d: %v\n", w.ID, p.n, err)
			s.retry = true
			continue
		}
		s.say(fmt.Sprintf("%s/%d", w.ID, p.n), "%s", p.said)
		if p.typ == "share" {
			s.forget(sec, p.n)
		}
	}
	for done[sec.Done+1] {
		sec.Done++
		delete(s.said, fmt.Sprintf("%s/%d", w.ID, sec.Done)) // said of a request it will not visit again
	}
	if s.st.dirty {
		return s.st.save() // the shares the ledger has, erased
	}
	return nil
}

// post is a transaction a pass makes: a commitment or a share for request
// n, and what the signer says once it is committed.
type post struct {
	n    uint64
	typ  string
	body any
	said string
}

// submitAll signs posts with the holder's key, with consecutive
// sequences, and submits them in one batch, waiting for their commit. It
// returns why each post did not commit with effect, nil if it did. Posts
// whose sequence was taken (bad_sequence, also those after one the node
// refused) are signed again with fresh sequences, at most
// cli.SubmitAttempts times in all.
func (s *signer) submitAll(ctx context.Context, posts []post) []error {
	errs := make([]error, len(posts))
	todo := make([]int, len(posts))
	for i := range todo {
		todo[i] = i
	}
	for attempt := 1; len(todo) > 0; attempt++ {
		raws, err := s.build(ctx, posts, todo)
		var items []wire.BatchItem
		if err == nil {
			items, err = s.c.SubmitBatchWait(ctx, raws)
		}
		if err != nil {
			for _, i := range todo {
				errs[i] = err
			}
			break
		}
		var again []int
		for k, it := range items {
			i := todo[k]
			switch {
			case it.Error != nil && it.Error.Code == "bad_sequence" && attempt < cli.SubmitAttempts:
				again = append(again, i)
			case it.Error != nil:
				errs[i] = fmt.Errorf("%s (%s)", it.Error.Message, it.Error.Code)
			case it.Code != "ok":
				errs[i] = fmt.Errorf("refused (%s)", it.Code)
			}
		}
		todo = again
	}
	return errs
}

// build signs the posts todo, in order, from the key's next sequence.
func (s *signer) build(ctx context.Context, posts []post, todo []int) ([][]byte, error) {
	info, err := s.c.Info(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := s.c.NextSequence(ctx, s.key.Public())
	if err != nil {
		return nil, err
	}
	var raws [][]byte
	for k, i := range todo {
		b, err := tx.Marshal(posts[i].body)
		if err != nil {
			return nil, err
		}
		t := &tx.Tx{Version: tx.Version, ChainID: info.ChainID, Module: custody.Name, Type: posts[i].typ, Body: b,
			Signers: []tx.Signer{{Key: s.key.Public(), Sequence: seq + uint64(k)}}, ExpiryTime: time.Now().Add(5 * time.Minute).UnixMilli()}
		st, err := tx.Sign(t, s.key)
		if err != nil {
			return nil, err
		}
		raw, err := st.Encode()
		if err != nil {
			return nil, err
		}
		raws = append(raws, raw)
	}
	return raws, nil
}

// drbg is a deterministic random stream for what the holder draws in a
// DKG: keyed by its secret seed, separated by purpose and session.
func drbg(seed, session []byte, purpose string) io.Reader {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte("agora/custody/signer/v1\x00" + purpose + "\x00"))
	m.Write(session)
	return mrand.NewChaCha8([32]byte(m.Sum(nil)))
}

func (s *signer) newDKG(w *custody.Wallet, me *custody.Holder, sec *secrets) (*frost.DKG, *frost.Round1Package, error) {
	suite, err := custody.Suite(w.Suite)
	if err != nil {
		return nil, nil, err
	}
	return suite.NewDKG(drbg(sec.Seed, w.Session, "dkg"), w.Session, frost.Identifier(me.ID), int(w.Threshold), len(w.Holders))
}

// dkg takes the next step of a DKG in generation.
func (s *signer) dkg(ctx context.Context, w *custody.Wallet, me *custody.Holder, sec *secrets) error {
	if me.HPKE == nil {
		if sec == nil {
			k, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			seed := make([]byte, 32)
			rand.Read(seed)
			sec = &secrets{Suite: w.Suite, HPKE: k.Bytes(), Seed: seed, Session: w.Session}
			s.st.Wallets[w.ID] = sec
			if err := s.st.save(); err != nil {
				return err
			}
		}
		k, err := ecdh.X25519().NewPrivateKey(sec.HPKE)
		if err != nil {
			return err
		}
		if err := s.submit(ctx, "join", &custody.Join{Wallet: w.ID, Holder: s.did, HPKE: k.PublicKey().Bytes()}); err != nil {
			return err
		}
		s.say(w.ID, "wallet %s: joined as holder %d of %d", w.ID, me.ID, len(w.Holders))
		return nil
	}
	if sec == nil || !bytes.Equal(sec.Session, w.Session) {
		s.say(w.ID, "wallet %s: joined with a key this signer does not hold", w.ID)
		return nil
	}
	for _, h := range w.Holders {
		if h.HPKE == nil {
			return nil // round one waits for every holder to join
		}
	}
	d, pkg, err := s.newDKG(w, me, sec)
	if err != nil {
		return err
	}
	if me.Round1 == nil {
		if err := s.submit(ctx, "round1", &custody.Round1{Wallet: w.ID, Holder: s.did, Package: pkg.Bytes()}); err != nil {
			return err
		}
		s.say(w.ID, "wallet %s: posted round 1", w.ID)
		return nil
	}
	if !bytes.Equal(me.Round1, pkg.Bytes()) {
		return fmt.Errorf("the ledger's round-one package of holder %d is not the one this signer makes", me.ID)
	}
	if me.Dealt {
		return nil
	}
	suite, _ := custody.Suite(w.Suite)
	var r1 []*frost.Round1Package
	for _, h := range w.Holders {
		if h.Round1 == nil {
			return nil // round two waits for every round one
		}
		p, err := suite.DecodeRound1Package(h.Round1)
		if err != nil {
			return err
		}
		r1 = append(r1, p)
	}
	out, err := d.Round2(drbg(sec.Seed, w.Session, "round2"), r1)
	if err != nil {
		return err
	}
	var sealed []custody.Sealed
	for _, p := range out {
		to := w.Holders[p.Recipient-1]
		ct, err := seal(to.HPKE, custody.SealInfo(w.Session, me.ID, to.ID), p.Bytes())
		if err != nil {
			return err
		}
		sealed = append(sealed, custody.Sealed{To: to.ID, Ciphertext: ct})
	}
	if err := s.submit(ctx, "round2", &custody.Round2{Wallet: w.ID, Holder: s.did, Shares: sealed}); err != nil {
		return err
	}
	s.say(w.ID, "wallet %s: dealt %d sealed shares", w.ID, len(sealed))
	return nil
}

// finish opens the shares dealt to this holder, checks each against its
// dealer's commitments (complaining of one that does not match), and
// keeps the signing share; the seed that made its polynomial is then
// deleted.
func (s *signer) finish(ctx context.Context, w *custody.Wallet, me *custody.Holder, sec *secrets) error {
	suite, err := custody.Suite(w.Suite)
	if err != nil {
		return err
	}
	k, err := hpke.NewDHKEMPrivateKey(mustX25519(sec.HPKE))
	if err != nil {
		return err
	}
	var r1 []*frost.Round1Package
	for _, h := range w.Holders {
		p, err := suite.DecodeRound1Package(h.Round1)
		if err != nil {
			return err
		}
		r1 = append(r1, p)
	}
	var received []*frost.Round2Package
	for _, h := range w.Holders {
		if h.ID == me.ID {
			continue
		}
		var sealed []custody.Sealed
		if err := s.query(ctx, "sealed", map[string]string{"wallet": w.ID, "dealer": strconv.Itoa(int(h.ID))}, &sealed); err != nil {
			return err
		}
		i := slices.IndexFunc(sealed, func(x custody.Sealed) bool { return x.To == me.ID })
		if i < 0 {
			return fmt.Errorf("dealer %d sealed nothing to holder %d", h.ID, me.ID)
		}
		pt, err := hpke.Open(k, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), custody.SealInfo(w.Session, h.ID, me.ID), sealed[i].Ciphertext)
		if err != nil {
			return fmt.Errorf("open the share of dealer %d: %w", h.ID, err)
		}
		p, err := suite.DecodeRound2Package(pt)
		if err == nil {
			err = suite.CheckDealing(w.Session, r1[h.ID-1], p)
		}
		if err != nil {
			if w.State == custody.InActivation {
				if cerr := s.submit(ctx, "complain", &custody.Complain{Wallet: w.ID, Holder: s.did, Package: pt}); cerr != nil {
					return fmt.Errorf("the share of dealer %d is bad (%v), and the complaint failed: %w", h.ID, err, cerr)
				}
			}
			s.say(w.ID, "wallet %s: complained of dealer %d: %v", w.ID, h.ID, err)
			return nil
		}
		received = append(received, p)
	}
	d, _, err := s.newDKG(w, me, sec)
	if err != nil {
		return err
	}
	kp, err := d.Finish(r1, received)
	if err != nil {
		return err
	}
	if !bytes.Equal(kp.Public().GroupKey(), w.GroupKey) {
		return fmt.Errorf("the group key this holder derived, %x, is not the ledger's %x", kp.Public().GroupKey(), w.GroupKey)
	}
	sec.Key, sec.Seed, sec.HPKE = kp.Bytes(), nil, nil
	if err := s.st.save(); err != nil {
		return err
	}
	s.say(w.ID, "wallet %s: holder %d keeps its share of group key %x", w.ID, me.ID, w.GroupKey)
	return nil
}

func mustX25519(b []byte) *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		panic(err) // saved by this signer from a valid key
	}
	return k
}

// request reads request n and makes what is due for it: a commitment
// (new nonces kept in sec) or a share (its nonces erased, the share kept
// in sec), returned as a post for the pass to save and send; done is true
// once there is nothing more for this holder to do for it. What it
// changes in sec marks the state to be saved.
func (s *signer) request(ctx context.Context, w *custody.Wallet, me *custody.Holder, sec *secrets, n uint64) (bool, *post, error) {
	subject := fmt.Sprintf("%s/%d", w.ID, n)
	var a custody.Approval
	err := s.query(ctx, "approval", map[string]string{"wallet": w.ID, "n": strconv.FormatUint(n, 10)}, &a)
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		// The answer does not verify: whatever the node claims, this
		// holder does not sign on it.
		s.say(subject, "REFUSED request %d of %s: the node's answer does not prove it approved: %v", n, w.ID, err)
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	r := a.Request
	switch r.State {
	case custody.Signed, custody.Expired:
		delete(s.seen, subject)
		s.forget(sec, n)
		return true, nil, nil
	}
	if !a.Approved {
		s.say(subject, "request %d of %s: not signing: %s", n, w.ID, a.Reason)
		return false, nil, nil
	}
	suite, err := custody.Suite(w.Suite)
	if err != nil {
		return false, nil, err
	}
	kp, err := suite.DecodeKeyPackage(sec.Key)
	if err != nil {
		return false, nil, err
	}
	var list []frost.Commitments
	mine := false
	for _, b := range r.Commitments {
		c, err := suite.DecodeCommitments(b)
		if err != nil {
			return false, nil, err
		}
		list = append(list, c)
		mine = mine || c.ID == frost.Identifier(me.ID)
	}
	switch {
	case r.State == custody.Approved && slices.Contains(r.Dropped, me.ID):
		// It gave no share within the window of an earlier round: the
		// ledger no longer takes its commitments for this request.
		s.say(subject, "request %d of %s: dropped for giving no share in time: not signing it", n, w.ID)
		s.forget(sec, n)
		return true, nil, nil
	case r.State == custody.Approved && !mine && s.standby(w, me, sec, n, subject):
		return false, nil, nil
	case r.State == custody.Approved && !mine:
		delete(s.seen, subject)
		if sec.Shares[n] != nil {
			// A share of a round the ledger started again (a signer
			// gave none in time): void, it was made for another set of
			// signers. Its nonces are gone; new ones are made below.
			delete(sec.Shares, n)
			s.st.dirty = true
		}
		var c frost.Commitments
		if saved := sec.Nonces[n]; saved != nil {
			// Committed before a restart (or a refused post), and the
			// ledger does not have it: post the same commitment again.
			nonces, err := kp.DecodeNonces(saved)
			if err != nil {
				s.forget(sec, n)
				return false, nil, err
			}
			c = nonces.Commitments()
		} else {
			nonces, cm, err := kp.Commit(rand.Reader)
			if err != nil {
				return false, nil, err
			}
			b, err := nonces.Bytes()
			if err != nil {
				return false, nil, err
			}
			// The pass saves the nonces, encrypted, before the
			// commitment leaves: a restart cannot lose them.
			if sec.Nonces == nil {
				sec.Nonces = map[uint64][]byte{}
			}
			sec.Nonces[n], c = b, cm
			s.st.dirty = true
		}
		said := fmt.Sprintf("request %d of %s: approved (proven: rule %s, %d approvals); committed", n, w.ID, r.Decision.Rule, len(r.Approvers))
		if r.Round > 0 {
			said += fmt.Sprintf(" in round %d", r.Round)
		}
		return false, &post{n: n, typ: "commit", body: &custody.Commit{Wallet: w.ID, Request: n, Holder: s.did, Commitments: c.Bytes(), Round: r.Round}, said: said}, nil
	case r.State == custody.Signing && mine:
		for _, b := range r.Shares {
			if sh, err := suite.DecodeSignatureShare(b); err == nil && sh.ID == frost.Identifier(me.ID) {
				// Given; not done until signed: if another signer
				// gives none in time, the round starts again.
				s.forget(sec, n)
				return false, nil, nil
			}
		}
		sh := sec.Shares[n]
		if sh == nil {
			saved := sec.Nonces[n]
			if saved == nil {
				s.say(subject, "request %d of %s: this signer no longer holds the nonces it committed to: no share", n, w.ID)
				return true, nil, nil
			}
			nonces, err := kp.DecodeNonces(saved)
			if err != nil {
				s.forget(sec, n)
				return false, nil, err
			}
			share, err := kp.Sign(nonces, r.Message, list)
			// Used once, whatever happens next: the nonces are erased
			// and the share kept; the pass saves that before the share
			// leaves.
			delete(sec.Nonces, n)
			s.st.dirty = true
			if err != nil {
				return false, nil, err
			}
			if sec.Shares == nil {
				sec.Shares = map[uint64][]byte{}
			}
			sh = share.Bytes()
			sec.Shares[n] = sh
		}
		return false, &post{n: n, typ: "share", body: &custody.Share{Wallet: w.ID, Request: n, Holder: s.did, Share: sh},
			said: fmt.Sprintf("request %d of %s: gave signature share", n, w.ID)}, nil
	case r.State == custody.Signing:
		// The first t holders sign; this one is not among them, unless
		// one of them gives no share in time and the round starts again.
		delete(s.seen, subject)
		s.forget(sec, n)
		return false, nil, nil
	}
	return false, nil, nil
}

// standby reports whether this holder, beyond the wallet's first t
// holders, still leaves the approved request subject to them
// (standbyGrace), and notes when it is due. A holder that saved nonces
// for it (it committed before a restart) does not wait; nor does one
// pass (--once).
func (s *signer) standby(w *custody.Wallet, me *custody.Holder, sec *secrets, n uint64, subject string) bool {
	i := slices.IndexFunc(w.Holders, func(h custody.Holder) bool { return h.ID == me.ID })
	if s.once || i < int(w.Threshold) {
		return false
	}
	if sec.Nonces[n] != nil {
		return false
	}
	first, ok := s.seen[subject]
	if !ok {
		first = time.Now()
		s.seen[subject] = first
	}
	due := first.Add(standbyGrace)
	if !time.Now().Before(due) {
		return false
	}
	if s.next.IsZero() || due.Before(s.next) {
		s.next = due
	}
	s.retry = true
	return true
}

// forget erases what the holder kept for request n (its nonces, its
// share); the pass saves the state.
func (s *signer) forget(sec *secrets, n uint64) {
	if sec.Nonces[n] == nil && sec.Shares[n] == nil {
		return
	}
	delete(sec.Nonces, n)
	delete(sec.Shares, n)
	s.st.dirty = true
}
