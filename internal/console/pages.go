package console

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/ledger"
)

// The console's own pages.
var (
	homePage     = Parse(templates, "templates/home.html")
	searchPage   = Parse(templates, "templates/search.html")
	blockPage    = Parse(templates, "templates/block.html")
	txPage       = Parse(templates, "templates/tx.html")
	logPage      = Parse(templates, "templates/log.html")
	glossaryPage = Parse(templates, "templates/glossary.html")
)

func (c *Console) pages() []Page {
	return []Page{
		{Home, c.home},
		{"GET /search", c.search},
		{"GET /block/{height}", block},
		{"GET /tx/{hash}", transaction},
		{"GET /log", checkpoint},
		{"GET /glossary", c.glossary},
	}
}

// recentBlocks is how many blocks the home page lists.
const recentBlocks = 10

type blockRow struct {
	Height uint64
	Time   time.Time
	Txs    int
	Hash   string
}

func (c *Console) home(l Ledger, _ *http.Request) (*View, error) {
	inf, err := l.Info()
	if err != nil {
		return nil, err
	}
	d := struct {
		Info       wire.Info
		Blocks     []blockRow
		Txs        int
		Throughput string
		Checkpoint Check
	}{Info: inf, Checkpoint: Check{Kind: "checkpoint", Path: "/log/checkpoint", What: "the ledger's newest signed checkpoint"}}
	for i := range uint64(recentBlocks) {
		if i > inf.Height {
			break
		}
		b, err := l.Block(inf.Height - i)
		if err != nil {
			return nil, err
		}
		d.Blocks = append(d.Blocks, blockRow{inf.Height - i, time.UnixMilli(b.Header.Time).UTC(), len(b.Txs), b.Hash})
	}
	// The throughput over the blocks listed: the transactions of all but
	// the oldest, over the time from the oldest to the newest.
	for _, b := range d.Blocks[:len(d.Blocks)-1] {
		d.Txs += b.Txs
	}
	last, first := d.Blocks[0].Time, d.Blocks[len(d.Blocks)-1].Time
	d.Throughput = throughput(d.Txs, last.Sub(first))
	return &View{Title: "The ledger", Template: homePage, Data: d}, nil
}

// throughput says in words how many transactions a second n over span is.
func throughput(n int, span time.Duration) string {
	if span <= 0 || n == 0 {
		return "no transactions lately"
	}
	return fmt.Sprintf("%.1f transactions a second", float64(n)/span.Seconds())
}

// search sends the reader to the page of what they searched for: a block
// height, a transaction's hash, or whatever a section recognises (a DID,
// a name, a file's digest, a governance change).
func (c *Console) search(l Ledger, r *http.Request) (*View, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return &View{Title: "Search", Template: searchPage, Data: struct{ Query string }{}}, nil
	}
	if _, err := strconv.ParseUint(q, 10, 64); err == nil {
		return nil, &Redirect{"/block/" + q}
	}
	if b, err := hex.DecodeString(strings.ToLower(q)); err == nil && len(b) == 32 {
		if _, err := l.Tx(strings.ToLower(q)); err == nil {
			return nil, &Redirect{"/tx/" + strings.ToLower(q)}
		}
	}
	for _, s := range c.sections {
		if s.Resolve == nil {
			continue
		}
		if p := s.Resolve(l, q); p != "" {
			return nil, &Redirect{p}
		}
	}
	for _, s := range c.sections {
		if s.Fallback == nil {
			continue
		}
		if p := s.Fallback(l, q); p != "" {
			return nil, &Redirect{p}
		}
	}
	return &View{Title: "Nothing found", Template: searchPage, Data: struct{ Query string }{q}}, nil
}

func block(l Ledger, r *http.Request) (*View, error) {
	h, err := strconv.ParseUint(r.PathValue("height"), 10, 64)
	if err != nil {
		return nil, &wire.Error{Status: http.StatusBadRequest, Code: "invalid",
			Message: fmt.Sprintf("%q is not a block height", r.PathValue("height")), Hint: "a height is a whole number, such as 12"}
	}
	b, err := l.Block(h)
	if err != nil {
		return nil, err
	}
	inf, err := l.Info()
	if err != nil {
		return nil, err
	}
	d := struct {
		Height uint64
		Head   uint64
		Block  wire.BlockView
		What   []string
		Time   time.Time
		Checks []Check
	}{Height: h, Head: inf.Height, Block: b, Time: time.UnixMilli(b.Header.Time).UTC()}
	for _, t := range b.Txs {
		d.What = append(d.What, What(l, t.Module, t.Type))
	}
	for i, t := range b.Txs {
		if i == maxChecks {
			break
		}
		d.Checks = append(d.Checks, TxCheck(wire.TxClaim{Hash: t.Hash.String(), Height: h, Index: i, Code: t.Result.Code,
			Error: t.Result.Error, Module: t.Module, Type: t.Type}))
	}
	return &View{Title: fmt.Sprintf("Block %s", Num(h)), Template: blockPage, Data: d}, nil
}

// maxChecks bounds the checks of one page that lists transactions.
const maxChecks = 20

// TxCheck is the check that the transaction the claim shows is in the
// log as the claim shows it; its Digest is the claim as JSON, which the
// page's script passes to the verifier.
func TxCheck(c wire.TxClaim) Check {
	b, _ := json.Marshal(c)
	return Check{Kind: "tx", Path: "/v1/tx/" + c.Hash, Digest: string(b),
		What: fmt.Sprintf("that transaction %s… is in block %s", c.Hash[:8], Num(c.Height))}
}

// ViewClaim is what the transaction page shows of t: its kind, body,
// signers, result and what it did, and where it is.
func ViewClaim(t *wire.TxView) wire.TxClaim {
	leaf := t.LeafIndex
	c := wire.TxClaim{Hash: t.Hash.String(), Height: t.Height, Index: t.Index, Code: t.Result.Code, Error: t.Result.Error,
		ChainID: t.ChainID, Module: t.Module, Type: t.Type, Body: t.Body, LeafIndex: &leaf, Events: t.Result.Events,
		Signers: []wire.ClaimSigner{}}
	if c.Events == nil {
		c.Events = []ledger.Event{}
	}
	for _, s := range t.Signers {
		c.Signers = append(c.Signers, wire.ClaimSigner{Address: s.Address, Sequence: s.Sequence})
	}
	return c
}

func transaction(l Ledger, r *http.Request) (*View, error) {
	hash := strings.ToLower(r.PathValue("hash"))
	ans, err := l.Tx(hash)
	if err != nil {
		return nil, err
	}
	switch t := ans.(type) {
	case *wire.TxStatus:
		return &View{Title: "Transaction " + hash[:8] + "…", Template: txPage, Data: struct {
			Status *wire.TxStatus
			View   *wire.TxView
		}{t, nil}}, nil
	case *wire.TxView:
		d := struct {
			Status  *wire.TxStatus
			View    *wire.TxView
			What    string
			Signers []signer
			Check   Check
		}{View: t, What: What(l, t.Module, t.Type), Check: TxCheck(ViewClaim(t))}
		for _, s := range t.Signers {
			d.Signers = append(d.Signers, signer{SignerView: s, Label: labelOf(l, s.Address)})
		}
		d.Check.What = "that this transaction, with this content and result, is in the ledger"
		return &View{Title: "Transaction " + hash[:8] + "…", Template: txPage, Data: d}, nil
	}
	return nil, fmt.Errorf("console: unexpected transaction answer %T", ans)
}

// What says what a transaction of a module's type does, in words:
// "identity: create a DID with its first keys".
func What(l Ledger, module, typ string) string {
	if s := l.Describe(module, typ); s != "" {
		return module + ": " + s
	}
	return module + ": " + typ
}

type signer struct {
	wire.SignerView
	Label string
}

// labelOf is the ledger's label of the account at addr ("" if none).
func labelOf(l Ledger, addr string) string {
	a, err := l.Account(addr)
	if err != nil {
		return ""
	}
	return a.Label
}

type sigLine struct {
	Name, Role string
}

func checkpoint(l Ledger, _ *http.Request) (*View, error) {
	text, err := l.Checkpoint()
	if err != nil {
		return nil, err
	}
	inf, err := l.Info()
	if err != nil {
		return nil, err
	}
	body, sigs, _ := strings.Cut(text, "\n\n")
	d := struct {
		Text       string
		Origin     string
		Size       string
		Root       string
		Extensions []string
		Signatures []sigLine
		Witnesses  []string
		Check      Check
	}{Text: text, Witnesses: inf.Witnesses,
		Check: Check{Kind: "checkpoint", Path: "/log/checkpoint", What: "this checkpoint's signatures", Witnesses: inf.Witnesses}}
	lines := strings.Split(body, "\n")
	if len(lines) >= 3 {
		d.Origin, d.Size, d.Root = lines[0], lines[1], lines[2]
		d.Extensions = lines[3:]
	}
	if b, err := hexOf(d.Root); err == nil {
		d.Root = b
	}
	logName, _, _ := strings.Cut(inf.LogKey, "+")
	for _, ln := range strings.Split(strings.TrimSpace(sigs), "\n") {
		name, _, ok := strings.Cut(strings.TrimPrefix(ln, "— "), " ")
		if !ok {
			continue
		}
		role := "a witness"
		if name == logName {
			role = "this node's log key"
		}
		d.Signatures = append(d.Signatures, sigLine{name, role})
	}
	return &View{Title: "The log", Template: logPage, Data: d}, nil
}

// hexOf turns a checkpoint's base64 root into hex.
func hexOf(b64 string) (string, error) {
	c, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(c), nil
}

func (c *Console) glossary(Ledger, *http.Request) (*View, error) {
	terms := append([]Term{}, glossary...)
	for _, s := range c.sections {
		terms = append(terms, s.Glossary...)
	}
	return &View{Title: "Glossary", Template: glossaryPage, Data: terms}, nil
}
