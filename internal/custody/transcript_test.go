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
	"slices"
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
//	    (again: no longer) holder D of W deals round two from another polynomial with the
//	    same constant term, so its shares are signed but do not match its
//	    commitments.
//	verify W N
//	    checks request N's recorded signature with the suite's verifier
//	    (and crypto/ed25519 for an Ed25519 wallet).
//
// While W is rotating, round1 and round2 are a dealer's resharing
// (frost.Resharing.Deal with its key package), sealed to the new holders;
// round1 with fresh=1 posts a DKG package of a fresh secret instead (the
// group key would change); cheat W D makes dealer D (old identifier) seal
// shares of another polynomial with the same constant term; complain
// takes the dealer's old identifier; and
//
//	refinish W H
//	    new holder H opens the shares the dealers sealed to it and
//	    finishes its resharing: its key package replaces any old one.
func TestTranscripts(t *testing.T) {
	// HPKE draws its ephemeral keys from crypto/rand; a fixed source
	// keeps the sealed shares, and so the app hashes, the same each run.
	cryptotest.SetGlobalRandom(t, 16)
	sims := map[*ledgertest.Runner]*sim{}
	get := func(r *ledgertest.Runner) *sim {
		if sims[r] == nil {
			sims[r] = &sim{dkg: map[string]*frost.DKG{}, keys: map[string]*frost.KeyPackage{},
				nonces: map[string]*frost.Nonces{}, cheat: map[string]bool{}, dealt: map[string][]*frost.Round2Package{}}
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
			"refinish": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				return get(r).refinish(r, a.Pos[0], a.Pos[1])
			},
			"cheat": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				k := a.Pos[0] + "/" + a.Pos[1]
				get(r).cheat[k] = !get(r).cheat[k]
				if !get(r).cheat[k] {
					return []string{"holder " + a.Pos[1] + " deals honestly"}
				}
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
	dkg    map[string]*frost.DKG             // by wallet/holder
	keys   map[string]*frost.KeyPackage      // by wallet/holder
	nonces map[string]*frost.Nonces          // by wallet/request/holder
	cheat  map[string]bool                   // wallet/holder name
	dealt  map[string][]*frost.Round2Package // a rotation's shares, by wallet/rotation/dealer DID
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
		fresh := a.Uint("fresh", 0) == 1
		r.Fill(p, a)
		if w := wallet(r, p.Wallet); p.Package == nil && w.State == Rotating {
			p.Package = s.deal(r, w, p.Holder, fresh)
		} else if p.Package == nil {
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
		if w := wallet(r, p.Wallet); p.Shares == nil && w.State == Rotating {
			p.Shares = s.reseal(r, w, p.Holder)
		} else if p.Shares == nil {
			p.Shares = s.round2(r, p.Wallet, p.Holder)
		}
		m = p
	case "complain":
		p := &Complain{}
		dealer := a.Uint("dealer", 0)
		r.Fill(p, a)
		w := wallet(r, p.Wallet)
		if w.State == Rotating {
			p.Package = s.reopen(r, w, rotation(r, w), p.Holder, uint16(dealer))
		} else {
			p.Package = s.open(r, w, p.Holder, uint16(dealer))
		}
		m = p
	case "commit":
		p := &Commit{}
		r.Fill(p, a)
		if p.Commitments == nil {
			k := s.keys[p.Wallet+"/"+p.Holder]
			if k == nil {
				r.Fatalf("%s has no key for %s: finish first", p.Holder, p.Wallet)
			}
			seed := []string{"nonce", p.Wallet, p.Holder, fmt.Sprint(p.Request)}
			if p.Round > 0 {
				seed = append(seed, fmt.Sprint(p.Round)) // fresh nonces each round
			}
			n, c, err := k.Commit(rnd(seed...))
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
	case "accept":
		// The new holder proves it holds its share (refinish first); with
		// with=NAME, the proof is made with NAME's new share instead.
		p := &Accept{}
		with := a.Get("with", "")
		r.Fill(p, a)
		if p.Proof == nil {
			did := p.Holder
			if with != "" {
				did = r.Expand("<did:" + with + ">")
			}
			k := s.keys[p.Wallet+"/"+did]
			if k == nil {
				r.Fatalf("%s has no new share of %s: refinish first", did, p.Wallet)
			}
			proof, err := k.ProvePossession(rnd("pop", p.Wallet, did), PossessionContext(rotation(r, wallet(r, p.Wallet)).Session))
			if err != nil {
				r.Fatalf("%v", err)
			}
			p.Proof = proof
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
		sealed = append(sealed, Sealed{To: to.ID, Ciphertext: sealTo(r, to.HPKE, SealInfo(w.Session, h.ID, to.ID), p.Bytes())})
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

func rotation(r *ledgertest.Runner, w *Wallet) *Rotation {
	rot, err := RotationIn(r.Chain.View(Name, nil), w.ID, w.Rotations)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return rot
}

// deal is an old holder's resharing: its round-one package, keeping its
// shares for round two.
func (s *sim) deal(r *ledgertest.Runner, w *Wallet, did string, fresh bool) []byte {
	rot := rotation(r, w)
	rs, err := rot.Resharing(w.suite())
	if err != nil {
		r.Fatalf("%v", err)
	}
	h := w.holder(did)
	if !rot.Ready(w.Threshold) || find(rot.Dealers, did) == nil {
		return []byte{0} // refused before it is read
	}
	if fresh {
		_, pkg, err := w.suite().NewDKG(rnd("fresh", w.ID, did), rot.Session, frost.Identifier(h.ID), int(rot.Threshold), len(rot.Holders))
		if err != nil {
			r.Fatalf("%v", err)
		}
		return pkg.Bytes()
	}
	k := s.keys[w.ID+"/"+did]
	if k == nil {
		r.Fatalf("%s has no key for %s", did, w.ID)
	}
	pkg, out, err := rs.Deal(rnd("reshare", w.ID, did, fmt.Sprint(rot.N)), k)
	if err != nil {
		r.Fatalf("%v", err)
	}
	if s.cheat[w.ID+"/"+strconv.Itoa(int(h.ID))] {
		// Another polynomial with the same constant term: its shares are
		// signed under the committed key but do not match the commitments.
		if _, out, err = rs.Deal(rnd("cheat", w.ID, did), k); err != nil {
			r.Fatalf("%v", err)
		}
	}
	s.dealt[fmt.Sprintf("%s/%d/%s", w.ID, rot.N, did)] = out
	return pkg.Bytes()
}

// reseal seals a dealer's shares to the new holders.
func (s *sim) reseal(r *ledgertest.Runner, w *Wallet, did string) []Sealed {
	rot := rotation(r, w)
	h := w.holder(did)
	var sealed []Sealed
	for i, p := range s.dealt[fmt.Sprintf("%s/%d/%s", w.ID, rot.N, did)] {
		to := rot.Holders[i]
		sealed = append(sealed, Sealed{To: to.ID, Ciphertext: sealTo(r, to.HPKE, SealInfo(rot.Session, h.ID, to.ID), p.Bytes())})
	}
	return sealed
}

// reopen decrypts the share dealer (old identifier) sealed to new holder
// did in rotation rot.
func (s *sim) reopen(r *ledgertest.Runner, w *Wallet, rot *Rotation, did string, dealer uint16) []byte {
	h := find(rot.Holders, did)
	sealed, err := ResealedIn(r.Chain.View(Name, nil), w.ID, rot.N, dealer)
	if err != nil {
		r.Fatalf("%v", err)
	}
	i := slices.IndexFunc(sealed, func(x Sealed) bool { return x.To == h.ID })
	if i < 0 {
		r.Fatalf("dealer %d sealed nothing to new holder %d", dealer, h.ID)
	}
	k, err := hpke.NewDHKEMPrivateKey(hpkeKey(r, did))
	if err != nil {
		r.Fatalf("%v", err)
	}
	pt, err := hpke.Open(k, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), SealInfo(rot.Session, dealer, h.ID), sealed[i].Ciphertext)
	if err != nil {
		r.Fatalf("open share of dealer %d: %v", dealer, err)
	}
	return pt
}

func (s *sim) refinish(r *ledgertest.Runner, walletID, name string) []string {
	w := wallet(r, walletID)
	rot := rotation(r, w)
	did := r.Expand("<did:" + name + ">")
	h := find(rot.Holders, did)
	rs, err := rot.Resharing(w.suite())
	if err != nil {
		r.Fatalf("%v", err)
	}
	var r1 []*frost.Round1Package
	var received []*frost.Round2Package
	for _, d := range rot.Dealers {
		p1, err := w.suite().DecodeRound1Package(d.Round1)
		if err != nil {
			r.Fatalf("%v", err)
		}
		r1 = append(r1, p1)
		p2, err := w.suite().DecodeRound2Package(s.reopen(r, w, rot, did, d.ID))
		if err != nil {
			r.Fatalf("%v", err)
		}
		received = append(received, p2)
	}
	k, err := rs.Finish(frost.Identifier(h.ID), r1, received)
	if err != nil {
		return []string{"refinish: " + err.Error()}
	}
	s.keys[w.ID+"/"+did] = k
	return []string{fmt.Sprintf("new holder %d has its share; group key %x matches the ledger's: %v", h.ID, k.Public().GroupKey(), string(k.Public().GroupKey()) == string(w.GroupKey))}
}

// sealTo seals pt to an X25519 public key with HPKE, as a signer does.
func sealTo(r *ledgertest.Runner, to, info, pt []byte) []byte {
	pk, err := ecdh.X25519().NewPublicKey(to)
	if err != nil {
		r.Fatalf("%v", err)
	}
	hpk, err := hpke.NewDHKEMPublicKey(pk)
	if err != nil {
		r.Fatalf("%v", err)
	}
	ct, err := hpke.Seal(hpk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), info, pt)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return ct
}
