package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// trust holds the flags, shared by every command that checks a node's
// answers, that say whom the caller trusts to sign the log's checkpoints:
// the log's key (--log-key, env AGORA_LOG_KEY), optionally with a quorum
// of witnesses (--witness, --quorum); or a network's validator set
// (--validators, env AGORA_VALIDATORS), of whose voting power more than
// two thirds must have signed.
type trust struct {
	logKey     *string
	validators *string
	witnesses  stringList
	quorum     *int
}

// trustFlags defines the trust flags on fs.
func trustFlags(fs *flag.FlagSet) *trust {
	t := &trust{}
	t.logKey = fs.String("log-key", os.Getenv("AGORA_LOG_KEY"), "the log's signed-note verifier `KEY` that signs its checkpoints (env AGORA_LOG_KEY)")
	t.validators = fs.String("validators", os.Getenv("AGORA_VALIDATORS"), "a `FILE` with the network's validator set you trust: a genesis, or a saved GET /v1/ledger/validators (env AGORA_VALIDATORS); more than two thirds of its power must sign")
	fs.Var(&t.witnesses, "witness", "with --log-key: a witness's cosigner verifier `KEY` (repeatable)")
	t.quorum = fs.Int("quorum", 0, "with --log-key: how many of the --witness keys must have cosigned")
	return t
}

// policy returns the policy the flags name, or nil if they name no one:
// then the node is trusted.
func (t *trust) policy() (*verify.Policy, error) {
	if *t.quorum > len(t.witnesses) {
		return nil, usageError("--quorum %d but only %d --witness keys", *t.quorum, len(t.witnesses))
	}
	if *t.validators != "" {
		if len(t.witnesses) > 0 {
			return nil, usageError("--witness goes with --log-key; a network's checkpoints are signed by its --validators")
		}
		vs, err := readValidators(*t.validators)
		if err != nil {
			return nil, err
		}
		return &verify.Policy{Validators: vs}, nil
	}
	if *t.logKey == "" {
		if len(t.witnesses) > 0 {
			return nil, usageError("--witness needs --log-key: the witnesses cosign the log's own checkpoints")
		}
		return nil, nil
	}
	return &verify.Policy{LogKey: *t.logKey, Witnesses: t.witnesses, Quorum: *t.quorum}, nil
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
