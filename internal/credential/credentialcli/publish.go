package credentialcli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/credential"
	"github.com/agora-ledger/agora/internal/statuslist"
	"github.com/agora-ledger/agora/internal/tx"
)

// publish signs the issuer's list as the ledger holds it as a Status
// List Token and posts it (publish-token). The node's word for the list
// is enough: the ledger refuses a token whose bits are not its own. If a
// status changed between the read and the commit, it signs again.
func publish(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vc publish", usage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	issuer := fs.String("as", "", "the issuer's `DID`")
	keyName := fs.String("key", "", "the issuer's key `NAME` (an assertionMethod key of its DID)")
	validFor := fs.Duration("valid-for", 24*time.Hour, "the token's lifetime: exp is iat plus `DURATION`")
	ttl := fs.Duration("ttl", time.Hour, "how long a verifier may cache the token (its ttl; 0 for none)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *issuer == "" || *keyName == "" {
		return cli.UsageError("give the status LIST, --as and --key")
	}
	if *validFor <= 0 || *validFor > credential.MaxTokenLife || *ttl < 0 {
		return cli.UsageError("--valid-for: more than 0, at most %s; --ttl: 0 or more", credential.MaxTokenLife)
	}
	k, priv, err := unlock(*homeDir, *keyName, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	c := client.New(*nodeURL)
	for attempt := 1; ; attempt++ {
		// The answer is the list's state with or without a token (404).
		var a credential.ListToken
		status, body, err := c.GetRaw(ctx, "/v1/credential/lists/"+url.PathEscape(pos[0])+"/token")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &a); err != nil || a.State == nil {
			var e struct{ Error *client.Error }
			if json.Unmarshal(body, &e) == nil && e.Error != nil {
				return fmt.Errorf("status list %s: %w", pos[0], e.Error)
			}
			return fmt.Errorf("status list %s: the node's answer (status %d) is not the list's", pos[0], status)
		}
		if a.List.Issuer != *issuer {
			return fmt.Errorf("status list %s is %s's, not %s's", pos[0], a.List.Issuer, *issuer)
		}
		sl, err := statuslist.Decode(a.State.StatusList)
		if err != nil {
			return err
		}
		uri, _ := a.List.URIs()
		kid, now, err := keyIDNow(ctx, c, k.Public(), *issuer, "", uri, 0)
		if err != nil {
			return err
		}
		jwt, err := credential.SignListToken(priv, kid, *issuer, uri, sl, now, now.Add(*validFor), *ttl)
		if err != nil {
			return err
		}
		msg := &credential.PublishToken{Issuer: *issuer, List: pos[0], Token: jwt}
		res, err := cli.SubmitFresh(ctx, c, []*tx.PrivateKey{k}, []string{*keyName}, credential.Name, "publish-token", msg, 5*time.Minute, stderr)
		if err != nil {
			return err
		}
		if res.Result.OK() {
			fmt.Fprintf(stderr, "published a token of %s (version %d), valid until %s, at %s\n", pos[0], a.List.Version,
				now.Add(*validFor).UTC().Format(time.RFC3339), uri)
			_, err := fmt.Fprintln(stdout, jwt)
			return err
		}
		if res.Result.Code != "conflict" || attempt == cli.SubmitAttempts || !strings.Contains(res.Result.Error, "as the ledger holds it") {
			return fmt.Errorf("publishing a token of %s: %s (%s)", pos[0], cli.Reason(res.Result), res.Result.Code)
		}
		fmt.Fprintf(stderr, "list %s changed meanwhile; signing it again\n", pos[0])
	}
}

// tokenReport verifies the token answer a at now and prints what it
// found; an answer that fails is exit status 1.
func tokenReport(a *credential.ListToken, now time.Time, stdout io.Writer) error {
	tok, err := credential.CheckListToken(a, now)
	p := a.Published
	if tok != nil {
		fmt.Fprintf(stdout, "token %d of list %s (issuer %s), signed by %s#%s, iat %s, exp %s, taken at %s (height %d)\n", p.Number, a.List.ID,
			a.List.Issuer, a.List.Issuer, p.KeyID, tok.IssuedAt.UTC().Format(time.RFC3339), tok.Expires.UTC().Format(time.RFC3339),
			time.UnixMilli(int64(p.Time)).UTC().Format(time.RFC3339Nano), p.Height)
	}
	if err != nil {
		fmt.Fprintf(stdout, "REFUSED: %v\n", err)
		return &cli.ExitError{Code: 1}
	}
	if a.State != nil {
		fmt.Fprintf(stdout, "  its bits are the list's now (version %d)\n", a.List.Version)
	} else {
		fmt.Fprintf(stdout, "  the latest at %s\n", time.UnixMilli(int64(a.At)).UTC().Format(time.RFC3339))
	}
	if tok.TTL > 0 && now.After(tok.IssuedAt.Add(tok.TTL)) {
		fmt.Fprintf(stdout, "  its ttl (%s) has passed: a cache would fetch it again\n", tok.TTL)
	}
	fmt.Fprintln(stdout, p.Token)
	return nil
}
