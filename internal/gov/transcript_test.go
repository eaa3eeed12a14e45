package gov

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/ledger/ledgertest"
	"github.com/agora-ledger/agora/internal/tx"
)

// TestTranscripts runs the stories in testdata/*.txt with the one
// transcript runner (package ledgertest, whose documentation lists the
// commands) over the demo Community (Demo), each name's key derived with
// keySeed. The stories extend it:
//
//	do SIGNERS gov TYPE field=value...
//	    a document field takes a title: the document TITLE with the text
//	    "TITLE: the full text.", whose id the output shows as <doc:TITLE>
//	    (and arguments expand); a member field takes a name (its key) or
//	    NAME@BODY (a member body).
//	change N
//	    prints change N's status, round and timeline, in seconds since
//	    genesis.
//	emergency N
//	    prints emergency N's status and timeline.
func TestTranscripts(t *testing.T) {
	ledgertest.Run(t, ledgertest.Ext{
		Seed:    keySeed,
		Modules: func() []ledger.Module { return []ledger.Module{newModule()} },
		Genesis: func(r *ledgertest.Runner, _ *ledgertest.Args, g *ledger.Genesis) {
			gj, err := json.Marshal(Demo(func(name string) tx.PublicKey { _, k := r.Key(name); return k.Public() }))
			if err != nil {
				r.Fatalf("%v", err)
			}
			g.Modules[Name] = gj
		},
		Values: map[reflect.Type]func(*ledgertest.Runner, string) any{
			reflect.TypeFor[DocRef](): func(r *ledgertest.Runner, title string) any { return docNamed(r, title) },
			reflect.TypeFor[Member](): func(r *ledgertest.Runner, s string) any {
				if name, body, ok := strings.Cut(s, "@"); ok {
					return Member{Name: name, Body: body}
				}
				_, k := r.Key(s)
				pub := k.Public()
				return Member{Name: s, Key: &pub}
			},
		},
		Placeholder: func(r *ledgertest.Runner, name string) (string, bool) {
			if title, ok := strings.CutPrefix(name, "doc:"); ok {
				return docNamed(r, title).ID(), true
			}
			return "", false
		},
		Commands: map[string]func(*ledgertest.Runner, *ledgertest.Args) []string{
			"change": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				c, err := reader(r.Chain.View(Name, nil)).change(recordID(r, a))
				if err != nil {
					return []string{"error: " + err.Error()}
				}
				return append([]string{fmt.Sprintf("= change %d %q: %s (round %d)", c.ID, c.Title, c.Status, c.Round)},
					timeline(r, c.Timeline)...)
			},
			"emergency": func(r *ledgertest.Runner, a *ledgertest.Args) []string {
				e, err := reader(r.Chain.View(Name, nil)).emergency(recordID(r, a))
				if err != nil {
					return []string{"error: " + err.Error()}
				}
				return append([]string{fmt.Sprintf("= emergency %d %q: %s", e.ID, e.Title, e.Status)}, timeline(r, e.Timeline)...)
			},
		},
	})
}

const keySeed = "agora/gov-test/"

func newModule() Module {
	mod := Module{}
	mod.Actions = ledger.NewActions(mod)
	return mod
}

// docNamed is doc(title), which the output shows as <doc:title>.
func docNamed(r *ledgertest.Runner, title string) DocRef {
	d := doc(title)
	r.Name(hex.EncodeToString(d.SHA256), "<doc:"+title+">")
	return d
}

func recordID(r *ledgertest.Runner, a *ledgertest.Args) uint64 {
	if len(a.Pos) != 1 {
		r.Fatalf("usage: change|emergency N")
	}
	id, err := strconv.ParseUint(a.Pos[0], 10, 64)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return id
}

func timeline(r *ledgertest.Runner, steps []Step) []string {
	var lines []string
	for _, st := range steps {
		lines = append(lines, fmt.Sprintf("    %s  %s%s%s", time.UnixMilli(int64(st.Time)).Sub(r.Chain.Start), st.What, prefix(" by ", st.By), prefix(": ", st.Note)))
	}
	return lines
}

func prefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

const testChain = ledgertest.ChainID

func pubFor(name string) tx.PublicKey { return ledgertest.Key(keySeed, name, tx.Ed25519).Public() }

func doc(title string) DocRef { return NewDocRef(title, title+": the full text.") }

func member(name string) Member {
	k := pubFor(name)
	return Member{Name: name, Key: &k}
}
