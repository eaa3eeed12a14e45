// Package probe is a module that breaks the rules of the deterministic
// core: it reads the wall clock, starts a goroutine, and reaches into
// another module past its read API. It is not in the registry, and it
// imports internal/cli and a companion package (TestProbesFailTheCLIRules).
// TestProbeModuleFailsTheRules checks that archtest finds it a module and
// fails it on each count; it is never built (testdata).
package probe

import (
	"encoding/json"
	"time"

	_ "github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/gov"
	"github.com/agora-ledger/agora/internal/ledger"
	_ "github.com/agora-ledger/agora/internal/notary/notarycli"
)

type Module struct{}

type stamp struct{ At int64 }

func (*stamp) Validate() error { return nil }

func (Module) Name() string { return "probe" }

func (Module) Decode(typ string, body []byte) (ledger.Msg, error) { return &stamp{}, nil }

func (Module) Execute(ctx *ledger.Context, msg ledger.Msg) error {
	msg.(*stamp).At = time.Now().UnixMilli()
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	_ = gov.Demo(nil)
	_, _, err := gov.EntryIn(ctx.View(gov.Name), "root", "k")
	return err
}

func (Module) Queries() []ledger.Query { return nil }

func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error { return nil }

func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) { return nil, nil }
