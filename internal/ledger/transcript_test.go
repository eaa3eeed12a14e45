package ledger_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestTranscripts runs the stories in testdata/*.txt with the one
// transcript runner (package ledgertest, whose documentation lists the
// commands), over the notary and testmod, which the stories extend:
//
//	genesis ... [notary=open|allowlist] [allow=alice,...]
//	    the notary's genesis policy.
//	tx SIGNERS notary anchor doc=TEXT|sha=HEX [media=M] [desc=D]
//	    anchors SHA-256 of TEXT, which the output shows as <doc:TEXT>.
//	tx SIGNERS testmod put key=K [value=V|pad=N] [fail=REASON]
//	    writes K (key stand/<NAME> gives NAME standing), then fails if asked.
func TestTranscripts(t *testing.T) {
	ledgertest.Run(t, ledgertest.Ext{
		Seed:     keySeed,
		Modules:  func() []ledger.Module { return []ledger.Module{notary.Module{}, testmod{}} },
		Genesis:  notaryGenesis,
		Body:     transcriptBody,
		Describe: describeNotary,
	})
}

func notaryGenesis(r *ledgertest.Runner, a *ledgertest.Args, g *ledger.Genesis) {
	mode := a.Get("notary", "")
	if mode == "" {
		return
	}
	p := notary.Policy{Mode: mode}
	for _, name := range a.List("allow") {
		_, k := r.Key(name)
		p.Allowed = append(p.Allowed, k.Public().Address())
	}
	raw, err := json.Marshal(notary.Genesis{Policy: p})
	if err != nil {
		r.Fatalf("%v", err)
	}
	g.Modules["notary"] = raw
}

func transcriptBody(r *ledgertest.Runner, a *ledgertest.Args, module, _ string) ([]byte, bool) {
	switch module {
	case "notary":
		var sum []byte
		if doc := a.Get("doc", ""); doc != "" {
			sum = digest(doc)
			r.Name(hex.EncodeToString(sum), "<doc:"+doc+">")
		} else {
			var err error
			if sum, err = hex.DecodeString(a.Get("sha", "")); err != nil {
				r.Fatalf("sha: %v", err)
			}
		}
		return anchorBody(r.T, sum, a.Get("media", "text/plain"), a.Get("desc", "")), true
	case "testmod":
		value := a.Get("value", "")
		if n := a.Uint("pad", 0); n > 0 {
			value = strings.Repeat("x", int(n))
		}
		return putBody(r.T, r.Expand(a.Get("key", "")), value, a.Get("fail", "")), true
	}
	return nil, false
}

// describeNotary renders the notary's values, whose layout it documents.
func describeNotary(key string, v []byte) (string, bool) {
	switch {
	case key == "notary/policy":
		var p notary.Policy
		if tx.Unmarshal(v, &p) == nil {
			s := "policy " + p.Mode
			if len(p.Allowed) > 0 {
				s += " allowed=" + strings.Join(p.Allowed, ",")
			}
			return s, true
		}
	case strings.HasPrefix(key, "notary/a/"):
		var r notary.Record
		if tx.Unmarshal(v, &r) == nil {
			s := fmt.Sprintf("record owner=%s media=%s height=%d time=%s tx=%s", r.Owner.Address(), r.MediaType, r.Height,
				time.UnixMilli(r.Time).UTC().Format(time.RFC3339Nano), r.TxID)
			if r.Description != "" {
				s += fmt.Sprintf(" desc=%q", r.Description)
			}
			return s, true
		}
	}
	return "", false
}
