package frost

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// reshare runs a whole resharing: every dealer deals, every new holder
// finishes.
func reshare(t testing.TB, rnd io.Reader, r *Resharing, old []*KeyPackage) ([]*KeyPackage, []*Round1Package, [][]*Round2Package) {
	t.Helper()
	var round1 []*Round1Package
	var round2 [][]*Round2Package
	for _, id := range r.Dealers {
		p, out, err := r.Deal(rnd, old[index(r.Old.ids, id)])
		if err != nil {
			t.Fatal(err)
		}
		round1 = append(round1, p)
		round2 = append(round2, out)
	}
	var keys []*KeyPackage
	for hi, h := range r.Holders {
		var in []*Round2Package
		for _, out := range round2 {
			in = append(in, out[hi])
		}
		k, err := r.Finish(h, round1, in)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys, round1, round2
}

func TestResharing(t *testing.T) {
	msg := []byte("thirty-two bytes of message hash")
	for _, s := range suites {
		for _, tc := range []struct {
			desc    string
			t, n    int
			dealers []Identifier
			newT    int
			holders []Identifier
		}{
			{"2-of-3 to 3-of-5 new holders", 2, 3, []Identifier{1, 3}, 3, []Identifier{2, 4, 5, 6, 7}},
			{"3-of-5 to 2-of-2", 3, 5, []Identifier{2, 3, 5}, 2, []Identifier{8, 9}},
			{"refresh 2-of-3", 2, 3, []Identifier{1, 2, 3}, 2, []Identifier{1, 2, 3}},
		} {
			t.Run(fmt.Sprintf("%s/%s", s, tc.desc), func(t *testing.T) {
				rnd := testRand(uint64(tc.newT))
				old, oldPub, err := s.Deal(rnd, tc.t, tc.n)
				if err != nil {
					t.Fatal(err)
				}
				r := &Resharing{Session: []byte("reshare"), Old: oldPub, Dealers: tc.dealers, MinSigners: tc.newT, Holders: tc.holders}
				keys, round1, _ := reshare(t, rnd, r, old)
				pub, err := r.PublicKeys(round1)
				if err != nil {
					t.Fatal(err)
				}
				if string(pub.GroupKey()) != string(oldPub.GroupKey()) {
					t.Fatal("the group key changed")
				}
				for _, k := range keys {
					if !k.Public().Equal(pub) {
						t.Fatalf("holder %d's public keys differ from the ledger's", k.ID())
					}
					if i := index(oldPub.ids, k.id); i >= 0 && old[i].share.equal(k.share) {
						t.Fatalf("holder %d kept its old share", k.id)
					}
				}
				sig, _, _ := signWith(t, rnd, pub, keys[len(keys)-tc.newT:], msg)
				verifyExternally(t, s, pub.GroupKey(), msg, sig)
				if err := s.Verify(oldPub.GroupKey(), msg, sig); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestResharingMisbehaviour(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			rnd := testRand(6)
			old, oldPub, err := s.Deal(rnd, 2, 3)
			if err != nil {
				t.Fatal(err)
			}
			r := &Resharing{Session: []byte("reshare"), Old: oldPub, Dealers: []Identifier{1, 2}, MinSigners: 2, Holders: []Identifier{4, 5, 6}}

			// A dealer that deals a secret of its choosing instead of its old
			// share is refused, by name.
			coeffs, _ := s.randomPolynomial(rnd, 2)
			rogue, err := s.commitPolynomial(rnd, r.Session, 2, coeffs)
			if err != nil {
				t.Fatal(err)
			}
			var de *DealerError
			if err := r.VerifyRound1(rogue); !errors.As(err, &de) || de.Dealer != 2 || !errors.Is(err, ErrBadDealing) {
				t.Fatalf("rogue constant term: %v, want ErrBadDealing naming dealer 2", err)
			}

			// A bad share is named at Finish and convicts its dealer.
			p1, out1, err := r.Deal(rnd, old[0])
			if err != nil {
				t.Fatal(err)
			}
			p2, out2, err := r.Deal(rnd, old[1])
			if err != nil {
				t.Fatal(err)
			}
			bad, err := s.dealShare(rnd, r.Session, p2, []scalar{s.lagrange(2, r.Dealers).mul(old[1].share), s.g.scalarFromUint(7)}, 5)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Finish(5, []*Round1Package{p1, p2}, []*Round2Package{out1[1], bad}); !errors.As(err, &de) || de.Dealer != 2 {
				t.Fatalf("Finish with a bad share: %v, want dealer 2 named", err)
			}
			if guilty, err := s.JudgeComplaint(r.Session, p2, bad); err != nil || guilty != 2 {
				t.Fatalf("JudgeComplaint: %d, %v", guilty, err)
			}
			if _, err := r.Finish(5, []*Round1Package{p1, p2}, []*Round2Package{out1[1], out2[1]}); err != nil {
				t.Fatal(err)
			}

			for _, tc := range []struct {
				desc string
				r    Resharing
				k    *KeyPackage
			}{
				{"fewer dealers than the old threshold", Resharing{Old: oldPub, Dealers: []Identifier{1}, MinSigners: 2, Holders: []Identifier{4, 5}}, old[0]},
				{"a dealer who is not an old holder", Resharing{Old: oldPub, Dealers: []Identifier{1, 9}, MinSigners: 2, Holders: []Identifier{4, 5}}, old[0]},
				{"a key that is not a dealer's", Resharing{Old: oldPub, Dealers: []Identifier{1, 2}, MinSigners: 2, Holders: []Identifier{4, 5}}, old[2]},
				{"new threshold above the holders", Resharing{Old: oldPub, Dealers: []Identifier{1, 2}, MinSigners: 3, Holders: []Identifier{4, 5}}, old[0]},
				{"unordered holders", Resharing{Old: oldPub, Dealers: []Identifier{1, 2}, MinSigners: 2, Holders: []Identifier{5, 4}}, old[0]},
			} {
				if _, _, err := tc.r.Deal(rnd, tc.k); !errors.Is(err, ErrParameters) {
					t.Errorf("%s: %v, want ErrParameters", tc.desc, err)
				}
			}
		})
	}
}
