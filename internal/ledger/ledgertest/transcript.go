package ledgertest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txt")

// Ext is what a module's transcripts add to the runner.
type Ext struct {
	// Seed derives the keys of the names (see Key).
	Seed string
	// Modules are the modules of the executor the genesis command starts.
	Modules func() []ledger.Module
	// Genesis, if set, fills the genesis command's genesis from the
	// command's arguments, before the file form is encoded and parsed.
	Genesis func(r *Runner, a *Args, g *ledger.Genesis)
	// Body, if set, builds the body of module's message type typ from the
	// arguments, or reports false to leave it to the runner, which fills
	// a message of a module that declares its types (ledger.Declarer)
	// field by field: the argument named like the field (or its JSON
	// name), in lower case.
	Body func(r *Runner, a *Args, module, typ string) ([]byte, bool)
	// Values convert an argument to a message field of a type the runner
	// does not know.
	Values map[reflect.Type]func(r *Runner, v string) any
	// Placeholder, if set, returns what a placeholder "<name>" in an
	// argument stands for, if it is one of the module's.
	Placeholder func(r *Runner, name string) (string, bool)
	// Describe, if set, renders a state value for the output, or reports
	// false to leave it to the runner.
	Describe func(key string, v []byte) (string, bool)
	// Commands are the module's own commands, by name.
	Commands map[string]func(r *Runner, a *Args) []string
}

// Run runs the transcripts testdata/*.txt of the calling package. Each
// is a story: commands, each followed by "----" and the output it must
// produce, ending at a blank line; lines starting with "#" are
// commentary. With -update the expected output is rewritten, so a rule
// change shows as a readable diff of the transcripts. See the package
// documentation for the commands.
func Run(t *testing.T, ext Ext) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			RunFile(t, f, ext)
		})
	}
}

type tcase struct {
	pre  []string // commentary and blank lines before the command
	line int
	cmd  string
	want []string
}

func parse(t *testing.T, path string) (cases []tcase, tail []string) {
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

// RunFile runs one transcript.
func RunFile(t *testing.T, path string, ext Ext) {
	cases, tail := parse(t, path)
	r := &Runner{T: t, path: path, ext: ext, keys: map[string]*tx.PrivateKey{}, raws: map[string][]byte{}, back: map[string]string{}}
	var out []string
	for i, c := range cases {
		r.line = c.line
		got := r.run(c.cmd)
		for _, l := range got {
			if strings.TrimSpace(l) == "" {
				t.Fatalf("%s:%d: output has a blank line", path, c.line)
			}
		}
		if !*update {
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("%s:%d: %s\noutput differs (-want +got; -update rewrites it):\n%s", path, c.line, c.cmd, diff)
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

// Runner is a transcript's interpreter: one ledger in memory and the
// names the transcript gave.
type Runner struct {
	T     *testing.T
	Chain *Chain // nil before the genesis command

	path string
	line int
	ext  Ext

	keys   map[string]*tx.PrivateKey
	subst  []string          // old, new pairs for the output
	back   map[string]string // placeholder → what it stands for
	raws   map[string][]byte // transactions by label
	labels []string          // of the staged transactions
	nextID int
}

// Fatalf stops the transcript with an error at the current command.
func (r *Runner) Fatalf(format string, args ...any) {
	r.T.Helper()
	r.T.Fatalf("%s:%d: %s", r.path, r.line, fmt.Sprintf(format, args...))
}

// Name makes the output show placeholder wherever it would show s, and
// arguments expand placeholder to s.
func (r *Runner) Name(s, placeholder string) {
	if _, ok := r.back[placeholder]; ok {
		return
	}
	r.subst = append(r.subst, s, placeholder)
	r.back[placeholder] = s
}

// Key returns the key of a name, making one for a new name (Ed25519, or
// the algorithm of "name:alg"), whose address and key the output shows as
// <name> (which arguments expand to the address).
func (r *Runner) Key(spec string) (string, *tx.PrivateKey) {
	name, algName, hasAlg := strings.Cut(spec, ":")
	if k, ok := r.keys[name]; ok {
		if hasAlg && k.Alg().String() != algName {
			r.Fatalf("key %s is already %s", name, k.Alg())
		}
		return name, k
	}
	alg := tx.Ed25519
	if hasAlg {
		var err error
		if alg, err = tx.ParseAlg(algName); err != nil {
			r.Fatalf("%v", err)
		}
	}
	k := Key(r.ext.Seed, name, alg)
	r.keys[name] = k
	r.Name(k.Public().Address(), "<"+name+">")
	r.subst = append(r.subst, k.Public().String(), "<"+name+">") // the key as well as its address
	return name, k
}

// Expand replaces each placeholder "<...>" in s by what it stands for: a
// name given earlier, one of the module's, or else a key's address.
func (r *Runner) Expand(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		j := strings.IndexByte(s[max(i, 0):], '>')
		if i < 0 || j < 0 {
			return b.String() + s
		}
		j += i
		b.WriteString(s[:i])
		name := s[i+1 : j]
		if v, ok := r.back[s[i:j+1]]; ok {
			b.WriteString(v)
		} else if v, ok := r.placeholder(name); ok {
			b.WriteString(v)
		} else {
			_, k := r.Key(name)
			b.WriteString(k.Public().Address())
		}
		s = s[j+1:]
	}
}

func (r *Runner) placeholder(name string) (string, bool) {
	if r.ext.Placeholder == nil {
		return "", false
	}
	return r.ext.Placeholder(r, name)
}

func (r *Runner) run(line string) []string {
	toks, err := tokenize(line)
	if err != nil {
		r.Fatalf("%v", err)
	}
	a := &Args{r: r, kv: map[string]string{}, used: map[string]bool{}}
	for _, tok := range toks[1:] {
		if k, v, ok := strings.Cut(tok, "="); ok && !strings.ContainsAny(k, "{[<") {
			a.kv[k] = v
		} else {
			a.Pos = append(a.Pos, tok)
		}
	}
	var out []string
	switch toks[0] {
	case "genesis":
		out = r.genesis(a)
	case "tx":
		out = r.tx(a)
	case "do":
		out = r.do(a)
	case "pend":
		a.pend = true
		out = r.do(a)
	case "export":
		out = r.export()
	case "replay":
		out = r.replay(a)
	case "block":
		out = r.block(a)
	case "wait":
		out = r.wait(a)
	case "state":
		out = r.dumpState(a.Get("prefix", ""))
	case "query":
		out = r.query(a)
	default:
		cmd, ok := r.ext.Commands[toks[0]]
		if !ok {
			r.Fatalf("unknown command %q", toks[0])
		}
		r.needChain()
		out = cmd(r, a)
	}
	for k := range a.kv {
		if !a.used[k] {
			r.Fatalf("%s: unknown argument %s=", toks[0], k)
		}
	}
	return r.Show(out)
}

// Show replaces in lines what has a name by its placeholder.
func (r *Runner) Show(lines []string) []string {
	rep := strings.NewReplacer(r.subst...)
	for i := range lines {
		lines[i] = rep.Replace(lines[i])
	}
	return lines
}

func (r *Runner) needChain() {
	r.T.Helper()
	if r.Chain == nil {
		r.Fatalf("no genesis yet")
	}
}

func (r *Runner) genesis(a *Args) []string {
	e, err := ledger.NewExecutor(ChainID, r.ext.Modules()...)
	if err != nil {
		r.Fatalf("%v", err)
	}
	g := Genesis(map[string]json.RawMessage{})
	g.Time = a.Time("time", GenesisTime)
	g.Params.MaxBlockTxs = a.Uint("max_block_txs", g.Params.MaxBlockTxs)
	g.Params.MaxBlockBytes = a.Uint("max_block_bytes", g.Params.MaxBlockBytes)
	g.Params.MaxTxBytes = a.Uint("max_tx_bytes", g.Params.MaxTxBytes)
	for _, k := range []string{"free_block_txs", "free_block_bytes"} {
		if a.Has(k) {
			n := a.Uint(k, 0)
			if k == "free_block_txs" {
				g.Params.FreeBlockTxs = &n
			} else {
				g.Params.FreeBlockBytes = &n
			}
		}
	}
	for _, spec := range a.List("accounts") {
		name, k := r.Key(spec)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Label: name, Key: k.Public()})
	}
	if r.ext.Genesis != nil {
		r.ext.Genesis(r, a, g)
	}
	// Go through the file form, as a node does.
	enc, err := g.Encode()
	if err != nil {
		r.Fatalf("%v", err)
	}
	if g, err = ledger.ParseGenesis(enc); err != nil {
		return []string{"error: " + err.Error()}
	}
	c, err := StartChain(r.T, e, g)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	r.Chain = c
	lines := []string{fmt.Sprintf("genesis chain=%s time=%s", c.Head.ChainID, fmtMillis(c.Head.Time)),
		"app_hash " + hex.EncodeToString(c.Head.AppHash)}
	if slices.Contains(a.Pos, "quiet") {
		return lines
	}
	return append(lines, r.dumpState("")...)
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// sign builds the transaction of a tx, do or pend command: SIGNERS
// MODULE TYPE and the arguments.
func (r *Runner) sign(a *Args) (label, summary string, raw []byte) {
	r.needChain()
	if len(a.Pos) != 3 {
		r.Fatalf("usage: tx|do|pend SIGNERS MODULE TYPE [args]")
	}
	module, typ := a.Pos[1], a.Pos[2]
	body := r.body(a, module, typ)
	if a.pend {
		ttl, err := time.ParseDuration(a.Get("ttl", ""))
		if err != nil {
			r.Fatalf("ttl: %v", err)
		}
		body = Body(r.T, &ledger.ProposeAction{Module: module, Principal: r.Expand(a.Get("principal", "")), Type: typ, Body: body,
			TTL: uint64(ttl / time.Millisecond)})
		module, typ = ledger.Namespace, "propose"
	}
	x := &tx.Tx{ChainID: a.Get("chain", r.Chain.Head.ChainID), Module: module, Type: typ, Body: body,
		ExpiryHeight: a.Uint("expiry_height", 0)}
	if a.Has("expiry_time") {
		x.ExpiryTime = a.Time("expiry_time", time.Time{}).UnixMilli()
	}
	if !a.Has("expiry_height") && !a.Has("expiry_time") {
		x.ExpiryHeight = 1000
	}
	var names []string
	var keys []*tx.PrivateKey
	for _, n := range strings.Split(a.Pos[0], ",") {
		name, k := r.Key(n)
		names = append(names, name)
		keys = append(keys, k)
	}
	var seqs []uint64
	if l := a.List("seq"); l != nil {
		if len(l) != len(keys) {
			r.Fatalf("seq= gives %d sequences for %d signers", len(l), len(keys))
		}
		for _, s := range l {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				r.Fatalf("seq: %v", err)
			}
			seqs = append(seqs, n)
		}
	}
	raw = r.Chain.Sign(x, keys, seqs)
	switch sig := a.Get("sig", ""); sig {
	case "":
	case "corrupt":
		raw = r.resign(raw, func(s *tx.Signed) { s.Sigs[0][0] ^= 1 })
	default:
		_, other := r.Key(sig)
		raw = r.resign(raw, func(s *tx.Signed) {
			b, err := other.Sign(nil, tx.SignedMessage(s.Tx))
			if err != nil {
				r.Fatalf("%v", err)
			}
			s.Sigs[0] = b
		})
	}
	r.nextID++
	label = a.Get("label", fmt.Sprintf("t%d", r.nextID))
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		r.Fatalf("%v", err)
	}
	id := s.ID()
	r.Name(hex.EncodeToString(id[:]), "<"+label+">")
	r.raws[label] = raw
	seqStrs := make([]string, len(x.Signers))
	for i, sg := range x.Signers {
		seqStrs[i] = strconv.FormatUint(sg.Sequence, 10)
	}
	summary = fmt.Sprintf("%s %s/%s seq=%s (%d bytes)", strings.Join(names, ","), module, typ, strings.Join(seqStrs, ","), len(raw))
	return label, summary, raw
}

func (r *Runner) resign(raw []byte, edit func(*tx.Signed)) []byte {
	var s tx.Signed
	if err := tx.Unmarshal(raw, &s); err != nil {
		r.Fatalf("%v", err)
	}
	edit(&s)
	b, err := s.Encode()
	if err != nil {
		r.Fatalf("%v", err)
	}
	return b
}

// body builds a message body: body=HEX, the module's Body hook, or a
// declared message filled from the arguments; else an empty map.
func (r *Runner) body(a *Args, module, typ string) []byte {
	if a.Has("body") {
		b, err := hex.DecodeString(a.Get("body", ""))
		if err != nil {
			r.Fatalf("body: %v", err)
		}
		return b
	}
	if r.ext.Body != nil {
		if b, ok := r.ext.Body(r, a, module, typ); ok {
			return b
		}
	}
	if msg := r.newMsg(module, typ); msg != nil {
		r.Fill(msg, a)
		return Body(r.T, msg)
	}
	return []byte{0xa0} // an empty map
}

// newMsg returns a new message of module's type typ, or nil if the
// module does not declare it.
func (r *Runner) newMsg(module, typ string) any {
	if module == ledger.Namespace {
		switch typ {
		case "propose":
			return &ledger.ProposeAction{}
		case "approve":
			return &ledger.Approve{}
		}
		return nil
	}
	for _, m := range r.Chain.Exec.Modules() {
		if d, ok := m.(ledger.Declarer); ok && m.Name() == module {
			if mt, ok := ledger.FindMsgType(d.MsgTypes(), typ); ok {
				return mt.New()
			}
		}
	}
	return nil
}

func (r *Runner) tx(a *Args) []string {
	label, summary, raw := r.sign(a)
	r.Chain.Stage(raw)
	r.labels = append(r.labels, label)
	return []string{"staged " + label + ": " + summary}
}

// do commits one transaction in a block of its own a second (the tick)
// after the last, validating it, and prints its result. A refused one
// must change nothing but its signers' sequences (Chain.DoRaw).
func (r *Runner) do(a *Args) []string {
	if len(r.labels) > 0 {
		r.Fatalf("do with staged transactions: commit them with block")
	}
	label, _, raw := r.sign(a)
	out, err := r.Chain.DoRaw(raw, r.Chain.Next())
	if err != nil {
		return []string{label + " error: " + err.Error(), "state unchanged"}
	}
	return r.result(label, out.Results[0])
}

// export exports the state to a genesis, loads it into a new executor
// and prints that the state is the same; a state that differs fails the
// test, whatever the transcript expects (-update cannot make a lossy
// export pass).
func (r *Runner) export() []string {
	r.needChain()
	g, err := r.Chain.Exec.ExportGenesis(r.Chain.State, time.UnixMilli(r.Chain.Head.Time))
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	e, err := ledger.NewExecutor(ChainID, r.ext.Modules()...)
	if err != nil {
		r.Fatalf("%v", err)
	}
	back, err := StartChain(r.T, e, g)
	if err != nil {
		return []string{"error: loading the export: " + err.Error()}
	}
	var lines []string
	for _, k := range r.Chain.State.Keys() {
		if v, ok := back.State[k]; !ok || string(v) != string(r.Chain.State[k]) {
			lines = append(lines, "differs: "+showKey([]byte(k)))
		}
	}
	for _, k := range back.State.Keys() {
		if _, ok := r.Chain.State[k]; !ok {
			lines = append(lines, "differs: "+showKey([]byte(k)))
		}
	}
	if lines != nil {
		r.T.Errorf("%s:%d: the export does not load back as the same state:\n%s", r.path, r.line, strings.Join(lines, "\n"))
		return lines
	}
	return []string{fmt.Sprintf("the export loads back as the same state (%d keys)", len(back.State.Keys()))}
}

func (r *Runner) result(label string, res ledger.Result) []string {
	l := label + " " + res.Code
	if res.Error != "" {
		l += ": " + res.Error
	}
	lines := []string{l}
	for _, e := range res.Events {
		ev := "  event " + e.Module + "/" + e.Type
		for _, at := range e.Attrs {
			ev += " " + at.Key + "=" + at.Value
		}
		lines = append(lines, ev)
	}
	return lines
}

func (r *Runner) replay(a *Args) []string {
	if len(a.Pos) != 1 || r.raws[a.Pos[0]] == nil {
		r.Fatalf("usage: replay LABEL (of an earlier tx)")
	}
	r.Chain.Stage(r.raws[a.Pos[0]])
	r.labels = append(r.labels, a.Pos[0])
	return []string{"staged " + a.Pos[0] + " again"}
}

func (r *Runner) block(a *Args) []string {
	r.needChain()
	validate := slices.Contains(a.Pos, "validate")
	at := a.Time("time", r.Chain.Next())
	labels := map[[32]byte]string{}
	for i, raw := range r.Chain.staged {
		labels[sha256.Sum256(raw)] = r.labels[i]
	}
	r.labels = nil
	mode := "propose"
	if validate {
		mode = "validate"
	}
	head := fmt.Sprintf("block %d time=%s %s", r.Chain.Head.Height+1, at.UTC().Format(time.RFC3339Nano), mode)
	out, err := r.Chain.Commit(at, !validate)
	if err != nil {
		return []string{head, "error: " + err.Error(), "state unchanged"}
	}
	lines := []string{head}
	for i, raw := range out.Txs {
		lines = append(lines, r.result(labels[sha256.Sum256(raw)], out.Results[i])...)
	}
	for _, d := range out.Dropped {
		lines = append(lines, fmt.Sprintf("dropped %s %s: %v", labels[sha256.Sum256(d.Raw)], ledger.Code(d.Err), d.Err))
	}
	lines = append(lines, "app_hash "+hex.EncodeToString(out.Header.AppHash))
	if len(out.Writes) == 0 {
		return append(lines, "no writes")
	}
	lines = append(lines, "writes:")
	for _, w := range out.Writes {
		if w.Value == nil {
			lines = append(lines, "  "+showKey(w.Key)+" deleted")
		} else {
			lines = append(lines, "  "+showKey(w.Key)+" = "+r.describe(string(w.Key), w.Value))
		}
	}
	return lines
}

// showKey renders a state key for the output: printable ASCII as it is,
// any other byte (the binary parts of the scheduler's keys) as \xNN, so
// that a key never breaks a transcript's lines.
func showKey(k []byte) string {
	var b strings.Builder
	for _, c := range k {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	return b.String()
}

// wait commits N empty blocks, a tick apart.
func (r *Runner) wait(a *Args) []string {
	r.needChain()
	if len(a.Pos) != 1 {
		r.Fatalf("usage: wait N")
	}
	n, err := strconv.Atoi(a.Pos[0])
	if err != nil {
		r.Fatalf("wait: %v", err)
	}
	from := r.Chain.Head.Time
	for range n {
		r.Chain.Empty()
	}
	passed := time.Duration(r.Chain.Head.Time-from) * time.Millisecond
	return []string{fmt.Sprintf("... %gs pass (t=%s)", passed.Seconds(), time.UnixMilli(r.Chain.Head.Time).Sub(r.Chain.Start))}
}

func (r *Runner) dumpState(prefix string) []string {
	r.needChain()
	var lines []string
	for _, k := range r.Chain.State.Keys() {
		if strings.HasPrefix(k, prefix) {
			lines = append(lines, showKey([]byte(k))+" = "+r.describe(k, r.Chain.State[k]))
		}
	}
	if len(lines) == 0 {
		lines = []string{"(empty)"}
	}
	return lines
}

// query runs a module's query over the committed state and prints its
// answer as JSON: "query MODULE NAME [arg=value...] [fields=a,b]"; with
// fields, only those fields of the answer (of each, for a list).
func (r *Runner) query(a *Args) []string {
	r.needChain()
	if len(a.Pos) != 2 {
		r.Fatalf("usage: query MODULE NAME [arg=value...] [fields=a,b]")
	}
	module, name := a.Pos[0], a.Pos[1]
	fields := a.List("fields")
	qs := ledger.Queries()
	if module != ledger.Namespace {
		qs = nil
		for _, m := range r.Chain.Exec.Modules() {
			if m.Name() == module {
				qs = m.Queries()
			}
		}
	}
	i := slices.IndexFunc(qs, func(q ledger.Query) bool { return q.Name == name })
	if i < 0 {
		r.Fatalf("module %s has no query %s", module, name)
	}
	var rec ledger.Reads
	ans, err := qs[i].Run(r.Chain.View(module, &rec), func(k string) string { return r.Expand(a.Get(k, "")) })
	var note []string
	if err != nil {
		if ans == nil {
			return []string{"error: " + err.Error()}
		}
		note = append(note, "error: "+err.Error()) // an answer served with the error's status
	}
	if rec.Iterated {
		note = append(note, "(read by iterating a range, which a state proof does not cover)")
	}
	b, err := json.Marshal(ans)
	if err != nil {
		r.Fatalf("%v", err)
	}
	if fields == nil {
		b, _ = json.MarshalIndent(ans, "", "  ")
		return append(strings.Split(string(b), "\n"), note...)
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(b, &list) != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(b, &one); err != nil {
			r.Fatalf("fields= of an answer that is not an object: %s", b)
		}
		list = append(list, one)
	}
	var lines []string
	for _, obj := range list {
		var parts []string
		for _, f := range fields {
			parts = append(parts, f+"="+string(obj[f]))
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	if len(lines) == 0 {
		lines = []string{"(none)"}
	}
	return append(lines, note...)
}
