package identitycli

import (
	"io"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/tx"
)

// didRecovery runs guardians, recover, cancel-recovery and
// complete-recovery, and cancel-change and complete-change.
func didRecovery(op string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("did "+op, didUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	keyName := fs.String("key", "", "the key `NAME` that signs: the controller (cancel-recovery, cancel-change: or the committed next key; complete-*: any key)")
	withNext := fs.String("with-next", "", "guardians: the committed next key `NAME` co-signs, so that a settled controller's change is made at once")
	var guardians, guardianKeys []string
	fs.Func("guardian", "guardians: a guardian, as a key `NAME` or a public key (alg:base64url); repeat for each", func(s string) error {
		guardians = append(guardians, s)
		return nil
	})
	fs.Func("guardian-key", "recover: a guardian's key `NAME` to sign with; repeat for each", func(s string) error {
		guardianKeys = append(guardianKeys, s)
		return nil
	})
	threshold := fs.Uint("threshold", 0, "guardians: how many guardians (`M`) must sign a recovery")
	delay := fs.Duration("delay", 0, "guardians: how long a recovery waits before it may be completed (whole seconds)")
	newKey := fs.String("new-key", "", "recover: the key `NAME` the guardians propose as controller (created if missing)")
	nextName := fs.String("next-key", "", "recover: the key `NAME` the proposed controller's next rotation must reveal (created if missing)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora did %s DID ...", op)
	}
	did := pos[0]
	if _, err := identity.ParseDID(did); err != nil {
		return cli.UsageError("%q is not a did:agora DID", did)
	}
	ks := cli.Keys(*homeDir)
	signers := []string{*keyName}
	typ := op
	var body interface{ Validate() error }
	switch op {
	case "guardians":
		typ = "set-guardians"
		if len(guardians) == 0 || *threshold == 0 || *delay == 0 {
			return cli.UsageError("--guardian NAME_OR_PUBKEY (one or more), --threshold M and --delay DURATION are required")
		}
		if *delay%time.Second != 0 {
			return cli.UsageError("--delay %s is not a whole number of seconds", *delay)
		}
		g := &identity.SetGuardians{DID: did, Threshold: uint32(min(*threshold, 1<<31)), Delay: uint64(*delay / time.Second)}
		for _, s := range guardians {
			k, err := tx.ParsePublicKey(s)
			if err != nil {
				e, kerr := ks.Get(s)
				if kerr != nil {
					return cli.UsageError("--guardian %q is neither a public key (alg:base64url) nor a key in your keystore", s)
				}
				k = e.PublicKey
			}
			g.Guardians = append(g.Guardians, k)
		}
		body = g
	case "recover":
		if len(guardianKeys) == 0 || *newKey == "" || *nextName == "" {
			return cli.UsageError("--guardian-key NAME (one per signing guardian), --new-key NAME and --next-key NAME are required")
		}
		signers = guardianKeys
		nk, _, err := ensureKey(ks, *newKey, tx.Ed25519, stderr)
		if err != nil {
			return err
		}
		next, _, err := ensureKey(ks, *nextName, nk.PublicKey.Alg, stderr)
		if err != nil {
			return err
		}
		body = &identity.Recover{DID: did, Key: nk.PublicKey, Next: identity.Commitment(next.PublicKey)}
	case "cancel-recovery", "complete-recovery":
		// Both bodies are the DID alone; the type tells them apart.
		body = &identity.RecoveryStep{DID: did}
	case "cancel-change", "complete-change":
		body = &identity.ChangeStep{DID: did}
	}
	if *withNext != "" {
		if op != "guardians" {
			return cli.UsageError("--with-next is for guardians (and deactivate)")
		}
		signers = append(signers, *withNext)
	}
	if op != "recover" && *keyName == "" {
		return cli.UsageError("--key NAME is required: the key that signs")
	}
	return submitDIDChange(*homeDir, *nodeURL, signers, typ, did, body, *ttl, *asJSON, stdout, stderr)
}
