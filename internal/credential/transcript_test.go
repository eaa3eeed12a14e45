package credential

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

const keySeed = "agora/credential-test/"

// ext is the transcript runner over identity, governance (the demo
// Community, whose identity deployers control the issuers registry) and
// this module. The stories extend it as identity's do:
//
//	do SIGNER identity create keys=NAME[:alg]/rel+rel,... next=<commit:NAME>
//	    the DID, which the output shows and arguments expand as
//	    <did:SIGNER>.
//
// <key:NAME> expands to NAME's public key in text form.
func ext() ledgertest.Ext {
	return ledgertest.Ext{
		Seed: keySeed,
		Modules: func() []ledger.Module {
			return []ledger.Module{identity.Module{}, gov.Module{}, Module{}}
		},
		Genesis: func(r *ledgertest.Runner, _ *ledgertest.Args, g *ledger.Genesis) {
			gj, err := json.Marshal(gov.Demo(func(name string) tx.PublicKey { _, k := r.Key(name); return k.Public() }))
			if err != nil {
				r.Fatalf("%v", err)
			}
			g.Modules[gov.Name] = gj
		},
		Body: func(r *ledgertest.Runner, a *ledgertest.Args, module, typ string) ([]byte, bool) {
			if module != identity.Name || typ != "create" {
				return nil, false
			}
			c := &identity.Create{}
			r.Fill(c, a)
			r.Name(c.DID(), "<did:"+a.Pos[0]+">")
			return ledgertest.Body(r.T, c), true
		},
		Values: map[reflect.Type]func(*ledgertest.Runner, string) any{
			reflect.TypeFor[identity.KeySpec](): func(r *ledgertest.Runner, s string) any {
				name, rels, _ := strings.Cut(s, "/")
				_, k := r.Key(name)
				return identity.KeySpec{PublicKey: k.Public(), Relationships: strings.Split(rels, "+")}
			},
		},
		Placeholder: func(r *ledgertest.Runner, name string) (string, bool) {
			if n, ok := strings.CutPrefix(name, "commit:"); ok {
				_, k := r.Key(n)
				return hex.EncodeToString(identity.Commitment(k.Public())), true
			}
			if n, ok := strings.CutPrefix(name, "key:"); ok {
				_, k := r.Key(n)
				return k.Public().String(), true
			}
			return "", false
		},
	}
}

// TestTranscripts runs the stories in testdata/*.txt.
func TestTranscripts(t *testing.T) { ledgertest.Run(t, ext()) }
