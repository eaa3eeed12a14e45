package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

const verifyUsage = `
Usage:
  agora verify checkpoint FILE              a signed checkpoint (GET /log/checkpoint)
  agora verify tx FILE                      a transaction and its result are in the log
                                            (GET /v1/tx/HASH?proof=1, or 'notary anchor --json')
  agora verify consistency OLD NEW PROOF    the log at checkpoint NEW extends the log at OLD
                                            (PROOF from GET /v1/proof/consistency?from=M&to=N)
  agora verify state FILE                   a query's answer (any module query with proof=1)
  agora verify checkpoint --validators SET FILE
                                            a network's checkpoint: signed by validators with
                                            more than two thirds of the voting power of SET
  agora verify conflict --validators SET A B
                                            two checkpoints that cannot both be true: names
                                            the validators of SET that signed both

Checks, offline, an answer a node gave: it needs only the file and the
keys you trust, and contacts nobody. The log's key is the node's log_key
(GET /v1/node/info, or printed by 'agora init'); pin it once, then pass it
with --log-key or AGORA_LOG_KEY. With --witness and --quorum the
checkpoint must also be cosigned by that many of those witnesses. FILE
may be - for standard input. Exit status 0 only if everything verifies.

A network of validators (agora testnet) signs each checkpoint with every
validator's note key. --validators names the validator set you trust: a
genesis file (its "validators"), or a saved GET /v1/ledger/validators
answer. With it, 'verify checkpoint' needs no log key, and
'verify conflict' exits 0 only if it proves that some validators signed
two conflicting checkpoints, and names them.

Examples:
  export AGORA_LOG_KEY=$(curl -s localhost:7780/v1/node/info | jq -r .log_key)
  curl -s localhost:7780/log/checkpoint > cp.txt && agora verify checkpoint cp.txt
  curl -s "localhost:7780/v1/tx/$HASH?proof=1" | agora verify tx -
  curl -s "localhost:7780/v1/notary/anchors/$SUM?proof=1" | agora verify state -
  curl -s localhost:26600/log/checkpoint | agora verify checkpoint --validators net/node0/genesis.json -
  agora verify conflict --validators net/node0/genesis.json cp-a.txt cp-b.txt
`

func runVerify(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, strings.TrimLeft(verifyUsage, "\n"))
		return &exitError{code: 2}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, strings.TrimLeft(verifyUsage, "\n"))
		return nil
	}
	fs := newFlags("verify "+args[0], verifyUsage, stderr)
	logKey := fs.String("log-key", os.Getenv("AGORA_LOG_KEY"), "the log's signed-note verifier key (env AGORA_LOG_KEY)")
	var witnesses stringList
	fs.Var(&witnesses, "witness", "a witness's cosigner verifier `KEY` (repeatable)")
	quorum := fs.Int("quorum", 0, "how many of the --witness keys must have cosigned")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	valFile := fs.String("validators", "", "a `FILE` with the validator set you trust (a genesis, or GET /v1/ledger/validators)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	var validators []ledger.Validator
	if *valFile != "" {
		if validators, err = readValidators(*valFile); err != nil {
			return err
		}
	}
	network := validators != nil && (args[0] == "checkpoint" || args[0] == "conflict")
	if args[0] == "conflict" && validators == nil {
		return usageError("verify conflict needs --validators: the validator set whose keys signed the checkpoints")
	}
	if *logKey == "" && !network {
		return usageError("--log-key (or AGORA_LOG_KEY) is required: the key you trust to sign the log's checkpoints")
	}
	if *quorum > len(witnesses) {
		return usageError("--quorum %d but only %d --witness keys", *quorum, len(witnesses))
	}
	policy := verify.Policy{LogKey: *logKey, Witnesses: witnesses, Quorum: *quorum}
	files := func(n int) ([][]byte, error) {
		if len(pos) != n {
			return nil, usageError("verify %s takes %d file(s)", args[0], n)
		}
		var out [][]byte
		for _, p := range pos {
			b, err := readInput(p)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, nil
	}
	var report any
	switch args[0] {
	case "checkpoint":
		in, err := files(1)
		if err != nil {
			return err
		}
		if network {
			c, by, err := verify.NetworkCheckpoint(in[0], validators)
			if err != nil {
				return verifyFailed(err)
			}
			r := checkpointReport(c)
			r["signed_by"] = validatorNames(by)
			report = r
			break
		}
		c, err := verify.OpenCheckpoint(in[0], policy)
		if err != nil {
			return verifyFailed(err)
		}
		report = checkpointReport(c)
	case "tx", "inclusion":
		in, err := files(1)
		if err != nil {
			return err
		}
		var doc struct {
			Envelope string                 `json:"envelope"`
			Result   *ledger.Result         `json:"result"`
			Proof    *verify.InclusionProof `json:"proof"`
		}
		if err := json.Unmarshal(in[0], &doc); err != nil {
			return fmt.Errorf("%s: not a JSON answer with a proof: %w", pos[0], err)
		}
		if doc.Proof == nil {
			return fmt.Errorf("%s has no \"proof\"\nhint: ask GET /v1/tx/HASH?proof=1, or submit with wait=commit", pos[0])
		}
		var e *ledger.LogEntry
		var c *verify.Checkpoint
		if doc.Envelope != "" {
			env, derr := base64.StdEncoding.DecodeString(doc.Envelope)
			if derr != nil {
				return fmt.Errorf("%s: envelope: %w", pos[0], derr)
			}
			e, c, err = verify.Transaction(env, doc.Result, doc.Proof, policy)
		} else {
			e, c, err = verify.Inclusion(doc.Proof, policy)
			if err == nil && doc.Result != nil {
				err = verify.ResultOf(e, doc.Result)
			}
		}
		if err != nil {
			return verifyFailed(err)
		}
		r := map[string]any{"verified": true, "tx_hash": e.TxID, "height": e.Height, "index": e.Index,
			"leaf_index": doc.Proof.LeafIndex, "envelope_checked": doc.Envelope != "", "result_checked": doc.Result != nil,
			"checkpoint": checkpointReport(c)}
		if doc.Result != nil {
			r["result"] = doc.Result.Code
		}
		report = r
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
		var doc struct {
			Proof *verify.StateProof `json:"proof"`
			Error *struct {
				Proof *verify.StateProof `json:"proof"`
			} `json:"error"`
		}
		if err := json.Unmarshal(in[0], &doc); err != nil {
			return fmt.Errorf("%s: not a JSON answer with a proof: %w", pos[0], err)
		}
		p := doc.Proof
		if p == nil && doc.Error != nil {
			p = doc.Error.Proof
		}
		if p == nil {
			return fmt.Errorf("%s has no \"proof\"\nhint: ask the query with proof=1", pos[0])
		}
		vals, c, err := verify.State(p, policy)
		if err != nil {
			return verifyFailed(err)
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var proven []map[string]any
		for _, k := range keys {
			proven = append(proven, map[string]any{"key": k, "present": vals[k] != nil, "value": vals[k]})
		}
		report = map[string]any{"verified": true, "keys": proven, "checkpoint": checkpointReport(c)}
	case "conflict":
		in, err := files(2)
		if err != nil {
			return err
		}
		culprits, err := verify.Conflicting(in[0], in[1], validators)
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("no misbehaviour proven: %w", err)}
		}
		if len(culprits) == 0 {
			return &exitError{code: 1, err: errors.New("the checkpoints conflict, but no validator of the set signed both")}
		}
		report = map[string]any{"conflicting": true, "signed_both": validatorNames(culprits)}
	default:
		return usageError("unknown verify command %q (want checkpoint, tx, consistency, state or conflict)", args[0])
	}
	if *asJSON {
		return printJSON(stdout, report)
	}
	printReport(stdout, report, "")
	return nil
}

// readValidators reads a validator set: a genesis's "validators", or a
// GET /v1/ledger/validators answer (a list).
func readValidators(path string) ([]ledger.Validator, error) {
	b, err := readInput(path)
	if err != nil {
		return nil, err
	}
	var vs []ledger.Validator
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &vs)
	} else {
		var doc struct {
			Validators []ledger.Validator `json:"validators"`
		}
		err = json.Unmarshal(b, &doc)
		vs = doc.Validators
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%s names no validators\nhint: give a network's genesis.json or a saved GET /v1/ledger/validators answer", path)
	}
	for i := range vs {
		if err := vs[i].Validate(); err != nil {
			return nil, fmt.Errorf("%s: validator %d: %w", path, i, err)
		}
	}
	return vs, nil
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
	return &exitError{code: 1, err: fmt.Errorf("NOT verified: %w", err)}
}

func checkpointReport(c *verify.Checkpoint) map[string]any {
	return map[string]any{"verified": true, "origin": c.Origin, "log_size": c.Size,
		"log_root": base64.StdEncoding.EncodeToString(c.Hash), "height": c.Height,
		"state_root": base64.StdEncoding.EncodeToString(c.StateRoot)}
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

// readInput reads a file, or standard input for "-".
func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no file %s", path)
	}
	return b, err
}
