package custody

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"testing/cryptotest"

	"github.com/agora-ledger/agora/internal/frost"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

const keySeed = "agora/custody-test/"

// TestTranscripts runs the stories in testdata/*.txt with the one
// transcript runner (package ledgertest, whose documentation lists the
// commands) over identity and custody. The stories extend it:
//
//	dids NAME...
//	    creates a DID for each name, controlled by the name's key, which
//	    the output shows and arguments expand as <did:NAME>.
//	do H custody join|round1|round2|commit|share wallet=W holder=<did:H> ...
//	    without the cryptographic field, the holder's side fills it as a
//	    signer would: its X25519 key, its DKG packages (round two sealed
//	    with HPKE to each recipient's key in state), its FROST
//	    commitments and its share of the request in state.
//	do H custody complain wallet=W holder=<did:H> dealer=D
//	    H publishes the share dealer D sealed to it, decrypted.
//	finish W H
//	    H opens the shares sealed to it and finishes its DKG.
//	cheat W D
//	    holder D of W deals round two from another polynomial with the
//	    same constant term, so its shares are signed but do not match its
//	    commitments.
//	verify W N
//	    checks request N's recorded signature with the suite's verifier
//	    (and crypto/ed25519 for an Ed25519 wallet).
func TestTranscripts(t *testing.T) {
	// HPKE draws its ephemeral keys from crypto/rand; a fixed source
	// keeps the sealed shares, and so the app hashes, the same each run.
	cryptotest.SetGlobalRandom(t, 16)
	sims := map[*ledgertest.Runner]*sim{}
	get := func(r *ledgertest.Runner) *sim {
		if sims[r] == nil {
			sims[r] = &sim{dkg: map[string]*frost.DKG{}, keys: map[string]*frost.KeyPackage{},
				nonces: map[string]*frost.Nonces{}, cheat: map[string]bool{}}
		}
		return sims[r]
	}
	ledgertest.Run(t, ledgertest.Ext{
		Seed:    keySeed,
		Modules: func() []ledger.Module { return []ledger.Module{identity.Module{}, Module{}} },
		Body: func(r *ledgertest.Runner, a *ledgertest.Args, module, typ string) ([]byte, bool) {
			if module != Name {
				return nil, false
			}
			return get(r).body(r, a, typ)
		},
		Values: map[reflect.Type]func(*ledgertest.Runner, string) any{
			reflect.TypeFor[Policy](): func(r *ledgertest.Runner, s string) any {
				var p Policy
				if err := json.Unmarshal([]byte(r.Expand(s)), &p); err != nil {
					r.Fatalf("policy: %v", err)
				}
				return p
			},
		},
		Commands: map[string]func(*ledgertest.Runner, *ledgertest.Args) []string{
			"dids": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				var out []string
				for _, name := range a.Pos {
					_, k := r.Key(name)
					_, next := r.Key(name + "-next")
					c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: k.Public(),
						Relationships: []string{identity.CapabilityInvocation}}}, Next: identity.Commitment(next.Public())}
					r.Name(c.DID(), "<did:"+name+">")
					res := r.Chain.Do(identity.Name, []*tx.PrivateKey{k}, "create", c)
					out = append(out, fmt.Sprintf("%s %s", name, res.Code))
				}
				return out
			},
			"finish": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				return get(r).finish(r, a.Pos[0], a.Pos[1])
			},
			"cheat": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				get(r).cheat[a.Pos[0]+"/"+a.Pos[1]] = true
				return []string{"holder " + a.Pos[1] + " will cheat"}
			},
			"verify": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				n, _ := strconv.ParseUint(a.Pos[1], 10, 64)
				return verifySignature(r, a.Pos[0], n)
			},
		},
	})
}

// sim plays the holders' side: what agora custody signer run does.
type sim struct {
	dkg    map[string]*frost.DKG        // by wallet/holder
	keys   map[string]*frost.KeyPackage // by wallet/holder
	nonces map[string]*frost.Nonces     // by wallet/request/holder
	cheat  map[string]bool              // wallet/holder name
}

// rnd is a deterministic reader for what name draws.
func rnd(parts ...string) io.Reader {
	s := sha256.Sum256(fmt.Append(nil, parts))
	return rand.NewChaCha8(s)
}

func hpkeKey(r *ledgertest.Runner, did string) *ecdh.PrivateKey {
	s := sha256.Sum256([]byte(keySeed + "hpke/" + did))
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		r.Fatalf("%v", err)
	}
	return k
}

func wallet(r *ledgertest.Runner, id string) *Wallet {
	w, err := WalletIn(r.Chain.View(Name, nil), id)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return w
}

func (s *sim) body(r *ledgertest.Runner, a *ledgertest.Args, typ string) ([]byte, bool) {
	var m ledger.Msg
	switch typ {
	case "join":
		j := &Join{}
		r.Fill(j, a)
		if j.HPKE == nil {
			j.HPKE = hpkeKey(r, j.Holder).PublicKey().Bytes()
		}
		m = j
	case "round1":
		p := &Round1{}
		r.Fill(p, a)
		if p.Package == nil {
			w := wallet(r, p.Wallet)
			h := w.holder(p.Holder)
			d, pkg, err := w.suite().NewDKG(rnd("dkg", w.ID, p.Holder), w.Session, frost.Identifier(h.ID), int(w.Threshold), len(w.Holders))
			if err != nil {
				r.Fatalf("%v", err)
			}
			s.dkg[w.ID+"/"+p.Holder] = d
			p.Package = pkg.Bytes()
		}
		m = p
	case "round2":
		p := &Round2{}
		r.Fill(p, a)
		if p.Shares == nil {
			p.Shares = s.round2(r, p.Wallet, p.Holder)
		}
		m = p
	case "complain":
		p := &Complain{}
		dealer := a.Uint("dealer", 0)
		r.Fill(p, a)
		w := wallet(r, p.Wallet)
		p.Package = s.open(r, w, p.Holder, uint16(dealer))
		m = p
	case "commit":
		p := &Commit{}
		r.Fill(p, a)
		if p.Commitments == nil {
			k := s.keys[p.Wallet+"/"+p.Holder]
			if k == nil {
				r.Fatalf("%s has no key for %s: finish first", p.Holder, p.Wallet)
			}
			n, c, err := k.Commit(rnd("nonce", p.Wallet, p.Holder, fmt.Sprint(p.Request)))
			if err != nil {
				r.Fatalf("%v", err)
			}
			s.nonces[fmt.Sprintf("%s/%d/%s", p.Wallet, p.Request, p.Holder)] = n
			p.Commitments = c.Bytes()
		}
		m = p
	case "share":
		p := &Share{}
		r.Fill(p, a)
		if p.Share == nil {
			w := wallet(r, p.Wallet)
			req, err := RequestIn(r.Chain.View(Name, nil), p.Wallet, p.Request)
			if err != nil {
				r.Fatalf("%v", err)
			}
			list, err := req.commitments(w)
			if err != nil {
				r.Fatalf("%v", err)
			}
			k := s.keys[p.Wallet+"/"+p.Holder]
			sh, err := k.Sign(s.nonces[fmt.Sprintf("%s/%d/%s", p.Wallet, p.Request, p.Holder)], req.Message, list)
			if err != nil {
				r.Fatalf("%v", err)
			}
			p.Share = sh.Bytes()
		}
		m = p
	default:
		return nil, false
	}
	return ledgertest.Body(r.T, m), true
}

func (s *sim) round2(r *ledgertest.Runner, walletID, did string) []Sealed {
	w := wallet(r, walletID)
	h := w.holder(did)
	r1, err := w.round1Packages()
	if err != nil {
		r.Fatalf("%v", err)
	}
	d := s.dkg[w.ID+"/"+did]
	if s.cheat[w.ID+"/"+strconv.Itoa(int(h.ID))] {
		d, r1 = cheater(r, w, h, r1)
	}
	out, err := d.Round2(rnd("round2", w.ID, did), r1)
	if err != nil {
		r.Fatalf("%v", err)
	}
	var sealed []Sealed
	for _, p := range out {
		to := w.Holders[p.Recipient-1]
		pk, err := ecdh.X25519().NewPublicKey(to.HPKE)
		if err != nil {
			r.Fatalf("%v", err)
		}
		hpk, err := hpke.NewDHKEMPublicKey(pk)
		if err != nil {
			r.Fatalf("%v", err)
		}
		ct, err := hpke.Seal(hpk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), SealInfo(w.Session, h.ID, to.ID), p.Bytes())
		if err != nil {
			r.Fatalf("%v", err)
		}
		sealed = append(sealed, Sealed{To: to.ID, Ciphertext: ct})
	}
	return sealed
}

// cheater returns a DKG for holder h with the same constant term as the
// one it committed to in round one but other coefficients, and the
// round-one list with its package in place of the committed one, so
// that its shares are signed under its committed key but do not match
// its commitments.
func cheater(r *ledgertest.Runner, w *Wallet, h *Holder, r1 []*frost.Round1Package) (*frost.DKG, []*frost.Round1Package) {
	posted := r1[h.ID-1].Bytes()
	for n := 1; n <= 256; n++ {
		prefix := make([]byte, n)
		if _, err := io.ReadFull(rnd("dkg", w.ID, h.DID), prefix); err != nil {
			r.Fatalf("%v", err)
		}
		d, pkg, err := w.suite().NewDKG(io.MultiReader(bytes.NewReader(prefix), rnd("cheat")), w.Session, frost.Identifier(h.ID), int(w.Threshold), len(w.Holders))
		if err != nil {
			r.Fatalf("%v", err)
		}
		// The same constant term: the first commitment is the same.
		el := len(w.GroupKey)
		if el == 0 {
			el = map[string]int{"ed25519": 32, "secp256k1": 33, "taproot": 33}[w.Suite]
		}
		if string(pkg.Bytes()[4:4+el]) == string(posted[4:4+el]) && string(pkg.Bytes()) != string(posted) {
			list := append([]*frost.Round1Package(nil), r1...)
			list[h.ID-1] = pkg
			return d, list
		}
	}
	r.Fatalf("no cheating polynomial found")
	return nil, nil
}

// open decrypts the share dealer sealed to did.
func (s *sim) open(r *ledgertest.Runner, w *Wallet, did string, dealer uint16) []byte {
	h := w.holder(did)
	sealed, err := SealedIn(r.Chain.View(Name, nil), w.ID, dealer)
	if err != nil {
		r.Fatalf("%v", err)
	}
	for _, sh := range sealed {
		if sh.To != h.ID {
			continue
		}
		k, err := hpke.NewDHKEMPrivateKey(hpkeKey(r, did))
		if err != nil {
			r.Fatalf("%v", err)
		}
		pt, err := hpke.Open(k, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), SealInfo(w.Session, dealer, h.ID), sh.Ciphertext)
		if err != nil {
			r.Fatalf("open share of dealer %d: %v", dealer, err)
		}
		return pt
	}
	r.Fatalf("dealer %d sealed nothing to holder %d", dealer, h.ID)
	return nil
}

func (s *sim) finish(r *ledgertest.Runner, walletID, name string) []string {
	w := wallet(r, walletID)
	did := r.Expand("<did:" + name + ">")
	h := w.holder(did)
	var received []*frost.Round2Package
	for _, o := range w.Holders {
		if o.ID == h.ID {
			continue
		}
		p, err := w.suite().DecodeRound2Package(s.open(r, w, did, o.ID))
		if err != nil {
			r.Fatalf("%v", err)
		}
		received = append(received, p)
	}
	r1, err := w.round1Packages()
	if err != nil {
		r.Fatalf("%v", err)
	}
	k, err := s.dkg[w.ID+"/"+did].Finish(r1, received)
	if err != nil {
		return []string{"finish: " + err.Error()}
	}
	s.keys[w.ID+"/"+did] = k
	return []string{fmt.Sprintf("holder %d has its share; group key %x matches the ledger's: %v", h.ID, k.Public().GroupKey(), string(k.Public().GroupKey()) == string(w.GroupKey))}
}

func verifySignature(r *ledgertest.Runner, walletID string, n uint64) []string {
	w := wallet(r, walletID)
	req, err := RequestIn(r.Chain.View(Name, nil), walletID, n)
	if err != nil {
		r.Fatalf("%v", err)
	}
	out := []string{fmt.Sprintf("%s verifies: %v", w.Suite, w.suite().Verify(w.GroupKey, req.Message, req.Signature) == nil)}
	if w.Suite == "ed25519" {
		out = append(out, fmt.Sprintf("crypto/ed25519 verifies: %v", ed25519.Verify(w.GroupKey, req.Message, req.Signature)))
	}
	return out
}
