package ledger_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/notary"
	"github.com/agora-ledger/agora/internal/tx"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txt")

// TestTranscripts runs the stories in testdata/*.txt. Each is a sequence
// of commands, each followed by "----" and the output it must produce,
// ending at a blank line; lines starting with "#" are commentary. With
// -update the expected output is rewritten, so a rule change shows as a
// readable diff of the transcripts.
//
// Commands:
//
//	genesis [accounts=alice,bob,carol:p256] [notary=open|allowlist] [allow=alice,...]
//	        [max_block_txs=N] [max_block_bytes=N] [max_tx_bytes=N]
//	        [free_block_txs=N] [free_block_bytes=N] [time=RFC3339]
//	    starts a ledger from a genesis naming those accounts, and prints its state.
//	tx SIGNERS MODULE TYPE [seq=N,...] [expiry_height=N] [expiry_time=RFC3339]
//	        [chain=ID] [sig=corrupt|NAME] [label=L] [fields...]
//	    signs a transaction and stages it for the next block. SIGNERS is
//	    comma-separated; sequences default to each signer's committed sequence
//	    plus its staged transactions; the expiry defaults to height 1000.
//	    sig=corrupt flips a bit of the first signature, sig=NAME makes NAME's
//	    key sign in the first signer's place. Fields: notary anchor takes
//	    doc=TEXT (anchors SHA-256 of TEXT) or sha=HEX, media= and desc=;
//	    testmod put takes key= (where <NAME> stands for NAME's address: key
//	    stand/<NAME> gives NAME standing), value= (or pad=N for N bytes) and
//	    fail=REASON;
//	    body=HEX sets the raw body.
//	replay LABEL
//	    stages again the exact bytes of an earlier transaction.
//	block [time=RFC3339] [validate]
//	    applies the staged transactions as the next block (one second after the
//	    last by default), proposing or, with "validate", validating, and prints
//	    each transaction's result, the dropped ones, the app hash and the writes.
//	state [prefix=P]
//	    prints the committed state.
//
// Keys are derived from the names; in the output, addresses appear as
// <name>, transaction IDs as <label> and anchored digests as <doc:TEXT>.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runTranscript(t, f)
		})
	}
}

type tcase struct {
	pre  []string // commentary and blank lines before the command
	line int
	cmd  string
	want []string
}

func parseTranscript(t *testing.T, path string) (cases []tcase, tail []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		c := tcase{pre: pre, line: i + 1, cmd: l}
		pre = nil
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: command not followed by ----", path, i+1)
		}
		i += 2
		for ; i < len(lines) && lines[i] != ""; i++ {
			c.want = append(c.want, lines[i])
		}
		cases = append(cases, c)
	}
	return cases, pre
}

func runTranscript(t *testing.T, path string) {
	cases, tail := parseTranscript(t, path)
	h := &transcript{t: t, path: path, keys: map[string]*tx.PrivateKey{}, raws: map[string][]byte{}}
	var out []string
	for i, c := range cases {
		h.line = c.line
		got := h.run(c.cmd)
		for _, l := range got {
			if strings.TrimSpace(l) == "" {
				t.Fatalf("%s:%d: output has a blank line", path, c.line)
			}
		}
		if !*update {
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("%s:%d: %s\noutput differs (-want +got):\n%s", path, c.line, c.cmd, diff)
			}
		}
		out = append(out, c.pre...)
		out = append(out, c.cmd, "----")
		out = append(out, got...)
		if i < len(cases)-1 || len(tail) > 0 {
			out = append(out, "") // ends the output
		}
	}
	out = append(out, tail...)
	if *update {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// transcript is the interpreter's state: one ledger in memory.
type transcript struct {
	t    *testing.T
	path string
	line int

	exec   *ledger.Executor
	state  memState
	head   ledger.Header
	keys   map[string]*tx.PrivateKey
	subst  []string // old, new pairs for the output
	raws   map[string][]byte
	staged []staged
	nextID int
}

type staged struct {
	label string
	raw   []byte
}

func (h *transcript) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s:%d: %s", h.path, h.line, fmt.Sprintf(format, args...))
}

type cmdArgs struct {
	h    *transcript
	pos  []string
	kv   map[string]string
	used map[string]bool
}

func (a *cmdArgs) get(k, def string) string {
	a.used[k] = true
	if v, ok := a.kv[k]; ok {
		return v
	}
	return def
}

func (a *cmdArgs) has(k string) bool { _, ok := a.kv[k]; return ok }

func (a *cmdArgs) uint(k string, def uint64) uint64 {
	v := a.get(k, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		a.h.fatalf("%s=%s: %v", k, v, err)
	}
	return n
}

func (a *cmdArgs) time(k string, def time.Time) time.Time {
	v := a.get(k, "")
	if v == "" {
		return def
	}
	tm, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		a.h.fatalf("%s=%s: %v", k, v, err)
	}
	return tm
}

func (a *cmdArgs) list(k string) []string {
	v := a.get(k, "")
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// tokenize splits a command line at spaces, keeping double-quoted values
// (key="a b") together.
func tokenize(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func (h *transcript) run(line string) []string {
	toks := tokenize(line)
	a := &cmdArgs{h: h, kv: map[string]string{}, used: map[string]bool{}}
	for _, tok := range toks[1:] {
		if k, v, ok := strings.Cut(tok, "="); ok {
			a.kv[k] = v
		} else {
			a.pos = append(a.pos, tok)
		}
	}
	var out []string
	switch toks[0] {
	case "genesis":
		out = h.genesis(a)
	case "tx":
		out = h.tx(a)
	case "replay":
		out = h.replay(a)
	case "block":
		out = h.block(a)
	case "state":
		out = h.dumpState(a.get("prefix", ""))
	default:
		h.fatalf("unknown command %q", toks[0])
	}
	for k := range a.kv {
		if !a.used[k] {
			h.fatalf("%s: unknown argument %s=", toks[0], k)
		}
	}
	r := strings.NewReplacer(h.subst...)
	for i := range out {
		out[i] = r.Replace(out[i])
	}
	return out
}

// key returns the key of a name, making an Ed25519 key for a new name;
// "name:alg" picks the algorithm the first time a name is used.
func (h *transcript) key(spec string) (string, *tx.PrivateKey) {
	name, algName, hasAlg := strings.Cut(spec, ":")
	if k, ok := h.keys[name]; ok {
		if hasAlg && k.Alg().String() != algName {
			h.fatalf("key %s is already %s", name, k.Alg())
		}
		return name, k
	}
	alg := tx.Ed25519
	if hasAlg {
		var err error
		if alg, err = tx.ParseAlg(algName); err != nil {
			h.fatalf("%v", err)
		}
	}
	k := keyFor(h.t, name, alg)
	h.keys[name] = k
	h.subst = append(h.subst, k.Public().Address(), "<"+name+">")
	return name, k
}

func (h *transcript) genesis(a *cmdArgs) []string {
	h.exec = newExecutor(h.t)
	g := &ledger.Genesis{
		ChainID: testChain,
		Time:    a.time("time", genesisTime),
		Params:  ledger.DefaultParams(),
		Modules: map[string]json.RawMessage{},
	}
	g.Params.MaxBlockTxs = a.uint("max_block_txs", g.Params.MaxBlockTxs)
	g.Params.MaxBlockBytes = a.uint("max_block_bytes", g.Params.MaxBlockBytes)
	g.Params.MaxTxBytes = a.uint("max_tx_bytes", g.Params.MaxTxBytes)
	for k, p := range map[string]**uint64{"free_block_txs": &g.Params.FreeBlockTxs, "free_block_bytes": &g.Params.FreeBlockBytes} {
		if a.has(k) {
			n := a.uint(k, 0)
			*p = &n
		}
	}
	for _, spec := range a.list("accounts") {
		name, k := h.key(spec)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: name, Key: k.Public()})
	}
	if mode := a.get("notary", ""); mode != "" {
		p := notary.Policy{Mode: mode}
		for _, name := range a.list("allow") {
			_, k := h.key(name)
			p.Allowed = append(p.Allowed, k.Public().Address())
		}
		raw, err := json.Marshal(notary.Genesis{Policy: p})
		if err != nil {
			h.fatalf("%v", err)
		}
		g.Modules["notary"] = raw
	}
	// Go through the file form, as a node does.
	enc, err := g.Encode()
	if err != nil {
		h.fatalf("%v", err)
	}
	g, err = ledger.ParseGenesis(enc)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out, err := h.exec.InitGenesis(g)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	h.state = memState{}
	h.state.applyOutcome(out)
	h.head = out.Header
	lines := []string{fmt.Sprintf("genesis chain=%s time=%s", out.Header.ChainID, fmtMillis(out.Header.Time)),
		"app_hash " + hexID(out.Header.AppHash)}
	return append(lines, h.dumpState("")...)
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

func (h *transcript) committedSeq(k *tx.PrivateKey) uint64 {
	acct, err := ledger.GetAccount(h.state, k.Public())
	if err != nil {
		h.fatalf("%v", err)
	}
	return acct.Sequence
}

func (h *transcript) tx(a *cmdArgs) []string {
	if h.exec == nil {
		h.fatalf("tx before genesis")
	}
	if len(a.pos) != 3 {
		h.fatalf("usage: tx SIGNERS MODULE TYPE [args]")
	}
	spec := txSpec{
		chain: a.get("chain", testChain), module: a.pos[1], typ: a.pos[2],
		expHeight: a.uint("expiry_height", 0),
	}
	if a.has("expiry_time") {
		spec.expTime = a.time("expiry_time", time.Time{}).UnixMilli()
	}
	if !a.has("expiry_height") && !a.has("expiry_time") {
		spec.expHeight = 1000
	}
	var names []string
	for _, n := range strings.Split(a.pos[0], ",") {
		name, k := h.key(n)
		names = append(names, name)
		spec.signers = append(spec.signers, k)
	}
	if seqs := a.list("seq"); seqs != nil {
		if len(seqs) != len(names) {
			h.fatalf("seq= gives %d sequences for %d signers", len(seqs), len(names))
		}
		for _, s := range seqs {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				h.fatalf("seq: %v", err)
			}
			spec.seqs = append(spec.seqs, n)
		}
	} else {
		for _, k := range spec.signers {
			n := h.committedSeq(k)
			for _, s := range h.staged {
				if h.signedBy(s.raw, k) {
					n++
				}
			}
			spec.seqs = append(spec.seqs, n)
		}
	}
	switch {
	case a.has("body"):
		b, err := hex.DecodeString(a.get("body", ""))
		if err != nil {
			h.fatalf("body: %v", err)
		}
		spec.body = b
	case spec.module == "notary":
		var sum []byte
		if doc := a.get("doc", ""); doc != "" {
			sum = digest(doc)
			h.subst = append(h.subst, hex.EncodeToString(sum), "<doc:"+doc+">")
		} else {
			var err error
			if sum, err = hex.DecodeString(a.get("sha", "")); err != nil {
				h.fatalf("sha: %v", err)
			}
		}
		spec.body = anchorBody(h.t, sum, a.get("media", "text/plain"), a.get("desc", ""))
	case spec.module == "testmod":
		value := a.get("value", "")
		if n := a.uint("pad", 0); n > 0 {
			value = strings.Repeat("x", int(n))
		}
		key := a.get("key", "")
		if pre, name, ok := strings.Cut(key, "<"); ok && strings.HasSuffix(name, ">") {
			_, k := h.key(strings.TrimSuffix(name, ">"))
			key = pre + k.Public().Address()
		}
		spec.body = putBody(h.t, key, value, a.get("fail", ""))
	default:
		spec.body = []byte{0xa0} // an empty map
	}
	raw := signTx(h.t, spec)
	switch sig := a.get("sig", ""); sig {
	case "":
	case "corrupt":
		raw = h.resign(raw, func(s *tx.Signed) { s.Sigs[0][0] ^= 1 })
	default:
		_, other := h.key(sig)
		raw = h.resign(raw, func(s *tx.Signed) {
			b, err := other.Sign(nil, tx.SignedMessage(s.Tx))
			if err != nil {
				h.fatalf("%v", err)
			}
			s.Sigs[0] = b
		})
	}
	h.nextID++
	label := a.get("label", fmt.Sprintf("t%d", h.nextID))
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		h.fatalf("%v", err)
	}
	id := s.ID()
	h.subst = append(h.subst, hex.EncodeToString(id[:]), "<"+label+">")
	h.raws[label] = raw
	h.staged = append(h.staged, staged{label: label, raw: raw})
	return []string{fmt.Sprintf("staged %s: %s %s/%s seq=%s (%d bytes)", label, strings.Join(names, ","), spec.module, spec.typ, joinUints(spec.seqs), len(raw))}
}

func joinUints(ns []uint64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatUint(n, 10)
	}
	return strings.Join(s, ",")
}

func (h *transcript) signedBy(raw []byte, k *tx.PrivateKey) bool {
	var s tx.Signed
	var x tx.Tx
	if tx.Unmarshal(raw, &s) != nil || tx.Unmarshal(s.Tx, &x) != nil {
		return false
	}
	return slices.ContainsFunc(x.Signers, func(s tx.Signer) bool { return s.Key.Equal(k.Public()) })
}

func (h *transcript) resign(raw []byte, edit func(*tx.Signed)) []byte {
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		h.fatalf("%v", err)
	}
	edit(&s)
	b, err := s.Encode()
	if err != nil {
		h.fatalf("%v", err)
	}
	return b
}

func (h *transcript) replay(a *cmdArgs) []string {
	if len(a.pos) != 1 || h.raws[a.pos[0]] == nil {
		h.fatalf("usage: replay LABEL (of an earlier tx)")
	}
	h.staged = append(h.staged, staged{label: a.pos[0], raw: h.raws[a.pos[0]]})
	return []string{"staged " + a.pos[0] + " again"}
}

func (h *transcript) block(a *cmdArgs) []string {
	validate := slices.Contains(a.pos, "validate")
	b := ledger.Block{
		ChainID: testChain,
		Height:  h.head.Height + 1,
		Time:    a.time("time", time.UnixMilli(h.head.Time).UTC().Add(time.Second)),
	}
	var raws [][]byte
	labels := map[[32]byte]string{}
	for _, s := range h.staged {
		raws = append(raws, s.raw)
		labels[sha256.Sum256(s.raw)] = s.label
	}
	h.staged = nil
	mode := "propose"
	if validate {
		mode = "validate"
	}
	head := fmt.Sprintf("block %d time=%s %s", b.Height, b.Time.UTC().Format(time.RFC3339Nano), mode)
	out, err := h.exec.Apply(h.state, &h.head, b, raws, !validate)
	if err != nil {
		return []string{head, "error: " + err.Error(), "state unchanged"}
	}
	lines := []string{head}
	for i, raw := range out.Txs {
		r := out.Results[i]
		l := labels[sha256.Sum256(raw)] + " " + r.Code
		if r.Error != "" {
			l += ": " + r.Error
		}
		lines = append(lines, l)
		for _, e := range r.Events {
			ev := "  event " + e.Module + "/" + e.Type
			for _, at := range e.Attrs {
				ev += " " + at.Key + "=" + at.Value
			}
			lines = append(lines, ev)
		}
	}
	for _, d := range out.Dropped {
		lines = append(lines, fmt.Sprintf("dropped %s %s: %v", labels[sha256.Sum256(d.Raw)], ledger.Code(d.Err), d.Err))
	}
	lines = append(lines, "app_hash "+hexID(out.Header.AppHash))
	if len(out.Writes) == 0 {
		lines = append(lines, "no writes")
	} else {
		lines = append(lines, "writes:")
	}
	for _, w := range out.Writes {
		if w.Value == nil {
			lines = append(lines, "  "+string(w.Key)+" deleted")
		} else {
			lines = append(lines, "  "+string(w.Key)+" = "+describeValue(string(w.Key), w.Value))
		}
	}
	h.state.applyOutcome(out)
	h.head = out.Header
	return lines
}

func (h *transcript) dumpState(prefix string) []string {
	var lines []string
	for _, k := range h.state.keys() {
		if strings.HasPrefix(k, prefix) {
			lines = append(lines, k+" = "+describeValue(k, h.state[k]))
		}
	}
	if len(lines) == 0 {
		lines = []string{"(empty)"}
	}
	return lines
}
