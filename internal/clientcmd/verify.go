package clientcmd

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
	"github.com/agora-ledger/agora/verify"
)

const verifyUsage = `
Usage:
  agora verify checkpoint FILE              a signed checkpoint (GET /log/checkpoint)
  agora verify tx FILE                      a transaction and its result are in the log
                                            (GET /v1/tx/HASH?proof=1, or 'notary anchor --json')
  agora verify consistency OLD NEW PROOF    the log at checkpoint NEW extends the log at OLD
                                            (PROOF from GET /v1/proof/consistency?from=M&to=N)
  agora verify state --query PATH FILE      a query's answer (GET PATH?proof=1, any module query)
  agora verify conflict --validators SET A B
                                            two checkpoints that cannot both be true: names
                                            the validators of SET that signed both

Checks, offline, an answer a node gave: it needs only the file and the
keys you trust, and contacts nobody. The log's key is the node's log_key
(GET /v1/node/info, or printed by 'agora init'); pin it once, then pass it
with --log-key or AGORA_LOG_KEY. With --witness and --quorum the
checkpoint must also be cosigned by that many of those witnesses. FILE
may be - for standard input. Exit status 0 only if everything verifies.

An answer verifies only if every field it shows is proven: 'verify tx'
checks the hash, position, result and (with the envelope) the module,
type, body and signers against the proof, and names what no proof covers
(the block's hash and time); 'verify state' runs the query PATH names
again over the proven state alone and demands the same answer.

A network of validators (agora testnet) signs each checkpoint with every
validator's note key. --validators (or AGORA_VALIDATORS) names the
validator set you trust: a genesis file (its "validators"), or a saved
GET /v1/ledger/validators answer. With it every check needs signatures by
validators with more than two thirds of the set's voting power, and no log
key; 'verify checkpoint' names them, and 'verify conflict' exits 0 only if
it proves that some validators signed two conflicting checkpoints.

Examples:
  export AGORA_LOG_KEY=$(curl -s localhost:7780/v1/node/info | jq -r .log_key)
  curl -s localhost:7780/log/checkpoint > cp.txt && agora verify checkpoint cp.txt
  curl -s "localhost:7780/v1/tx/$HASH?proof=1" | agora verify tx -
  curl -s "localhost:7780/v1/notary/anchors/$SUM?proof=1" | agora verify state --query /v1/notary/anchors/$SUM -
  curl -s localhost:26600/log/checkpoint | agora verify checkpoint --validators net/node0/genesis.json -
  agora verify conflict --validators net/node0/genesis.json cp-a.txt cp-b.txt
`

func runVerify(modules func() []ledger.Module, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, strings.TrimLeft(verifyUsage, "\n"))
		return &cli.ExitError{Code: 2}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, strings.TrimLeft(verifyUsage, "\n"))
		return nil
	}
	fs := cli.NewFlags("verify "+args[0], verifyUsage, stderr)
	tr := cli.TrustFlags(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	query := fs.String("query", "", "verify state: the request `PATH` the answer is to, e.g. /v1/notary/anchors/SHA256")
	pos, err := cli.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	if args[0] == "conflict" && tr.ValidatorsFile() == "" {
		return cli.UsageError("verify conflict needs --validators: the validator set whose keys signed the checkpoints")
	}
	pp, err := tr.Policy()
	if err != nil {
		return err
	}
	if pp == nil {
		return cli.UsageError("--log-key (or AGORA_LOG_KEY) or --validators (or AGORA_VALIDATORS) is required: whom you trust to sign the log's checkpoints")
	}
	policy := *pp
	validators := policy.Validators
	files := func(n int) ([][]byte, error) {
		if len(pos) != n {
			return nil, cli.UsageError("verify %s takes %d file(s)", args[0], n)
		}
		var out [][]byte
		for _, p := range pos {
			b, err := cli.ReadInput(p)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, nil
	}
	var report any
	var proven *verify.Checkpoint // the checkpoint an answer is proven against
	switch args[0] {
	case "checkpoint":
		in, err := files(1)
		if err != nil {
			return err
		}
		if validators != nil {
			c, by, err := verify.NetworkCheckpoint(in[0], validators)
			if err != nil {
				return verifyFailed(err)
			}
			r := checkpointReport(c)
			r["signed_by"] = validatorNames(by)
			report, proven = r, c
			break
		}
		c, err := verify.OpenCheckpoint(in[0], policy)
		if err != nil {
			return verifyFailed(err)
		}
		report, proven = checkpointReport(c), c
	case "tx", "inclusion":
		in, err := files(1)
		if err != nil {
			return err
		}
		var doc wire.TxView
		if err := json.Unmarshal(in[0], &doc); err != nil {
			return fmt.Errorf("%s: not a JSON answer with a proof: %w", pos[0], err)
		}
		if doc.TxCommit == nil || doc.Proof == nil {
			return ledger.WithHint(fmt.Errorf("%s has no \"proof\"", pos[0]), "ask GET /v1/tx/HASH?proof=1, or submit with wait=commit")
		}
		r, c, err := verifyTx(&doc, policy)
		if err != nil {
			return verifyFailed(err)
		}
		report, proven = r, c
	case "consistency":
		in, err := files(3)
		if err != nil {
			return err
		}
		var p verify.ConsistencyProof
		if err := json.Unmarshal(in[2], &p); err != nil {
			return fmt.Errorf("%s: not a consistency proof: %w", pos[2], err)
		}
		if err := verify.Consistency(in[0], in[1], &p, policy); err != nil {
			return verifyFailed(err)
		}
		report = map[string]any{"verified": true, "from": p.From, "to": p.To}
	case "state":
		in, err := files(1)
		if err != nil {
			return err
		}
		if *query == "" {
			return cli.UsageError("verify state needs --query PATH: the request the answer is to (a proof alone does not say what it answers)")
		}
		m, q, arg, err := verify.FindQuery(modules(), *query)
		if err != nil {
			return cli.UsageError("--query: %v", err)
		}
		a, err := verify.ParseAnswer(in[0])
		if err != nil {
			return verifyFailed(fmt.Errorf("%s: %w", pos[0], err))
		}
		c, err := verify.Answer(m, q, arg, a, policy)
		if err != nil {
			return verifyFailed(err)
		}
		proven = c
		r := map[string]any{"verified": true, "query": m.Name() + "." + q.Name, "checkpoint": checkpointReport(c)}
		if a.Refusal != "" {
			r["refused"] = a.Refusal
		} else {
			r["answer"] = string(a.Value)
		}
		report = r
	case "conflict":
		in, err := files(2)
		if err != nil {
			return err
		}
		culprits, err := verify.Conflicting(in[0], in[1], validators)
		if err != nil {
			return &cli.ExitError{Code: 1, Err: fmt.Errorf("no misbehaviour proven: %w", err)}
		}
		if len(culprits) == 0 {
			return &cli.ExitError{Code: 1, Err: errors.New("the checkpoints conflict, but no validator of the set signed both")}
		}
		report = map[string]any{"conflicting": true, "signed_both": validatorNames(culprits)}
	default:
		return cli.UsageError("unknown verify command %q (want checkpoint, tx, consistency, state or conflict)", args[0])
	}
	if proven != nil {
		if err := tr.Accept(context.Background(), nil, &policy, proven); err != nil {
			return verifyFailed(err)
		}
	}
	if *asJSON {
		return cli.PrintJSON(stdout, report)
	}
	printReport(stdout, report, "")
	return nil
}

// validatorNames lists the validators' names.
func validatorNames(vs []ledger.Validator) string {
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	return strings.Join(names, ", ")
}

func verifyFailed(err error) error {
	return &cli.ExitError{Code: 1, Err: fmt.Errorf("NOT verified: %w", err)}
}

func checkpointReport(c *verify.Checkpoint) map[string]any {
	return map[string]any{"verified": true, "origin": c.Origin, "log_size": c.Size,
		"log_root": base64.StdEncoding.EncodeToString(c.Hash), "height": c.Height,
		"state_root": base64.StdEncoding.EncodeToString(c.StateRoot), "time": cli.TimeOf(c)}
}

// printReport prints a report as indented "key: value" lines, in a fixed
// order: "verified" first, then the keys sorted.
func printReport(w io.Writer, v any, indent string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			if k != "verified" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if ok, has := v["verified"]; has && indent == "" && ok == true {
			fmt.Fprintln(w, "verified")
		}
		for _, k := range keys {
			switch x := v[k].(type) {
			case map[string]any, []map[string]any:
				fmt.Fprintf(w, "%s%s:\n", indent, k)
				printReport(w, x, indent+"  ")
			case []byte:
				fmt.Fprintf(w, "%s%s: %d bytes\n", indent, k, len(x))
			default:
				fmt.Fprintf(w, "%s%s: %v\n", indent, k, x)
			}
		}
	case []map[string]any:
		for _, m := range v {
			state := "absent"
			if m["present"] == true {
				state = fmt.Sprintf("present, %d bytes", len(m["value"].([]byte)))
			}
			fmt.Fprintf(w, "%s%s: %s\n", indent, m["key"], state)
		}
	}
}

// verifyTx verifies a transaction answer (GET /v1/tx/HASH?proof=1, or a
// submit's with wait=commit): its proof under policy, its result, and
// every field it shows that the proof and the envelope can show. It
// reports only proven fields, and names those the answer shows that no
// proof covers (the block's hash and time).
func verifyTx(doc *wire.TxView, policy verify.Policy) (map[string]any, *verify.Checkpoint, error) {
	var env []byte
	if doc.Envelope != "" {
		var err error
		if env, err = base64.StdEncoding.DecodeString(doc.Envelope); err != nil {
			return nil, nil, fmt.Errorf("%w: envelope: %v", verify.ErrInvalid, err)
		}
	}
	e, c, err := verify.Inclusion(doc.Proof, policy)
	if err == nil && env != nil {
		e, c, err = verify.Transaction(env, &doc.Result, doc.Proof, policy)
	} else if err == nil {
		err = verify.ResultOf(e, &doc.Result)
	}
	if err != nil {
		return nil, nil, err
	}
	claim := verify.TxClaim{Hash: doc.Hash, Height: doc.Height, Index: doc.Index, LeafIndex: doc.LeafIndex,
		ChainID: doc.ChainID, Module: doc.Module, Type: doc.Type}
	if doc.Body != "" {
		if claim.Body, err = hex.DecodeString(doc.Body); err != nil {
			return nil, nil, fmt.Errorf("%w: body: %v", verify.ErrInvalid, err)
		}
	}
	for _, s := range doc.Signers {
		if s.Address != s.Key.Address() {
			return nil, nil, fmt.Errorf("%w: the answer shows signer %s with the key of %s", verify.ErrInvalid, s.Address, s.Key.Address())
		}
		claim.Signers = append(claim.Signers, tx.Signer{Key: s.Key, Sequence: s.Sequence})
	}
	if err := verify.CheckTx(e, doc.Proof.LeafIndex, env, claim); err != nil {
		return nil, nil, err
	}
	r := map[string]any{"verified": true, "tx_hash": e.TxID, "height": e.Height, "index": e.Index,
		"leaf_index": doc.Proof.LeafIndex, "result": doc.Result.Code, "envelope_checked": env != nil,
		"checkpoint": checkpointReport(c)}
	if env != nil {
		_, t, _ := tx.Decode(env) // CheckTx decoded it
		r["module"] = t.Module + "/" + t.Type
		var signers []string
		for _, s := range t.Signers {
			signers = append(signers, fmt.Sprintf("%s (sequence %d)", s.Key.Address(), s.Sequence))
		}
		r["signers"] = strings.Join(signers, ", ")
	}
	var unproven []string
	if doc.BlockHash != "" {
		unproven = append(unproven, "block_hash")
	}
	if !doc.Time.IsZero() {
		unproven = append(unproven, "time")
	}
	if unproven != nil {
		r["not_proven"] = strings.Join(unproven, ", ")
	}
	return r, c, nil
}
