package asset

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

const keySeed = "agora/asset-test/"

// testProviders are the accredited data providers of the test genesis,
// each with the key of its name.
var testProviders = []string{"sat-a", "sat-b", "sat-c"}

func modules() []ledger.Module {
	mods := []ledger.Module{identity.Module{}, Module{}, gov.Module{}}
	mods[2] = gov.Module{Actions: ledger.NewActions(mods...)}
	return mods
}

// testGenesis fills g with the demo Community of governance, a registry
// oracles (controlled by the identity deployers) accrediting
// testProviders, and no assets.
func testGenesis(key func(string) tx.PublicKey, g *ledger.Genesis) error {
	d := gov.Demo(key)
	d.Resources = append(d.Resources, gov.Resource{ID: ProvidersResource, Parent: gov.RootResource, Name: "Accredited data providers", Controller: "identity"})
	for _, p := range testProviders {
		d.Entries = append(d.Entries, gov.GenesisEntry{Resource: ProvidersResource, Entry: gov.Entry{Key: p, Value: key(p).String(), By: "identity"}})
	}
	gj, err := json.Marshal(d)
	if err != nil {
		return err
	}
	g.Modules[gov.Name] = gj
	return nil
}

// TestTranscripts runs the stories in testdata/*.txt with the one
// transcript runner (package ledgertest, whose documentation lists the
// commands) over identity, asset and governance, with the demo Community
// and the providers sat-a, sat-b and sat-c accredited. The stories
// extend it:
//
//	do SIGNER identity create keys=NAME/capabilityInvocation next=<commit:NEXT>
//	    a DID, shown and expanded as <did:SIGNER>.
//	do SIGNER asset register id=ID owner=DID place=LAT,LON [metadata=k:v,...]
//	do SIGNER asset add-rule asset=ID type=T center=LAT,LON radius=M
//	        from=RFC3339 until=RFC3339 [min=N] providers=a,b,c threshold=K
//	        to=DID [window=DURATION]
//	do SIGNER asset submit asset=ID rule=N type=T place=LAT,LON
//	        time=RFC3339 value=N sign=PROVIDER[@KEYNAME],...
//	        [corrupt=PROVIDER] [obschain=ID]
//	    the observation is signed by each provider named, with the key of
//	    its own name or of KEYNAME; corrupt flips a bit of one signature.
//	do SIGNER gov set-entry resource=R key=PROVIDER keyof=KEYNAME
//	    sets a registry entry to the public key of KEYNAME (accredits or
//	    re-keys a provider).
func TestTranscripts(t *testing.T) {
	ledgertest.Run(t, ledgertest.Ext{
		Seed:    keySeed,
		Modules: modules,
		Genesis: func(r *ledgertest.Runner, _ *ledgertest.Args, g *ledger.Genesis) {
			if err := testGenesis(func(n string) tx.PublicKey { _, k := r.Key(n); return k.Public() }, g); err != nil {
				r.Fatalf("%v", err)
			}
		},
		Body: func(r *ledgertest.Runner, a *ledgertest.Args, module, typ string) ([]byte, bool) {
			switch {
			case module == identity.Name && typ == "create":
				c := &identity.Create{}
				r.Fill(c, a)
				r.Name(c.DID(), "<did:"+a.Pos[0]+">")
				return ledgertest.Body(r.T, c), true
			case module == gov.Name && typ == "set-entry" && a.Has("keyof"):
				// The registry of providers holds public keys as text.
				_, k := r.Key(a.Get("keyof", ""))
				return ledgertest.Body(r.T, &gov.SetEntry{Resource: a.Get("resource", ""), Key: a.Get("key", ""), Value: k.Public().String()}), true
			case module == Name && typ == "add-rule":
				return ledgertest.Body(r.T, ruleArgs(r, a)), true
			case module == Name && typ == "submit":
				return ledgertest.Body(r.T, submitArgs(r, a)), true
			}
			return nil, false
		},
		Placeholder: func(r *ledgertest.Runner, name string) (string, bool) {
			if n, ok := strings.CutPrefix(name, "commit:"); ok {
				_, k := r.Key(n)
				return hex.EncodeToString(identity.Commitment(k.Public())), true
			}
			return "", false
		},
		Values: map[reflect.Type]func(*ledgertest.Runner, string) any{
			reflect.TypeFor[identity.KeySpec](): func(r *ledgertest.Runner, s string) any {
				name, rels, _ := strings.Cut(s, "/")
				_, k := r.Key(name)
				return identity.KeySpec{PublicKey: k.Public(), Relationships: strings.Split(rels, "+")}
			},
			reflect.TypeFor[gov.DocRef](): func(r *ledgertest.Runner, title string) any {
				return gov.NewDocRef(title, title+": the full text.")
			},
			reflect.TypeFor[Point](): func(r *ledgertest.Runner, s string) any { return point(r, s) },
			reflect.TypeFor[Meta](): func(r *ledgertest.Runner, s string) any {
				k, v, _ := strings.Cut(s, ":")
				return Meta{Key: k, Value: v}
			},
		},
	})
}

func point(r *ledgertest.Runner, s string) Point {
	p, err := ParsePoint(s)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return p
}

func ruleArgs(r *ledgertest.Runner, a *ledgertest.Args) *AddRule {
	w, err := time.ParseDuration(a.Get("window", "0s"))
	if err != nil {
		r.Fatalf("window: %v", err)
	}
	min := argInt(r, a.Get("min", "0"))
	return &AddRule{
		Asset: a.Get("asset", ""),
		Condition: Condition{Type: a.Get("type", ""), Center: point(r, a.Get("center", "0,0")), Radius: uint32(a.Uint("radius", 0)),
			From: a.Time("from", time.Time{}).UnixMilli(), Until: a.Time("until", time.Time{}).UnixMilli(), MinValue: min},
		Providers:     a.List("providers"),
		Threshold:     uint32(a.Uint("threshold", 0)),
		TransferTo:    r.Expand(a.Get("to", "")),
		DisputeWindow: uint64(w / time.Millisecond),
	}
}

func argInt(r *ledgertest.Runner, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.Fatalf("%q: %v", s, err)
	}
	return n
}

func submitArgs(r *ledgertest.Runner, a *ledgertest.Args) *Submit {
	value := argInt(r, a.Get("value", "0"))
	o := Observation{Chain: a.Get("obschain", ledgertest.ChainID), Type: a.Get("type", ""), Place: point(r, a.Get("place", "0,0")),
		Time: a.Time("time", time.Time{}).UnixMilli(), Value: value}
	if d := a.Get("data", ""); d != "" {
		b, err := hex.DecodeString(d)
		if err != nil {
			r.Fatalf("data: %v", err)
		}
		o.Data = b
	}
	m := &Submit{Asset: a.Get("asset", ""), Rule: a.Uint("rule", 0), Observation: o}
	corrupt := a.Get("corrupt", "")
	for _, s := range a.List("sign") {
		provider, keyName, ok := strings.Cut(s, "@")
		if !ok {
			keyName = provider
		}
		_, k := r.Key(keyName)
		sig, err := o.Sign(provider, k, nil)
		if err != nil {
			r.Fatalf("%v", err)
		}
		if provider == corrupt {
			sig.Sig[0] ^= 1
		}
		m.Signatures = append(m.Signatures, sig)
	}
	return m
}
