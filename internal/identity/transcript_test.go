package identity

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
)

// TestTranscripts runs the stories in testdata/*.txt with the one
// transcript runner (package ledgertest, whose documentation lists the
// commands), each name's key derived with keySeed. The stories extend it:
//
//	do SIGNER identity create keys=NAME[:alg]/rel+rel,... next=<commit:NAME[:alg]>
//	    the DID, which the output shows and arguments expand as
//	    <did:SIGNER>; a key field of a message (KeySpec) is
//	    NAME[:alg]/relationship+relationship..., and <commit:NAME> is the
//	    pre-rotation commitment to NAME's key.
func TestTranscripts(t *testing.T) {
	ledgertest.Run(t, ledgertest.Ext{
		Seed:    keySeed,
		Modules: func() []ledger.Module { return []ledger.Module{Module{}} },
		Body: func(r *ledgertest.Runner, a *ledgertest.Args, module, typ string) ([]byte, bool) {
			if module != Name || typ != "create" {
				return nil, false
			}
			c := &Create{}
			r.Fill(c, a)
			r.Name(c.DID(), "<did:"+a.Pos[0]+">")
			return ledgertest.Body(r.T, c), true
		},
		Values: map[reflect.Type]func(*ledgertest.Runner, string) any{
			reflect.TypeFor[KeySpec](): func(r *ledgertest.Runner, s string) any {
				name, rels, _ := strings.Cut(s, "/")
				_, k := r.Key(name)
				return KeySpec{PublicKey: k.Public(), Relationships: strings.Split(rels, "+")}
			},
		},
		Placeholder: func(r *ledgertest.Runner, name string) (string, bool) {
			if n, ok := strings.CutPrefix(name, "commit:"); ok {
				_, k := r.Key(n)
				return hex.EncodeToString(Commitment(k.Public())), true
			}
			return "", false
		},
	})
}
