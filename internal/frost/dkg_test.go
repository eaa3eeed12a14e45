package frost

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// dkgRun is a whole DKG among participants 1..n, kept in the open for tests.
type dkgRun struct {
	session []byte
	parts   []*DKG
	round1  []*Round1Package
	// round2[i][j] is participant i+1's share for the j-th other participant.
	round2 [][]*Round2Package
}

func runDKGRounds(t testing.TB, s *Suite, rnd io.Reader, tt, n int) *dkgRun {
	t.Helper()
	r := &dkgRun{session: []byte("test session")}
	for i := range n {
		d, p, err := s.NewDKG(rnd, r.session, Identifier(i+1), tt, n)
		if err != nil {
			t.Fatal(err)
		}
		r.parts = append(r.parts, d)
		r.round1 = append(r.round1, p)
	}
	for _, d := range r.parts {
		out, err := d.Round2(rnd, r.round1)
		if err != nil {
			t.Fatal(err)
		}
		r.round2 = append(r.round2, out)
	}
	return r
}

// received gathers the shares addressed to participant id, ascending by
// dealer.
func (r *dkgRun) received(id Identifier) []*Round2Package {
	var in []*Round2Package
	for _, out := range r.round2 {
		for _, p := range out {
			if p.Recipient == id {
				in = append(in, p)
			}
		}
	}
	return in
}

func (r *dkgRun) finish(t testing.TB) []*KeyPackage {
	t.Helper()
	var keys []*KeyPackage
	for _, d := range r.parts {
		k, err := d.Finish(r.round1, r.received(d.id))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

func TestDKGRoundTrip(t *testing.T) {
	msg := []byte("thirty-two bytes of message hash")
	for _, s := range suites {
		for _, p := range []struct{ t, n int }{{2, 2}, {2, 3}, {3, 5}, {7, 10}} {
			t.Run(fmt.Sprintf("%s/%d-of-%d", s, p.t, p.n), func(t *testing.T) {
				rnd := testRand(uint64(10*p.t + p.n))
				r := runDKGRounds(t, s, rnd, p.t, p.n)
				keys := r.finish(t)
				pub, err := s.DKGPublicKeys(r.session, p.t, p.n, r.round1)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if !k.Public().Equal(pub) {
						t.Fatalf("participant %d's public keys differ from the ledger's", k.ID())
					}
				}
				// The shares interpolate to the secret whose public key is the
				// group key.
				secret := s.g.scalarFromUint(0)
				ids := pub.IDs()[:p.t]
				for _, k := range keys[:p.t] {
					secret = secret.add(s.lagrange(k.id, ids).mul(k.share))
				}
				if !s.g.baseMul(secret).equal(pub.groupKey) {
					t.Fatal("the shares do not interpolate to the group secret")
				}
				sig, _, _ := signWith(t, rnd, pub, keys[p.n-p.t:], msg)
				if err := s.Verify(pub.GroupKey(), msg, sig); err != nil {
					t.Fatal(err)
				}
				verifyExternally(t, s, pub.GroupKey(), msg, sig)
				if _, err := r.parts[0].Finish(r.round1, r.received(1)); !errors.Is(err, ErrParameters) {
					t.Fatalf("second Finish: %v", err)
				}
			})
		}
	}
}

// TestDKGMisbehaviour: each way a dealer can cheat is caught and, where it
// can be, attributed by checks the ledger can run.
func TestDKGMisbehaviour(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			rnd := testRand(5)
			one := s.g.scalarFromUint(1)

			t.Run("bad share is attributed to its dealer", func(t *testing.T) {
				r := runDKGRounds(t, s, rnd, 2, 3)
				// Dealer 2 sends participant 3 a wrong share, properly signed.
				d2 := r.parts[1]
				bad := &Round2Package{Dealer: 2, Recipient: 3, share: s.evalPolynomial(d2.coeffs, 3).add(one)}
				k := s.g.scalarFromUint(12345)
				bad.sigR = s.g.baseMul(k)
				bad.sigZ = k.add(d2.coeffs[0].mul(s.shareChallenge(r.session, bad, d2.own.commitments[0])))
				r.round2[1][1] = bad

				var de *DealerError
				if err := s.CheckDealing(r.session, r.round1[1], bad); !errors.As(err, &de) || de.Dealer != 2 || !errors.Is(err, ErrBadDealing) {
					t.Fatalf("CheckDealing: %v, want dealer 2 named", err)
				}
				if _, err := r.parts[2].Finish(r.round1, r.received(3)); !errors.As(err, &de) || de.Dealer != 2 {
					t.Fatalf("Finish: %v, want dealer 2 named", err)
				}
				if guilty, err := s.JudgeComplaint(r.session, r.round1[1], bad); err != nil || guilty != 2 {
					t.Fatalf("JudgeComplaint: %d, %v; want dealer 2", guilty, err)
				}
				// Participant 1's shares are fine: it finishes, and a complaint
				// about a good share convicts the accuser.
				if _, err := r.parts[0].Finish(r.round1, r.received(1)); err != nil {
					t.Fatal(err)
				}
				good := r.round2[0][0] // dealer 1 to participant 2
				if guilty, err := s.JudgeComplaint(r.session, r.round1[0], good); err != nil || guilty != 2 {
					t.Fatalf("false complaint: %d, %v; want accuser 2", guilty, err)
				}
			})

			t.Run("evidence not signed by the dealer proves nothing", func(t *testing.T) {
				r := runDKGRounds(t, s, rnd, 2, 3)
				forged := *r.round2[0][1] // dealer 1 to participant 3
				forged.share = forged.share.add(one)
				for _, tc := range []struct {
					desc   string
					dealer *Round1Package
					p      *Round2Package
				}{
					{"altered share", r.round1[0], &forged},
					{"checked against another dealer", r.round1[1], r.round2[0][1]},
					{"moved to another session", r.round1[0], r.round2[0][1]},
				} {
					session := r.session
					if tc.desc == "moved to another session" {
						session = []byte("another session")
					}
					if guilty, err := s.JudgeComplaint(session, tc.dealer, tc.p); !errors.Is(err, ErrBadEvidence) || guilty != 0 {
						t.Errorf("%s: %d, %v; want ErrBadEvidence and no one guilty", tc.desc, guilty, err)
					}
				}
			})

			t.Run("bad proof of knowledge is refused", func(t *testing.T) {
				r := runDKGRounds(t, s, rnd, 2, 3)
				p := *r.round1[0]
				p.proofZ = p.proofZ.add(one)
				copied := *r.round1[0] // dealer 2 replays dealer 1's package as its own
				copied.Dealer = 2
				for _, tc := range []struct {
					desc    string
					session []byte
					p       *Round1Package
				}{
					{"altered response", r.session, &p},
					{"another dealer's package", r.session, &copied},
					{"another session's package", []byte("another session"), r.round1[0]},
				} {
					var de *DealerError
					if err := s.VerifyRound1(tc.session, 2, tc.p); !errors.Is(err, ErrInvalidProof) || !errors.As(err, &de) || de.Dealer != tc.p.Dealer {
						t.Errorf("%s: %v, want ErrInvalidProof naming dealer %d", tc.desc, err, tc.p.Dealer)
					}
				}
				list := []*Round1Package{&p, r.round1[1], r.round1[2]}
				if _, err := r.parts[1].Round2(rnd, list); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("Round2 with a bad proof: %v", err)
				}
				if _, err := s.DKGPublicKeys(r.session, 2, 3, list); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("DKGPublicKeys with a bad proof: %v", err)
				}
			})

			t.Run("wrong commitment", func(t *testing.T) {
				r := runDKGRounds(t, s, rnd, 3, 4)
				// Changing the constant term breaks the proof.
				p0 := *r.round1[2]
				p0.commitments = append([]element{}, p0.commitments...)
				p0.commitments[0] = p0.commitments[0].add(s.g.baseMul(one))
				if err := s.VerifyRound1(r.session, 3, &p0); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("altered constant term: %v", err)
				}
				// Changing a higher coefficient's commitment keeps the proof
				// valid but no honest share matches it: the dealer is named.
				p1 := *r.round1[2]
				p1.commitments = append([]element{}, p1.commitments...)
				p1.commitments[2] = p1.commitments[2].add(s.g.baseMul(one))
				if err := s.VerifyRound1(r.session, 3, &p1); err != nil {
					t.Fatal(err)
				}
				var de *DealerError
				if err := s.CheckDealing(r.session, &p1, r.round2[2][0]); !errors.As(err, &de) || de.Dealer != 3 {
					t.Fatalf("share against altered commitments: %v, want dealer 3 named", err)
				}
				// Too few commitments for the threshold.
				short := *r.round1[2]
				short.commitments = short.commitments[:2]
				if err := s.VerifyRound1(r.session, 3, &short); !errors.Is(err, ErrParameters) {
					t.Fatalf("short package: %v", err)
				}
			})
		})
	}
}
