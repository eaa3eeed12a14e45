package frost_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/agora-ledger/agora/internal/frost"
)

// Example runs a 2-of-3 DKG and signs with two of the three holders, using
// only the exported API: what each participant does privately, and what
// the ledger checks in public.
func Example() {
	s := frost.Ed25519
	session := []byte("custody account 7, key 1")
	const t, n = 2, 3

	// Round 1: each participant publishes a package; the ledger checks it.
	var dkgs []*frost.DKG
	var round1 []*frost.Round1Package
	for id := frost.Identifier(1); id <= n; id++ {
		d, pkg, err := s.NewDKG(rand.Reader, session, id, t, n)
		if err != nil {
			panic(err)
		}
		if err := s.VerifyRound1(session, t, pkg); err != nil {
			panic(err)
		}
		dkgs = append(dkgs, d)
		round1 = append(round1, pkg)
	}

	// Round 2: each sends every other participant its signed share
	// (encrypted to the recipient in real use).
	inbox := map[frost.Identifier][]*frost.Round2Package{}
	for _, d := range dkgs {
		out, err := d.Round2(rand.Reader, round1)
		if err != nil {
			panic(err)
		}
		for _, p := range out {
			inbox[p.Recipient] = append(inbox[p.Recipient], p)
		}
	}

	// Each finishes with its key package; the ledger derives the same public
	// keys from round 1 alone.
	var keys []*frost.KeyPackage
	for i, d := range dkgs {
		k, err := d.Finish(round1, inbox[frost.Identifier(i+1)])
		if err != nil {
			panic(err) // a *frost.DealerError: publish the share as a complaint
		}
		keys = append(keys, k)
	}
	pub, err := s.DKGPublicKeys(session, t, n, round1)
	if err != nil {
		panic(err)
	}

	// Signing by holders 1 and 3.
	msg := []byte("withdraw 10 units to ...")
	signers := []*frost.KeyPackage{keys[0], keys[2]}
	var nonces []*frost.Nonces
	var list []frost.Commitments
	for _, k := range signers {
		nc, c, err := k.Commit(rand.Reader)
		if err != nil {
			panic(err)
		}
		nonces = append(nonces, nc)
		list = append(list, c)
	}
	var shares []frost.SignatureShare
	for i, k := range signers {
		sh, err := k.Sign(nonces[i], msg, list)
		if err != nil {
			panic(err)
		}
		if err := pub.VerifyShare(msg, list, sh); err != nil { // the ledger's check
			panic(err)
		}
		shares = append(shares, sh)
	}
	sig, err := pub.Aggregate(msg, list, shares)
	if err != nil {
		panic(err)
	}
	fmt.Println("group key is an Ed25519 key:", len(pub.GroupKey()) == ed25519.PublicKeySize)
	fmt.Println("crypto/ed25519 accepts the signature:", ed25519.Verify(pub.GroupKey(), msg, sig))
	// Output:
	// group key is an Ed25519 key: true
	// crypto/ed25519 accepts the signature: true
}
