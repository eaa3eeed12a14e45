package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// SignAndSubmit unlocks the key name, signs a transaction with it and
// submits it, waiting for the commit. A committed transaction whose module
// refused it is an error carrying the result's code and reason.
func SignAndSubmit(homeDir, nodeURL, name, module, typ string, body any, ttl time.Duration, stderr io.Writer) (*wire.SubmitResponse, error) {
	return SignAndSubmitAll(homeDir, nodeURL, []string{name}, module, typ, body, ttl, stderr)
}

// SignAndSubmitAll is SignAndSubmit for a transaction signed by every key
// in names, in order.
func SignAndSubmitAll(homeDir, nodeURL string, names []string, module, typ string, body any, ttl time.Duration, stderr io.Writer) (*wire.SubmitResponse, error) {
	ks := Keys(homeDir)
	var keys []*tx.PrivateKey
	for _, name := range names {
		if _, err := ks.Get(name); err != nil {
			return nil, ledger.WithHint(err, fmt.Sprintf("'agora keys list --home %s' shows your keys", homeDir))
		}
		pass, err := Passphrase(stderr, fmt.Sprintf("Passphrase for key %s: ", name), false)
		if err != nil {
			return nil, err
		}
		key, err := ks.Unlock(name, pass)
		if errors.Is(err, keystore.ErrPassphrase) {
			if _, ok := os.LookupEnv("AGORA_PASSPHRASE"); ok {
				return nil, ledger.WithHint(err, "the passphrase was taken from AGORA_PASSPHRASE")
			}
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	res, err := SubmitFresh(context.Background(), client.New(nodeURL), keys, names, module, typ, body, ttl, stderr)
	if err != nil {
		return nil, err
	}
	if res.TxCommit != nil && !res.Result.OK() {
		return res, fmt.Errorf("refused: %s (%s)\n(transaction %s, committed at height %d without effect)", Reason(res.Result), res.Result.Code, res.Hash, res.Height)
	}
	return res, nil
}

// SubmitAttempts bounds how many times SubmitFresh signs one transaction.
const SubmitAttempts = 3

// SubmitFresh signs a transaction with keys (named names), each with the
// next sequence the node reports, and submits it, waiting for the commit.
// A refusal for a sequence (bad_sequence) means that another transaction
// of a signer took it between the read and the submission, perhaps one
// sent earlier through another node that committed only now; the refused
// transaction never commits. So it reads the sequences again and signs
// again, at most SubmitAttempts times in all, and says so on stderr.
func SubmitFresh(ctx context.Context, c *client.Client, keys []*tx.PrivateKey, names []string, module, typ string, body any, ttl time.Duration, stderr io.Writer) (*wire.SubmitResponse, error) {
	var refused []uint64 // the sequences of the refused attempt
	for attempt := 1; ; attempt++ {
		raw, seqs, err := build(ctx, c, keys, module, typ, body, ttl)
		if err == nil && refused != nil && slices.Equal(refused, seqs) {
			// The node has not yet seen what took the sequence: give it
			// a moment.
			time.Sleep(time.Second)
			raw, seqs, err = build(ctx, c, keys, module, typ, body, ttl)
		}
		if err != nil {
			return nil, err
		}
		same := slices.Equal(refused, seqs)
		for i, seq := range refused {
			switch {
			case seqs[i] != seq:
				fmt.Fprintf(stderr, "sequence %d of %s was taken; signed again with %d\n", seq, names[i], seqs[i])
			case same:
				fmt.Fprintf(stderr, "sequence %d of %s was refused, and the node still reports it; signed again\n", seq, names[i])
			}
		}
		res, err := c.Submit(ctx, raw, true)
		if attempt < SubmitAttempts && client.IsCode(err, "bad_sequence") {
			refused = seqs
			continue
		}
		return res, err
	}
}

// build signs a transaction with each key's next sequence, and returns it
// with the sequences it carries.
func build(ctx context.Context, c *client.Client, keys []*tx.PrivateKey, module, typ string, body any, ttl time.Duration) ([]byte, []uint64, error) {
	raw, err := c.BuildMulti(ctx, keys, module, typ, body, ttl)
	if err != nil {
		return nil, nil, err
	}
	_, t, err := tx.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	seqs := make([]uint64, len(t.Signers))
	for i, s := range t.Signers {
		seqs[i] = s.Sequence
	}
	return raw, seqs, nil
}

// Reason returns why a transaction was refused, without the leading
// code that the ledger's error text repeats ("conflict: ...").
func Reason(r ledger.Result) string {
	return strings.TrimPrefix(r.Error, r.Code+": ")
}

// PrintResult prints a committed transaction and its events.
func PrintResult(w io.Writer, typ string, res *wire.SubmitResponse) {
	fmt.Fprintf(w, "%s: ok (height %d, tx %s)\n", typ, res.Height, res.Hash)
	for _, e := range res.Result.Events {
		var kv []string
		for _, a := range e.Attrs {
			kv = append(kv, a.Key+"="+a.Value)
		}
		fmt.Fprintf(w, "  %s/%s %s\n", e.Module, e.Type, strings.Join(kv, " "))
	}
}
