// Package notarycli is the notary module's commands: 'agora notary
// anchor' and 'agora notary verify'. cmd/agora's registry takes them from
// Commands; 'agora notary types|send' are generated from the module's
// message types (cli.ModuleCommands).
package notarycli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

// Commands returns the notary's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: notary.Name, Run: run, Usage: "notary anchor|verify", Summary: "prove a file existed, and check such proofs"},
	}
}

const notaryUsage = `
Usage:
  agora notary anchor FILE --key NAME [--type MEDIA-TYPE] [--description TEXT]
  agora notary verify FILE [--log-key KEY | --validators FILE]
  agora notary types
  agora notary send TYPE BODY.json --key NAME

anchor records FILE's SHA-256 on the ledger, signed by your key NAME, and
waits until it is committed. The file itself never leaves this machine.
verify says whether, when and by whom FILE was anchored; it exits 0 only
if it was. With --log-key (or AGORA_LOG_KEY) it trusts the node for
nothing: it asks for a state proof and checks it, offline, against a
checkpoint signed by that key, so both "anchored" and "not anchored" are
proven; on a network, --validators (or AGORA_VALIDATORS) names the
validator set whose two thirds must have signed it instead.
types lists the notary's message types with an example JSON body; send
signs and submits any of them from its JSON body in BODY.json.

Examples:
  agora notary anchor contract.pdf --key alice --description "signed lease"
  agora notary verify contract.pdf && echo anchored
  agora notary verify contract.pdf --log-key "$(agora info --json | jq -r .log_key)"
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(notaryUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "anchor":
		return notaryAnchor(args[1:], stdout, stderr)
	case "verify":
		return notaryVerify(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown notary command %q (want anchor, verify, types or send)", args[0])
}

func fileDigest(path string) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, 0, err
	}
	return h.Sum(nil), n, nil
}

func mediaTypeOf(path string) string {
	t := mime.TypeByExtension(strings.ToLower(filepath.Ext(path)))
	if t == "" {
		return "application/octet-stream"
	}
	base, _, _ := strings.Cut(t, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

func notaryAnchor(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("notary anchor", notaryUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	keyName := fs.String("key", "", "the key `NAME` that signs the anchor")
	mediaType := fs.String("type", "", "media type (default: from the file name)")
	desc := fs.String("description", "", "a description, at most 1024 bytes")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("give exactly one FILE to anchor")
	}
	if *keyName == "" {
		return cli.UsageError("--key NAME is required: the key that signs the anchor (see 'agora keys list')")
	}
	sum, _, err := fileDigest(pos[0])
	if err != nil {
		return err
	}
	if *mediaType == "" {
		*mediaType = mediaTypeOf(pos[0])
	}
	body := &notary.Anchor{SHA256: sum, MediaType: *mediaType, Description: *desc}
	if err := body.Validate(); err != nil {
		// Only the flags can be wrong here: --type or --description.
		return cli.UsageError("%s", strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
	}
	// Refuse a file that is already anchored before signing anything, so
	// the attempt costs no transaction. (The ledger refuses it anyway if
	// another anchor of it commits first.)
	var prev notary.RecordJSON
	err = client.New(*nodeURL).Get(context.Background(), "/v1/notary/anchors/"+hex.EncodeToString(sum), &prev)
	if err == nil {
		return ledger.WithHint(fmt.Errorf("%s was already anchored at height %d by %s; nothing was submitted", pos[0], prev.Height, prev.Owner),
			fmt.Sprintf("'agora notary verify %s' shows the anchor", pos[0]))
	}
	if !client.IsCode(err, "not_found") {
		return err
	}
	res, err := cli.SignAndSubmit(*homeDir, *nodeURL, *keyName, notary.Name, "anchor", body, *ttl, stderr)
	if res != nil && res.TxCommit != nil && res.Result.Code == "conflict" {
		return ledger.WithHint(fmt.Errorf("%s: %s\n(transaction %s, committed at height %d without effect)", pos[0], cli.Reason(res.Result), res.Hash, res.Height),
			fmt.Sprintf("'agora notary verify %s' shows the anchor", pos[0]))
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "anchored %s\n  sha256  %x\n  type    %s\n  height  %d\n  time    %s\n  tx      %s\n",
		pos[0], sum, *mediaType, res.Height, res.Time.Format(time.RFC3339Nano), res.Hash)
	return nil
}

func notaryVerify(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("notary verify", notaryUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	asJSON := fs.Bool("json", false, "print the record as JSON")
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
		return cli.UsageError("give exactly one FILE to verify")
	}
	sum, _, err := fileDigest(pos[0])
	if err != nil {
		return err
	}
	c := client.New(*nodeURL)
	ctx := context.Background()
	var r notary.RecordJSON
	var proven *verify.Checkpoint
	if policy != nil {
		var rec *notary.Record
		rec, proven, err = provenAnchor(ctx, c, sum, *policy)
		if err == nil {
			err = cli.AcceptOrRefuse(tr.Accept(ctx, c, policy, proven))
		}
		if err == nil && rec != nil {
			r = rec.JSON()
		} else if err == nil {
			err = &client.Error{Code: "not_found"}
		}
	} else {
		err = c.Get(ctx, "/v1/notary/anchors/"+hex.EncodeToString(sum), &r)
	}
	if client.IsCode(err, "not_found") {
		out := map[string]any{"anchored": false, "sha256": hex.EncodeToString(sum)}
		if proven != nil {
			out["proven_at_height"], out["proven_at_time"] = proven.Height, proven.Time
		}
		if *asJSON {
			cli.PrintJSON(stdout, out)
		} else if proven != nil {
			fmt.Fprintf(stdout, "NOT anchored: %s (sha256 %x)\n  proven absent at height %d of %s\n  as of   %s (the checkpoint's block time)\n", pos[0], sum, proven.Height, proven.Origin, cli.TimeOf(proven))
		} else {
			fmt.Fprintf(stdout, "NOT anchored: %s (sha256 %x)\n", pos[0], sum)
		}
		return &cli.ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"anchored": true, "record": r}
		if proven != nil {
			out["proven_at_height"], out["proven_at_time"] = proven.Height, proven.Time
		}
		return cli.PrintJSON(stdout, out)
	}
	who := r.Owner
	// An account's label is not proven: only an unproven answer shows it.
	if a, err := c.Account(ctx, r.Owner); proven == nil && err == nil && a.Label != "" {
		who += " (" + a.Label + ")"
	} else if e, ok := cli.Keys(*homeDir).FindAddress(r.Owner); ok {
		who += " (your key " + e.Name + ")"
	}
	fmt.Fprintf(stdout, "anchored: %s\n  sha256  %s\n  type    %s\n", pos[0], r.SHA256, r.MediaType)
	if r.Description != "" {
		fmt.Fprintf(stdout, "  about   %s\n", r.Description)
	}
	fmt.Fprintf(stdout, "  by      %s\n  time    %s\n  height  %d\n  tx      %s\n", who, r.Time.Format(time.RFC3339Nano), r.Height, r.TxHash)
	if proven != nil {
		fmt.Fprintf(stdout, "  proven  %s\n", cli.ProvenAt(proven))
	}
	return nil
}

// provenAnchor asks the node for the anchor of sum with proof=1 and checks
// the answer offline under policy. It returns the proven record, or nil
// with the checkpoint if the digest is proven absent. An answer whose
// proof fails, or that says other than its proof, is an error.
func provenAnchor(ctx context.Context, c *client.Client, sum []byte, policy verify.Policy) (*notary.Record, *verify.Checkpoint, error) {
	status, body, err := c.GetRaw(ctx, "/v1/notary/anchors/"+hex.EncodeToString(sum)+"?proof=1")
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Proof *verify.StateProof `json:"proof"`
		Error *struct {
			Code    string             `json:"code"`
			Message string             `json:"message"`
			Proof   *verify.StateProof `json:"proof"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("the node's answer (status %d) is not JSON: %w", status, err)
	}
	p := doc.Proof
	if doc.Error != nil {
		if doc.Error.Proof == nil {
			return nil, nil, &client.Error{Status: status, Code: doc.Error.Code, Message: doc.Error.Message}
		}
		p = doc.Error.Proof
	}
	if p == nil {
		return nil, nil, fmt.Errorf("the node answered without a proof")
	}
	vals, cp, err := verify.State(p, policy)
	if err != nil {
		return nil, nil, cli.NotVerified(err)
	}
	key := "notary/a/" + hex.EncodeToString(sum)
	val, ok := vals[key]
	if !ok {
		return nil, nil, &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT verified: the proof does not cover %s", key)}
	}
	if (val == nil) != (status == http.StatusNotFound) {
		return nil, nil, &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT verified: the node's answer (status %d) contradicts its proof", status)}
	}
	if val == nil {
		return nil, cp, nil
	}
	var rec notary.Record
	if err := tx.Unmarshal(val, &rec); err != nil || !bytes.Equal(rec.SHA256, sum) {
		return nil, nil, &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT verified: the proven record is not of this file (%v)", err)}
	}
	return &rec, cp, nil
}
