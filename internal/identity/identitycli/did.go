package identitycli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

const didUsage = `
Usage:
  agora did create --key NAME [--next-key NAME]
  agora did create --pairwise RELATIONSHIP
  agora did show DID [--json] [--version-id N | --version-time RFC3339] [--log-key KEY]
  agora did rotate DID --key CURRENT --next-key NEW_NEXT
  agora did add-key DID --key CONTROLLER --new-key NAME --relationship REL[,REL...]
  agora did revoke DID --key CONTROLLER --key-id ID [--compromised-at RFC3339]
  agora did suspend|reinstate DID --key CONTROLLER --key-id ID
  agora did deactivate DID --key CONTROLLER [--with-next NEXT]
  agora did history DID [--json]
  agora did watch DID [--log-key KEY] [--interval 2s] [--once]
  agora did guardians DID --key CONTROLLER --guardian NAME_OR_PUBKEY... --threshold M --delay DURATION [--with-next NEXT]
  agora did recover DID --guardian-key NAME... --new-key NAME --next-key NAME
  agora did cancel-recovery DID --key CANCELLER
  agora did complete-recovery DID --key ANYNAME
  agora did cancel-change DID --key CONTROLLER_OR_NEXT
  agora did complete-change DID --key ANYNAME

A did:agora DID is self-certifying: its id is the hash of its inception,
which holds its first keys and a commitment to the next controller key.
create makes one controlled by your key NAME (authentication and
capabilityInvocation) and commits to --next-key (default: a new key
NAME.next in your keystore). Keys never leave this machine.

create --pairwise makes a DID for one relationship (a shop, a
service) that the ledger cannot link to your other DIDs: two new keys
(pairwise-RELATIONSHIP and its .next) whose account has never signed
anything, one key in the inception, nothing else. Use it only with
that relationship; docs/spec/did-agora.md says what still links.

rotate makes the committed key (--key) the controller and commits to
NEW_NEXT (created if missing); it works even when the controller was
revoked or suspended. add-key registers one of your keys for the
relationships authentication, assertionMethod, keyAgreement or
capabilityDelegation. revoke records a key's compromise (default: now);
signatures by it after that time are invalid. Every change is signed by
the controller and appended to the DID's history. deactivate ends the
DID for good: signed by the controller alone it is pending for the
governed change delay (GET /v1/identity/params), then complete-change
(signed by any key) makes it; the committed next key (cancel-change) or
a rotation stops it. With --with-next NEXT, the committed next key
co-signs and a controller in place for that delay makes it at once. show with --log-key (or AGORA_LOG_KEY) trusts the node
for nothing: it checks a state proof against a checkpoint signed by that
key and resolves the DID again from the proven state alone.

watch prints the DID's events as they appear (first the ones so far),
polling every --interval; --once prints them and exits. history and
watch read the history page by page (100 events a page). With --log-key
each page must come with a proof that it is complete (the event count
and every event of the page); a proof that fails, or a history that
lost or changed an event it showed before, is an alert: watch exits 1.

Recovery: guardians names up to 16 guardians (keystore names or public
keys), how many must sign a recovery, and a delay. recover, signed by
at least M guardians' keys, proposes --new-key as the controller with
--next-key committed to next; it is pending (show lists it) until the
delay has passed, and until then the controller or the committed next
key can cancel-recovery (if the controller came in by a rotation less
than the delay before the recovery, only the controller it replaced
can). After it, complete-recovery (signed by any key) installs the new
controller and revokes the old one. guardians waits, like deactivate,
for complete-change (or --with-next).

Examples:
  agora did create --key alice
  agora did create --pairwise bookshop
  agora did show did:agora:... --version-id 1
  agora did show did:agora:... --log-key "$(agora info --json | jq -r .log_key)"
  agora did add-key did:agora:... --key alice --new-key alice-sign --relationship assertionMethod
  agora did rotate did:agora:... --key alice.next --next-key alice.next2
  agora did revoke did:agora:... --key alice.next --key-id key-1 --compromised-at 2026-01-02T15:04:05Z
  agora did watch did:agora:... --log-key "$AGORA_LOG_KEY"
  agora did guardians did:agora:... --key alice --guardian bob --guardian carol --threshold 2 --delay 72h
  agora did recover did:agora:... --guardian-key bob --guardian-key carol --new-key alice2 --next-key alice2.next
`

func runDID(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(didUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "create":
		return didCreate(args[1:], stdout, stderr)
	case "show":
		return didShow(args[1:], stdout, stderr)
	case "history":
		return didHistory(args[1:], stdout, stderr)
	case "watch":
		return didWatch(args[1:], stdout, stderr)
	case "rotate", "add-key", "revoke", "suspend", "reinstate", "deactivate":
		return didUpdate(args[0], args[1:], stdout, stderr)
	case "guardians", "recover", "cancel-recovery", "complete-recovery", "cancel-change", "complete-change":
		return didRecovery(args[0], args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown did command %q (want create, show, rotate, add-key, revoke, suspend, reinstate, deactivate, history, watch, guardians, recover, cancel-recovery, complete-recovery, cancel-change or complete-change)", args[0])
}

// ensureKey returns the keystore entry name, creating it with alg if it
// does not exist yet.
func ensureKey(ks *keystore.Store, name string, alg tx.Alg, stderr io.Writer) (*keystore.Entry, bool, error) {
	if e, err := ks.Get(name); err == nil {
		return e, false, nil
	}
	if err := keystore.CheckName(name); err != nil {
		return nil, false, cli.UsageError("%v", err)
	}
	pass, err := cli.Passphrase(stderr, fmt.Sprintf("Passphrase for the new key %s: ", name), true)
	if err != nil {
		return nil, false, err
	}
	e, err := ks.New(name, alg, pass, rand.Reader, time.Now())
	return e, true, err
}

func didCreate(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("did create", didUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	keyName := fs.String("key", "", "the key `NAME` that becomes the controller")
	nextName := fs.String("next-key", "", "the key `NAME` the next rotation must reveal (default: a new key NAME.next)")
	pairwise := fs.String("pairwise", "", "create an unlinkable DID for one `RELATIONSHIP`, with new keys pairwise-RELATIONSHIP and its .next")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return cli.UsageError("did create takes no arguments")
	}
	ks := cli.Keys(*homeDir)
	if *pairwise != "" {
		if *keyName != "" || *nextName != "" {
			return cli.UsageError("--pairwise makes its own new keys: it takes neither --key nor --next-key")
		}
		*keyName = "pairwise-" + *pairwise
		if _, err := ks.Get(*keyName); err == nil {
			return cli.UsageError("you already have a key %s: a pairwise DID needs keys that have never been used (choose another RELATIONSHIP)", *keyName)
		}
		if _, _, err := ensureKey(ks, *keyName, tx.Ed25519, stderr); err != nil {
			return err
		}
	}
	if *keyName == "" {
		return cli.UsageError("--key NAME is required: the key that controls the DID (see 'agora keys list')")
	}
	ctrl, err := ks.Get(*keyName)
	if err != nil {
		return ledger.WithHint(err, fmt.Sprintf("'agora keys new %s' creates it", *keyName))
	}
	if *nextName == "" {
		*nextName = *keyName + ".next"
	}
	next, made, err := ensureKey(ks, *nextName, ctrl.PublicKey.Alg, stderr)
	if err != nil {
		return err
	}
	body := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.PublicKey,
		Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}}, Next: identity.Commitment(next.PublicKey)}
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	res, err := cli.SignAndSubmit(*homeDir, *nodeURL, *keyName, identity.Name, "create", body, *ttl, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, map[string]any{"did": body.DID(), "next_key": next.Name, "tx": res})
	}
	fmt.Fprintf(stdout, "created %s\n  controller  %s#key-0 (your key %s)\n  next key    %s", body.DID(), body.DID(), *keyName, next.Name)
	if made {
		fmt.Fprint(stdout, " (new)")
	}
	fmt.Fprintf(stdout, "\n  height      %d\n  tx          %s\n", res.Height, res.Hash)
	return nil
}

// getResolution resolves did with the query q; a deactivated DID answers
// its last document with gone true.
func getResolution(ctx context.Context, c *client.Client, did string, q url.Values) (*identity.Resolution, bool, error) {
	path := "/1.0/identifiers/" + url.PathEscape(did)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	status, b, err := c.GetRaw(ctx, path)
	if err != nil {
		return nil, false, err
	}
	var r identity.Resolution
	if err := json.Unmarshal(b, &r); err == nil {
		if (status == http.StatusOK || status == http.StatusGone) && r.Document != nil {
			return &r, status == http.StatusGone, nil
		}
		if md := r.ResolutionMetadata; md.Error != "" { // an error is a resolution result
			return nil, false, &client.Error{Status: status, Code: md.Error, Message: md.ErrorMessage}
		}
	}
	if err := client.ErrorOf(status, b); err != nil {
		return nil, false, err
	}
	return nil, false, fmt.Errorf("GET %s: status %d", path, status)
}

func didShow(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("did show", didUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print the resolution result as JSON")
	vid := fs.String("version-id", "", "resolve version `N` (1 is the inception)")
	vtime := fs.String("version-time", "", "resolve the document as it was at this RFC 3339 `TIME`")
	tr := cli.TrustFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	policy, err := tr.Policy()
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora did show DID")
	}
	q := url.Values{}
	if *vid != "" {
		q.Set("versionId", *vid)
	}
	if *vtime != "" {
		q.Set("versionTime", *vtime)
	}
	var r *identity.Resolution
	var gone bool
	var proven *verify.Checkpoint
	if policy != nil {
		r, gone, proven, err = provenResolution(context.Background(), client.New(*nodeURL), pos[0], q, *policy)
		if err == nil {
			err = cli.AcceptOrRefuse(tr.Accept(context.Background(), client.New(*nodeURL), policy, proven))
		}
	} else {
		r, gone, err = getResolution(context.Background(), client.New(*nodeURL), pos[0], q)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, r)
	}
	d, md := r.Document, r.DocumentMetadata
	fmt.Fprintf(stdout, "%s\n  version  %s\n  created  %s\n", d.ID, md.VersionID, md.Created)
	if md.Updated != "" { // never updated at version 1
		fmt.Fprintf(stdout, "  updated  %s\n", md.Updated)
	}
	if gone {
		fmt.Fprintln(stdout, "  status   DEACTIVATED")
	}
	rels := map[string][]string{}
	for name, refs := range map[string][]string{identity.Authentication: d.Authentication, identity.AssertionMethod: d.AssertionMethod,
		identity.KeyAgreement: d.KeyAgreement, identity.CapabilityInvocation: d.CapabilityInvocation, identity.CapabilityDelegation: d.CapabilityDelegation} {
		for _, r := range refs {
			rels[r] = append(rels[r], name)
		}
	}
	for _, vm := range d.VerificationMethod {
		if vm.Type != "Multikey" {
			continue
		}
		_, frag, _ := strings.Cut(vm.ID, "#")
		status := vm.Status
		if status == "" {
			status = "active"
		}
		var names []string
		for _, rel := range identity.Relationships { // document order
			for _, n := range rels[vm.ID] {
				if n == rel {
					names = append(names, n)
				}
			}
		}
		fmt.Fprintf(stdout, "  #%-7s %-9s %s", frag, status, vm.PublicKeyMultibase)
		if len(names) > 0 {
			fmt.Fprintf(stdout, " %s", strings.Join(names, ","))
		}
		if vm.Revoked != "" {
			fmt.Fprintf(stdout, " compromised %s", vm.Revoked)
		}
		fmt.Fprintln(stdout)
	}
	if p := md.Recovery; p != nil {
		fmt.Fprintf(stdout, "  recovery pending to %s, effective %s\n", p.Key, p.Effective)
	}
	if c := md.Change; c != nil {
		fmt.Fprintf(stdout, "  %s pending, effective %s (the committed next key can cancel-change it)\n", c.Type, c.Effective)
	}
	if proven != nil {
		fmt.Fprintf(stdout, "  proven   %s\n", cli.ProvenAt(proven))
	}
	if gone {
		return &cli.ExitError{Code: 1}
	}
	return nil
}

// provenResolution resolves did with proof=1, checks the proof offline
// under policy, and resolves again from the proven values alone with the
// module's own query: the answer is the node's only if both agree.
func provenResolution(ctx context.Context, c *client.Client, did string, q url.Values, policy verify.Policy) (*identity.Resolution, bool, *verify.Checkpoint, error) {
	q.Set("proof", "1")
	status, body, err := c.GetRaw(ctx, "/1.0/identifiers/"+url.PathEscape(did)+"?"+q.Encode())
	if err != nil {
		return nil, false, nil, err
	}
	var doc struct {
		Value *identity.Resolution `json:"value"`
		Proof *verify.StateProof   `json:"proof"`
		Error *struct {
			Code    string             `json:"code"`
			Message string             `json:"message"`
			Proof   *verify.StateProof `json:"proof"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, false, nil, fmt.Errorf("the node's answer (status %d) is not JSON: %w", status, err)
	}
	p := doc.Proof
	if doc.Error != nil {
		if doc.Error.Proof == nil {
			return nil, false, nil, &client.Error{Status: status, Code: doc.Error.Code, Message: doc.Error.Message}
		}
		p = doc.Error.Proof
	}
	if p == nil {
		return nil, false, nil, fmt.Errorf("the node answered without a proof")
	}
	vals, cp, err := verify.State(p, policy)
	if err != nil {
		return nil, false, nil, cli.NotVerified(err)
	}
	var resolve ledger.Query
	for _, qq := range (identity.Module{}).Queries() {
		if qq.Name == "resolve" {
			resolve = qq
		}
	}
	view := ledger.NewReadView(ledger.Proven(vals), identity.Name, nil)
	ans, qerr := resolve.Run(view, func(name string) string {
		if name == "did" {
			return did
		}
		return q.Get(name)
	})
	mine, _ := ans.(*identity.Resolution)
	nodeCode := "ok"
	if doc.Error != nil {
		nodeCode = doc.Error.Code
	}
	if qerr != nil && mine == nil {
		if ledger.Code(qerr) != nodeCode {
			return nil, false, nil, &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT verified: the proven state says %v, the node %q", qerr, nodeCode)}
		}
		return nil, false, nil, &client.Error{Status: status, Code: doc.Error.Code, Message: doc.Error.Message + " (proven)"}
	}
	a, _ := json.Marshal(mine)
	b, _ := json.Marshal(doc.Value)
	if string(a) != string(b) || (qerr != nil) != (status == http.StatusGone) {
		return nil, false, nil, &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT verified: the node's answer (status %d) differs from the proven state's", status)}
	}
	return mine, status == http.StatusGone, cp, nil
}

func didHistory(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("did history", didUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print the events as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora did history DID")
	}
	var evs []json.RawMessage
	c := client.New(*nodeURL)
	for from := uint64(1); from != 0; { // page by page
		var page struct {
			Events []json.RawMessage `json:"events"`
			Next   uint64            `json:"next"`
		}
		path := "/v1/identity/dids/" + url.PathEscape(pos[0]) + "/history?from=" + strconv.FormatUint(from, 10)
		if err := c.Get(context.Background(), path, &page); err != nil {
			return err
		}
		if page.Next != 0 && page.Next <= from {
			return fmt.Errorf("GET %s: the next page starts at %d", path, page.Next)
		}
		evs, from = append(evs, page.Events...), page.Next
	}
	if *asJSON {
		return cli.PrintJSON(stdout, evs)
	}
	for _, raw := range evs {
		if err := printEvent(stdout, raw); err != nil {
			return err
		}
	}
	return nil
}

// printEvent prints one event of a history answer on a line.
func printEvent(w io.Writer, raw json.RawMessage) error {
	var e struct {
		Version uint64    `json:"version"`
		Type    string    `json:"type"`
		Height  uint64    `json:"height"`
		Time    time.Time `json:"time"`
		TxHash  string    `json:"tx_hash"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%3d  %-17s  height %-6d %s  tx %s\n", e.Version, e.Type, e.Height, e.Time.Format(time.RFC3339Nano), e.TxHash)
	return err
}

// keyIDArg accepts key-N, #key-N or a DID URL ending in #key-N (or its
// -jwk twin).
func keyIDArg(s string) string {
	if _, frag, ok := strings.Cut(s, "#"); ok {
		s = frag
	}
	return strings.TrimSuffix(s, "-jwk")
}

func didUpdate(op string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("did "+op, didUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	keyName := fs.String("key", "", "the key `NAME` that signs: the controller (for rotate, the committed next key)")
	nextName := fs.String("next-key", "", "rotate: the key `NAME` to commit to next (created if missing)")
	newKey := fs.String("new-key", "", "add-key: the key `NAME` to register")
	rel := fs.String("relationship", "", "add-key: verification relationships, comma-separated")
	keyID := fs.String("key-id", "", "revoke, suspend, reinstate: the key's `ID` (key-N)")
	compromised := fs.String("compromised-at", "", "revoke: when the key was compromised, RFC 3339 (default: now)")
	withNext := fs.String("with-next", "", "deactivate: the committed next key `NAME` co-signs, so that a settled controller deactivates at once")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora did %s DID --key NAME ...", op)
	}
	did := pos[0]
	if _, err := identity.ParseDID(did); err != nil {
		return cli.UsageError("%q is not a did:agora DID", did)
	}
	if *keyName == "" {
		return cli.UsageError("--key NAME is required: the key that signs")
	}
	ks := cli.Keys(*homeDir)
	signer, err := ks.Get(*keyName)
	if err != nil {
		return ledger.WithHint(err, "'agora keys list' shows your keys")
	}
	var body interface{ Validate() error }
	switch op {
	case "rotate":
		if *nextName == "" {
			return cli.UsageError("--next-key NAME is required: the key the following rotation must reveal")
		}
		next, _, err := ensureKey(ks, *nextName, signer.PublicKey.Alg, stderr)
		if err != nil {
			return err
		}
		body = &identity.Rotate{DID: did, Key: signer.PublicKey, Next: identity.Commitment(next.PublicKey)}
	case "add-key":
		if *newKey == "" || *rel == "" {
			return cli.UsageError("--new-key NAME and --relationship REL are required")
		}
		e, err := ks.Get(*newKey)
		if err != nil {
			return ledger.WithHint(err, fmt.Sprintf("'agora keys new %s' creates it", *newKey))
		}
		body = &identity.AddKey{DID: did, Key: identity.KeySpec{PublicKey: e.PublicKey, Relationships: identity.SortRelationships(strings.Split(*rel, ","))}}
	case "revoke":
		var at int64
		if *compromised != "" {
			t, err := time.Parse(time.RFC3339, *compromised)
			if err != nil {
				return cli.UsageError("--compromised-at %q is not an RFC 3339 time", *compromised)
			}
			at = t.UnixMilli()
		}
		body = &identity.Revoke{DID: did, KeyID: keyIDArg(*keyID), CompromisedAt: at}
	case "suspend", "reinstate":
		body = &identity.SetStatus{DID: did, KeyID: keyIDArg(*keyID)}
	case "deactivate":
		body = &identity.Deactivate{DID: did}
	}
	signers := []string{*keyName}
	if *withNext != "" {
		if op != "deactivate" {
			return cli.UsageError("--with-next is for deactivate (and guardians)")
		}
		signers = append(signers, *withNext)
	}
	return submitDIDChange(*homeDir, *nodeURL, signers, op, did, body, *ttl, *asJSON, stdout, stderr)
}

// submitDIDChange validates a change to a DID, signs it with the keys
// named signers, submits it, and prints the DID's new version.
func submitDIDChange(homeDir, nodeURL string, signers []string, op, did string, body ledger.Msg, ttl time.Duration, asJSON bool, stdout, stderr io.Writer) error {
	if err := body.Validate(); err != nil {
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	res, err := cli.SignAndSubmitAll(homeDir, nodeURL, signers, identity.Name, op, body, ttl, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		return cli.PrintJSON(stdout, res)
	}
	version, pending := "", ""
	for _, e := range res.Result.Events {
		for _, a := range e.Attrs {
			switch a.Key {
			case "version":
				version = a.Value
			case "pending_until":
				pending = a.Value
			}
		}
	}
	fmt.Fprintf(stdout, "%s: %s\n  version  %s\n  height   %d\n  tx       %s\n", op, did, version, res.Height, res.Hash)
	if pending != "" {
		fmt.Fprintf(stdout, "  pending  until %s: then 'agora did complete-change %s --key ANYNAME'; the committed next key can cancel-change it\n", pending, did)
	}
	return nil
}
