package custodycli

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"fmt"
	"slices"
	"strconv"

	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/frost"
)

// The signer's part in a rotation (docs/spec/custody.md): an old holder
// joins to deal, the first t of them deal their Lagrange-weighted share
// afresh (frost.Resharing.Deal, drawn from a seed kept in the state, so
// a restart deals the same), sealed with HPKE to each new holder; a new
// holder joins with a fresh X25519 key, opens and checks what it was
// dealt (complaining of a bad share), checks that its public keys are the
// ledger's and the group key unchanged, keeps its new key package and
// accepts. When the rotation is done, a new holder's new share replaces
// its old one, and an old holder that is not a new one deletes its share.

// rotation does what is due for the wallet's last rotation; handled is
// true when nothing else is due for the wallet now.
func (s *signer) rotation(ctx context.Context, w *custody.Wallet) (handled bool, err error) {
	var rot custody.Rotation
	if err := s.query(ctx, "rotation", map[string]string{"wallet": w.ID, "n": strconv.FormatUint(w.Rotations, 10)}, &rot); err != nil {
		return true, err
	}
	sec := s.st.Wallets[w.ID]
	switch rot.State {
	case custody.RotationOpen:
		return true, s.reshare(ctx, w, &rot)
	case custody.RotationDone:
		if sec == nil {
			return false, nil
		}
		if find(rot.Holders, s.did) == nil {
			// An old holder, whether it dealt or not.
			delete(s.st.Wallets, w.ID)
			if err := s.st.save(); err != nil {
				return true, err
			}
			s.say(w.ID, "wallet %s: rotation %d done; not a new holder: share deleted", w.ID, rot.N)
			s.wallets[w.ID] = false
			return true, nil
		}
		if sec.Rotation != rot.N {
			return false, nil // applied already
		}
		if sec.Next == nil {
			return true, fmt.Errorf("rotation %d is done but this signer kept no new share", rot.N)
		}
		sec.Key, sec.Next, sec.RotHPKE, sec.RotSeed, sec.Rotation = sec.Next, nil, nil, nil, 0
		sec.Nonces, sec.Shares = nil, nil // the old key's
		if err := s.st.save(); err != nil {
			return true, err
		}
		s.say(w.ID, "wallet %s: rotation %d done; holder %d keeps its new share of group key %x", w.ID, rot.N, find(rot.Holders, s.did).ID, w.GroupKey)
	case custody.RotationFailed:
		if sec == nil || sec.Rotation != rot.N {
			return false, nil
		}
		sec.Next, sec.RotHPKE, sec.RotSeed, sec.Rotation = nil, nil, nil, 0
		if sec.Key == nil {
			delete(s.st.Wallets, w.ID)
		}
		if err := s.st.save(); err != nil {
			return true, err
		}
		s.say(w.ID, "wallet %s: rotation %d failed: %s", w.ID, rot.N, rot.Reason)
	}
	return false, nil
}

func find(hs []custody.Holder, did string) *custody.Holder {
	for i := range hs {
		if hs[i].DID == did {
			return &hs[i]
		}
	}
	return nil
}

// reshare takes the next step of an open rotation.
func (s *signer) reshare(ctx context.Context, w *custody.Wallet, rot *custody.Rotation) error {
	nh, old := find(rot.Holders, s.did), find(w.Holders, s.did)
	if nh == nil && old == nil {
		return nil
	}
	sec := s.st.Wallets[w.ID]
	if sec == nil {
		if nh == nil {
			return nil // an old holder without a share here deals nothing
		}
		sec = &secrets{Suite: w.Suite, Session: w.Session}
		s.st.Wallets[w.ID] = sec
	}
	if sec.Rotation != rot.N {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		seed := make([]byte, 32)
		rand.Read(seed)
		sec.Rotation, sec.RotHPKE, sec.RotSeed, sec.Next = rot.N, k.Bytes(), seed, nil
		if err := s.st.save(); err != nil {
			return err
		}
	}
	pub := mustX25519(sec.RotHPKE).PublicKey().Bytes()
	dealer := find(rot.Dealers, s.did)
	canDeal := old != nil && sec.Key != nil && dealer == nil && len(rot.Dealers) < int(w.Threshold)
	if (nh != nil && nh.HPKE == nil) || canDeal {
		if err := s.submit(ctx, "join", &custody.Join{Wallet: w.ID, Holder: s.did, HPKE: pub}); err != nil {
			return err
		}
		s.say(w.ID, "wallet %s: joined rotation %d", w.ID, rot.N)
		return nil
	}
	if nh != nil && !bytes.Equal(nh.HPKE, pub) {
		s.say(w.ID, "wallet %s: joined rotation %d with a key this signer does not hold", w.ID, rot.N)
		return nil
	}
	if !rot.Ready(w.Threshold) {
		return nil
	}
	suite, err := custody.Suite(w.Suite)
	if err != nil {
		return err
	}
	rs, err := rot.Resharing(suite)
	if err != nil {
		return err
	}
	if dealer != nil && !dealer.Dealt {
		return s.deal(ctx, w, rot, rs, dealer, sec)
	}
	if nh != nil && rot.New != nil && !slices.Contains(rot.Accepted, nh.ID) {
		return s.accept(ctx, w, rot, rs, nh, sec)
	}
	return nil
}

// deal posts this dealer's round one, then its sealed shares.
func (s *signer) deal(ctx context.Context, w *custody.Wallet, rot *custody.Rotation, rs *frost.Resharing, me *custody.Holder, sec *secrets) error {
	suite := rs.Old.Suite()
	kp, err := suite.DecodeKeyPackage(sec.Key)
	if err != nil {
		return err
	}
	pkg, out, err := rs.Deal(drbg(sec.RotSeed, rot.Session, "reshare"), kp)
	if err != nil {
		return err
	}
	if me.Round1 == nil {
		if err := s.submit(ctx, "round1", &custody.Round1{Wallet: w.ID, Holder: s.did, Package: pkg.Bytes()}); err != nil {
			return err
		}
		s.say(w.ID, "wallet %s: rotation %d: posted round 1 as dealer %d", w.ID, rot.N, me.ID)
		return nil
	}
	if !bytes.Equal(me.Round1, pkg.Bytes()) {
		return fmt.Errorf("the ledger's round-one package of dealer %d is not the one this signer makes", me.ID)
	}
	if slices.ContainsFunc(rot.Dealers, func(d custody.Holder) bool { return d.Round1 == nil }) {
		return nil // round two waits for every round one
	}
	var sealed []custody.Sealed
	for i, p := range out {
		to := rot.Holders[i]
		ct, err := seal(to.HPKE, custody.SealInfo(rot.Session, me.ID, to.ID), p.Bytes())
		if err != nil {
			return err
		}
		sealed = append(sealed, custody.Sealed{To: to.ID, Ciphertext: ct})
	}
	if err := s.submit(ctx, "round2", &custody.Round2{Wallet: w.ID, Holder: s.did, Shares: sealed}); err != nil {
		return err
	}
	s.say(w.ID, "wallet %s: rotation %d: dealt %d sealed shares", w.ID, rot.N, len(sealed))
	return nil
}

func seal(to, info, pt []byte) ([]byte, error) {
	pk, err := ecdh.X25519().NewPublicKey(to)
	if err != nil {
		return nil, err
	}
	hpk, err := hpke.NewDHKEMPublicKey(pk)
	if err != nil {
		return nil, err
	}
	return hpke.Seal(hpk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), info, pt)
}

// accept opens and checks the shares dealt to this new holder, keeps its
// new key package and accepts; a bad share it publishes in a complaint.
func (s *signer) accept(ctx context.Context, w *custody.Wallet, rot *custody.Rotation, rs *frost.Resharing, me *custody.Holder, sec *secrets) error {
	suite := rs.Old.Suite()
	if sec.Next == nil {
		k, err := hpke.NewDHKEMPrivateKey(mustX25519(sec.RotHPKE))
		if err != nil {
			return err
		}
		var r1 []*frost.Round1Package
		var received []*frost.Round2Package
		for _, d := range rot.Dealers {
			p1, err := suite.DecodeRound1Package(d.Round1)
			if err != nil {
				return err
			}
			r1 = append(r1, p1)
			var sealed []custody.Sealed
			if err := s.query(ctx, "resealed", map[string]string{"wallet": w.ID, "n": strconv.FormatUint(rot.N, 10), "dealer": strconv.Itoa(int(d.ID))}, &sealed); err != nil {
				return err
			}
			i := slices.IndexFunc(sealed, func(x custody.Sealed) bool { return x.To == me.ID })
			if i < 0 {
				return fmt.Errorf("dealer %d sealed nothing to new holder %d", d.ID, me.ID)
			}
			pt, err := hpke.Open(k, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), custody.SealInfo(rot.Session, d.ID, me.ID), sealed[i].Ciphertext)
			if err != nil {
				return fmt.Errorf("open the share of dealer %d: %w", d.ID, err)
			}
			p2, err := suite.DecodeRound2Package(pt)
			if err == nil {
				err = suite.CheckDealing(rot.Session, p1, p2)
			}
			if err != nil {
				if cerr := s.submit(ctx, "complain", &custody.Complain{Wallet: w.ID, Holder: s.did, Package: pt}); cerr != nil {
					return fmt.Errorf("the share of dealer %d is bad (%v), and the complaint failed: %w", d.ID, err, cerr)
				}
				s.say(w.ID, "wallet %s: rotation %d: complained of dealer %d: %v", w.ID, rot.N, d.ID, err)
				return nil
			}
			received = append(received, p2)
		}
		kp, err := rs.Finish(frost.Identifier(me.ID), r1, received)
		if err != nil {
			return err
		}
		if !bytes.Equal(kp.Public().Bytes(), rot.New) || !bytes.Equal(kp.Public().GroupKey(), w.GroupKey) {
			return fmt.Errorf("the public keys this new holder derived are not the ledger's, or the group key changed")
		}
		sec.Next = kp.Bytes()
		if err := s.st.save(); err != nil {
			return err
		}
	}
	next, err := suite.DecodeKeyPackage(sec.Next)
	if err != nil {
		return err
	}
	proof, err := next.ProvePossession(rand.Reader, custody.PossessionContext(rot.Session))
	if err != nil {
		return err
	}
	if err := s.submit(ctx, "accept", &custody.Accept{Wallet: w.ID, Holder: s.did, Proof: proof}); err != nil {
		return err
	}
	s.say(w.ID, "wallet %s: rotation %d: new holder %d checked its shares of group key %x; accepted", w.ID, rot.N, me.ID, w.GroupKey)
	return nil
}
