// Package custodycli is the custody module's commands: 'agora custody'
// for operators (create a wallet, run its lifecycle, change its policy,
// rotate its holders or destroy it by the change group's quorum, request,
// approve, follow and verify a signature, read its audit log)
// and 'agora custody signer run', the daemon each key holder runs on its
// own machine. cmd/agora's registry takes them from Commands; 'agora
// custody types|send' are generated from the module's message types
// (cli.ModuleCommands).
package custodycli

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// Commands returns the custody module's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{{
		Name: custody.Name, Run: run,
		Usage:   "custody create|show|request|approve|status|verify|audit|signer|policy|activate|...",
		Summary: "custody wallets: keys made by DKG, used by FROST threshold signing under policies",
	}}
}

const usage = `
Usage:
  agora custody create WALLET --key NAME --owner DID --holders DID,DID,... --threshold T
                       --policy FILE [--suite ed25519|secp256k1|taproot] [--tier hot|warm|cold]
                       [--asset LABEL] [--network LABEL]
  agora custody show WALLET [--json] [--log-key KEY]
  agora custody activate|suspend|resume WALLET --key NAME [--reason TEXT]
  agora custody rotate WALLET --key NAME --proposer DID --holders DID,DID,... --threshold T [--reason TEXT]
  agora custody destroy WALLET --key NAME --proposer DID [--reason TEXT]
  agora custody operation show WALLET [--json] [--log-key KEY]
  agora custody operation approve WALLET --key NAME --approver DID
  agora custody rotation WALLET [N] [--wait done|failed] [--timeout D] [--json] [--log-key KEY]
  agora custody request WALLET --key NAME --initiator DID --amount N --to DEST --message HEX [--memo TEXT]
  agora custody approve WALLET N --key NAME --approver DID
  agora custody status WALLET N [--wait STATE] [--timeout D] [--json] [--log-key KEY]
  agora custody verify WALLET N [--log-key KEY]
  agora custody audit WALLET [--since TIME] [--json] [--log-key KEY]
  agora custody policy propose WALLET FILE --key NAME --proposer DID
  agora custody policy approve WALLET --key NAME --approver DID
  agora custody signer run --key NAME --did DID --log-key KEY [--once]
  agora custody types
  agora custody send TYPE BODY.json --key NAME

A wallet's key is made by a distributed key generation among its holders
and exists only as their shares: no machine ever holds it. create opens
the DKG; each holder's 'signer run' joins it, deals its encrypted shares
and keeps its own share, encrypted at rest in its home. When the group
key is on the ledger the owner activates the wallet.

request asks for a signature of MESSAGE (hex) for a withdrawal of AMOUNT
to DEST; the wallet's policy decides at once whether it is refused or
which approvals it needs. Approvers approve (the initiator never
counts); once approved, and after the rule's time lock, the holders'
signers commit and give signature shares, each checking first, against
a proof, that the ledger approved this exact request. status follows the
request (--wait signed waits for its signature); verify checks the
signature with a standard verifier: crypto/ed25519 for an ed25519 wallet,
a BIP-340 verifier for a taproot one.

rotate reshares the wallet's key to new holders (and threshold) without
changing its group key or address; naming the same holders refreshes
their shares. It and destroy are key operations: a member of the
policy's change group proposes, the group's quorum approves ('operation
approve', the proposer never counting), and it takes effect after the
policy's change delay (a destruction after a day at least). The holders'
signers then run the resharing through the ledger; rotation follows it
(--wait done waits for the new holders to accept). The old holders
delete their shares when it is done.

show, status, verify, audit, operation show and rotation with --log-key (or AGORA_LOG_KEY) trust
the node for nothing: each answer is checked against a state proof.

Examples:
  agora custody create treasury --key alice --owner $ALICE --holders $H1,$H2,$H3 --threshold 2 --policy policy.json
  agora custody signer run --key h1 --did $H1 --log-key "$(agora info --json | jq -r .log_key)"
  agora custody request treasury --key bob --initiator $BOB --amount 10 --to exchange-1 --message 68656c6c6f
  agora custody approve treasury 1 --key carol --approver $CAROL
  agora custody status treasury 1 --wait signed && agora custody verify treasury 1
  agora custody rotate treasury --key carol --proposer $CAROL --holders $H1,$H4,$H5 --threshold 2
  agora custody operation approve treasury --key dave --approver $DAVE
  agora custody rotation treasury 1 --wait done
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(usage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "create":
		return create(args[1:], stdout, stderr)
	case "show":
		return show(args[1:], stdout, stderr)
	case "activate", "suspend", "resume":
		return lifecycle(args[0], args[1:], stdout, stderr)
	case "rotate", "destroy":
		return keyOp(args[0], args[1:], stdout, stderr)
	case "operation":
		return operation(args[1:], stdout, stderr)
	case "rotation":
		return rotation(args[1:], stdout, stderr)
	case "request":
		return request(args[1:], stdout, stderr)
	case "approve":
		return approve(args[1:], stdout, stderr)
	case "status":
		return status(args[1:], stdout, stderr)
	case "verify":
		return verifySig(args[1:], stdout, stderr)
	case "audit":
		return audit(args[1:], stdout, stderr)
	case "policy":
		return policy(args[1:], stdout, stderr)
	case "signer":
		if len(args) < 2 || args[1] != "run" {
			return cli.UsageError("usage: agora custody signer run --key NAME --did DID --log-key KEY")
		}
		return signerRun(args[2:], stdout, stderr)
	}
	return cli.UsageError("unknown custody command %q (see 'agora custody -h')", args[0])
}

// common are the flags of a command that submits a transaction.
type common struct {
	home, node, key *string
	ttl             *time.Duration
}

func commonFlags(fs *flag.FlagSet) *common {
	return &common{home: cli.HomeFlag(fs), node: cli.NodeFlag(fs),
		key: fs.String("key", "", "the key `NAME` that signs"),
		ttl: fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")}
}

func (c *common) submit(typ string, body ledger.Msg, stdout, stderr io.Writer) error {
	if *c.key == "" {
		return cli.UsageError("--key NAME is required: the key that signs (see 'agora keys list')")
	}
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
	}
	res, err := cli.SignAndSubmit(*c.home, *c.node, *c.key, custody.Name, typ, body, *c.ttl, stderr)
	if err != nil {
		return err
	}
	cli.PrintResult(stdout, "custody "+typ, res)
	return nil
}

func create(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody create", usage, stderr)
	c := commonFlags(fs)
	owner := fs.String("owner", "", "the owner's `DID`, which runs the lifecycle")
	holders := fs.String("holders", "", "the key holders' `DIDs`, comma-separated")
	threshold := fs.Uint("threshold", 0, "how many holders sign (t of n)")
	policyFile := fs.String("policy", "", "the policy, a JSON `FILE` (docs/spec/custody.md section 4)")
	suite := fs.String("suite", "ed25519", "the FROST suite: ed25519, secp256k1 or taproot")
	tier := fs.String("tier", "hot", "hot, warm or cold")
	asset := fs.String("asset", "ETH", "the asset's `LABEL`")
	network := fs.String("network", "ethereum", "the chain's `LABEL`")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *policyFile == "" {
		return cli.UsageError("usage: agora custody create WALLET --key NAME --owner DID --holders DID,... --threshold T --policy FILE")
	}
	raw, err := cli.ReadInput(*policyFile)
	if err != nil {
		return err
	}
	var p custody.Policy
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return cli.UsageError("--policy %s: %v", *policyFile, err)
	}
	body := &custody.Create{Wallet: pos[0], Owner: *owner, Tier: *tier, Asset: *asset, Network: *network, Suite: *suite,
		Threshold: uint16(*threshold), Holders: splitList(*holders), Policy: p}
	return c.submit("create", body, stdout, stderr)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func lifecycle(step string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody "+step, usage, stderr)
	c := commonFlags(fs)
	reason := fs.String("reason", "", "why, for the audit log")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora custody %s WALLET --key NAME", step)
	}
	return c.submit(step, &custody.Lifecycle{Wallet: pos[0], Reason: *reason}, stdout, stderr)
}

func request(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody request", usage, stderr)
	c := commonFlags(fs)
	initiator := fs.String("initiator", "", "your `DID`")
	amount := fs.Uint64("amount", 0, "the amount, in the asset's smallest unit")
	to := fs.String("to", "", "the `DESTINATION` address")
	msg := fs.String("message", "", "the bytes to sign, in `HEX` (a 32-byte sighash for taproot)")
	memo := fs.String("memo", "", "a note for the approvers")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora custody request WALLET --key NAME --initiator DID --amount N --to DEST --message HEX")
	}
	m, err := hex.DecodeString(*msg)
	if err != nil {
		return cli.UsageError("--message is hex: %v", err)
	}
	return c.submit("request", &custody.Request{Wallet: pos[0], Initiator: *initiator, Amount: *amount,
		Destination: *to, Message: m, Memo: *memo}, stdout, stderr)
}

func requestNumber(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, cli.UsageError("request %q is not a number from 1", s)
	}
	return n, nil
}

func approve(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody approve", usage, stderr)
	c := commonFlags(fs)
	approver := fs.String("approver", "", "your `DID`")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return cli.UsageError("usage: agora custody approve WALLET N --key NAME --approver DID")
	}
	n, err := requestNumber(pos[1])
	if err != nil {
		return err
	}
	return c.submit("approve", &custody.Approve{Wallet: pos[0], Request: n, Approver: *approver}, stdout, stderr)
}

func policy(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "propose" && args[0] != "approve") {
		return cli.UsageError("usage: agora custody policy propose|approve WALLET ...")
	}
	fs := cli.NewFlags("custody policy "+args[0], usage, stderr)
	c := commonFlags(fs)
	who := fs.String(map[string]string{"propose": "proposer", "approve": "approver"}[args[0]], "", "your `DID`, in the policy's change group")
	pos, err := cli.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	if args[0] == "approve" {
		if len(pos) != 1 {
			return cli.UsageError("usage: agora custody policy approve WALLET --key NAME --approver DID")
		}
		return c.submit("approve_policy", &custody.ApprovePolicy{Wallet: pos[0], Approver: *who}, stdout, stderr)
	}
	if len(pos) != 2 {
		return cli.UsageError("usage: agora custody policy propose WALLET FILE --key NAME --proposer DID")
	}
	raw, err := cli.ReadInput(pos[1])
	if err != nil {
		return err
	}
	var p custody.Policy
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return cli.UsageError("%s: %v", pos[1], err)
	}
	return c.submit("propose_policy", &custody.ProposePolicy{Wallet: pos[0], Proposer: *who, Policy: p}, stdout, stderr)
}

// reader are the flags of a command that reads, proven with the trust
// flags.
type reader struct {
	node   *string
	tr     *cli.Trust
	asJSON *bool
}

func readerFlags(fs *flag.FlagSet) *reader {
	cli.HomeFlag(fs) // where --log-key's accepted checkpoints are kept
	return &reader{node: cli.NodeFlag(fs), tr: cli.TrustFlags(fs), asJSON: fs.Bool("json", false, "print the answer as JSON")}
}

func (r *reader) query(ctx context.Context, name string, params map[string]string, out any) (*verify.Checkpoint, error) {
	return cli.ModuleQuery(ctx, client.New(*r.node), custody.Module{}, name, params, r.tr, out)
}

// poll asks query name (about what) until the state that state reads
// from out is want (at once when want is empty), and fails (exit 1) when
// it is final and not want, or when timeout has passed: it waits on the
// ledger's state, never for a fixed time.
func (r *reader) poll(name string, params map[string]string, out any, what, want string, timeout time.Duration, state func() (string, bool)) (*verify.Checkpoint, error) {
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		// Each answer decodes into a zero value: fields an answer omits
		// (empty lists) must not keep the answer before's.
		reflect.ValueOf(out).Elem().SetZero()
		cp, err := r.query(ctx, name, params, out)
		if err != nil {
			return nil, err
		}
		got, final := state()
		if want == "" || got == want {
			return cp, nil
		}
		if final || time.Now().After(deadline) {
			return nil, &cli.ExitError{Code: 1, Err: fmt.Errorf("%s is %s, not %s", what, got, want)}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func provenLine(w io.Writer, cp *verify.Checkpoint) {
	if cp != nil {
		fmt.Fprintf(w, "  proven   %s\n", cli.ProvenAt(cp))
	}
}

func show(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody show", usage, stderr)
	r := readerFlags(fs)
	wait := fs.String("wait", "", "wait until the wallet is in this `STATE` (generation, in_activation, active, ...)")
	timeout := fs.Duration("timeout", time.Minute, "with --wait: give up after this long (exit 1)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora custody show WALLET")
	}
	var w custody.Wallet
	cp, err := r.poll("wallet", map[string]string{"wallet": pos[0]}, &w, "wallet "+pos[0], *wait, *timeout, func() (string, bool) {
		return w.State, w.State == custody.Failed || w.State == custody.Destroyed
	})
	if err != nil {
		return err
	}
	if *r.asJSON {
		return cli.PrintJSON(stdout, &w)
	}
	fmt.Fprintf(stdout, "wallet %s\n  state    %s\n  tier     %s\n  asset    %s on %s\n  suite    %s, %d of %d\n",
		w.ID, w.State, w.Tier, w.Asset, w.Network, w.Suite, w.Threshold, len(w.Holders))
	if w.Reason != "" {
		fmt.Fprintf(stdout, "  reason   %s\n", w.Reason)
	}
	if w.GroupKey != nil {
		fmt.Fprintf(stdout, "  key      %x\n  address  %s\n", w.GroupKey, w.Address)
	}
	fmt.Fprintf(stdout, "  owner    %s\n", w.Owner)
	for _, h := range w.Holders {
		var st []string
		if h.HPKE != nil {
			st = append(st, "joined")
		}
		if h.Round1 != nil {
			st = append(st, "round1")
		}
		if h.Dealt {
			st = append(st, "dealt")
		}
		if h.Backup != nil {
			st = append(st, "backup")
		}
		fmt.Fprintf(stdout, "  holder %d %s %s\n", h.ID, h.DID, strings.Join(st, ","))
	}
	fmt.Fprintf(stdout, "  requests %d\n  usage    %d in this period, %d in all\n", w.Requests, w.Usage.Period, w.Usage.Lifetime)
	if w.Rotations > 0 {
		fmt.Fprintf(stdout, "  rotations %d\n", w.Rotations)
	}
	provenLine(stdout, cp)
	return nil
}

func status(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody status", usage, stderr)
	r := readerFlags(fs)
	wait := fs.String("wait", "", "wait until the request is in this `STATE` (approved, signing, signed, ...)")
	timeout := fs.Duration("timeout", time.Minute, "with --wait: give up after this long (exit 1)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return cli.UsageError("usage: agora custody status WALLET N")
	}
	n, err := requestNumber(pos[1])
	if err != nil {
		return err
	}
	var a custody.Approval
	cp, err := r.poll("approval", map[string]string{"wallet": pos[0], "n": strconv.FormatUint(n, 10)}, &a, fmt.Sprintf("request %d of %s", n, pos[0]), *wait, *timeout, func() (string, bool) {
		return a.Request.State, a.Request.State == custody.Expired || a.Request.State == custody.Signed
	})
	if err != nil {
		return err
	}
	if *r.asJSON {
		return cli.PrintJSON(stdout, &a)
	}
	q := a.Request
	fmt.Fprintf(stdout, "request %d of wallet %s\n  state      %s\n  amount     %d to %s\n  message    %x\n  initiator  %s\n",
		q.N, a.Wallet, q.State, q.Amount, q.Destination, q.Message, q.Initiator)
	fmt.Fprintf(stdout, "  rule       %s: %d approvals of %s", q.Decision.Rule, q.Decision.Approvals, q.Decision.Group)
	if q.Decision.DelayMS > 0 {
		fmt.Fprintf(stdout, ", then a time lock of %s", time.Duration(q.Decision.DelayMS)*time.Millisecond)
	}
	fmt.Fprintln(stdout)
	for _, ap := range q.Approvers {
		fmt.Fprintf(stdout, "  approved   by %s\n", ap)
	}
	fmt.Fprintf(stdout, "  signable   %v", a.Approved)
	if a.Reason != "" {
		fmt.Fprintf(stdout, " (%s)", a.Reason)
	}
	fmt.Fprintf(stdout, "\n  signers    %d committed, %d shares\n", len(q.Commitments), len(q.Shares))
	if q.Round > 0 {
		var ids []string
		for _, id := range q.Dropped {
			ids = append(ids, strconv.Itoa(int(id)))
		}
		fmt.Fprintf(stdout, "  round      %d (dropped for giving no share in time: holder %s)\n", q.Round, strings.Join(ids, ", "))
	}
	if q.Signature != nil {
		fmt.Fprintf(stdout, "  signature  %x\n", q.Signature)
	}
	provenLine(stdout, cp)
	return nil
}

// verifySig checks a request's recorded signature against the wallet's
// group key with a verifier that knows nothing of FROST.
func verifySig(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody verify", usage, stderr)
	r := readerFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return cli.UsageError("usage: agora custody verify WALLET N")
	}
	ctx := context.Background()
	var w custody.Wallet
	var q custody.Req
	if _, err := r.query(ctx, "wallet", map[string]string{"wallet": pos[0]}, &w); err != nil {
		return err
	}
	cp, err := r.query(ctx, "request", map[string]string{"wallet": pos[0], "n": pos[1]}, &q)
	if err != nil {
		return err
	}
	if q.Signature == nil {
		return &cli.ExitError{Code: 1, Err: fmt.Errorf("request %d of %s is %s: it has no signature", q.N, w.ID, q.State)}
	}
	verifier, err := StandardVerify(w.Suite, w.GroupKey, q.Message, q.Signature)
	if err != nil {
		return &cli.ExitError{Code: 1, Err: fmt.Errorf("the signature of request %d does NOT verify under %x: %v", q.N, w.GroupKey, err)}
	}
	fmt.Fprintf(stdout, "signature of request %d of %s verifies\n  verifier   %s\n  key        %x\n  message    %x\n  signature  %x\n",
		q.N, w.ID, verifier, w.GroupKey, q.Message, q.Signature)
	provenLine(stdout, cp)
	return nil
}

// StandardVerify checks sig on msg under a wallet's group key with the
// standard verifier of its suite, which knows nothing of FROST:
// crypto/ed25519 for ed25519, btcec's BIP-340 verifier for taproot (on
// the key's x coordinate). secp256k1 (RFC 9591's FROST(secp256k1,
// SHA-256)) has no verifier outside FROST; frost's own checks it. It
// returns the verifier's name.
func StandardVerify(suite string, groupKey, msg, sig []byte) (string, error) {
	switch suite {
	case "ed25519":
		if len(groupKey) != ed25519.PublicKeySize || !ed25519.Verify(groupKey, msg, sig) {
			return "", errors.New("crypto/ed25519 refuses it")
		}
		return "crypto/ed25519", nil
	case "taproot":
		x := groupKey // BIP-340's x-only key; a compressed point loses its parity byte
		if len(x) == 33 {
			x = x[1:]
		}
		if len(x) != 32 {
			return "", fmt.Errorf("group key of %d bytes", len(groupKey))
		}
		pk, err := schnorr.ParsePubKey(x)
		if err != nil {
			return "", err
		}
		s, err := schnorr.ParseSignature(sig)
		if err != nil {
			return "", err
		}
		if !s.Verify(msg, pk) {
			return "", errors.New("the BIP-340 verifier (btcec/v2/schnorr) refuses it")
		}
		return "BIP-340 (btcec/v2/schnorr)", nil
	}
	s, err := custody.Suite(suite)
	if err != nil {
		return "", err
	}
	if err := s.Verify(groupKey, msg, sig); err != nil {
		return "", err
	}
	return "RFC 9591 FROST(secp256k1, SHA-256)", nil
}

func audit(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody audit", usage, stderr)
	r := readerFlags(fs)
	since := fs.String("since", "", "entries at or after this `TIME` (RFC 3339 or Unix ms)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora custody audit WALLET [--since TIME]")
	}
	if _, err := custody.ParseTime(*since); err != nil {
		return cli.UsageError("--since: %v", err)
	}
	ctx := context.Background()
	var all []custody.Entry
	var cp *verify.Checkpoint
	after := ""
	for {
		var a custody.Audit
		params := map[string]string{"wallet": pos[0], "since": *since, "after": after}
		// The query's parameters travel in the query string.
		if cp, err = r.query(ctx, "audit", params, &a); err != nil {
			return err
		}
		all = append(all, a.Entries...)
		if !a.More || len(a.Entries) == 0 {
			break
		}
		after = strconv.FormatUint(a.Entries[len(a.Entries)-1].N, 10)
	}
	if *r.asJSON {
		return cli.PrintJSON(stdout, all)
	}
	for _, e := range all {
		by := e.By
		if by == "" {
			by = "ledger"
		}
		fmt.Fprintf(stdout, "%4d  %s  h%-6d %-16s %-13s %s  %s\n", e.N, time.UnixMilli(e.Time).UTC().Format(time.RFC3339), e.Height, e.Step, e.State, by, e.What)
	}
	provenLine(stdout, cp)
	return nil
}
