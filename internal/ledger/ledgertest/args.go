package ledgertest

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Args are a command's arguments: positional ones and key=value ones.
type Args struct {
	r    *Runner
	Pos  []string
	kv   map[string]string
	used map[string]bool
	pend bool // the message is posted as a pending action
}

// Get returns argument k, or def if it is absent.
func (a *Args) Get(k, def string) string {
	a.used[k] = true
	if v, ok := a.kv[k]; ok {
		return v
	}
	return def
}

// Has reports whether argument k is given.
func (a *Args) Has(k string) bool { _, ok := a.kv[k]; return ok }

// Uint returns argument k as a number, or def.
func (a *Args) Uint(k string, def uint64) uint64 {
	v := a.Get(k, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		a.r.Fatalf("%s=%s: %v", k, v, err)
	}
	return n
}

// Time returns argument k as an RFC 3339 time, or def.
func (a *Args) Time(k string, def time.Time) time.Time {
	v := a.Get(k, "")
	if v == "" {
		return def
	}
	tm, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		a.r.Fatalf("%s=%s: %v", k, v, err)
	}
	return tm
}

// List returns argument k split at its commas.
func (a *Args) List(k string) []string {
	v := a.Get(k, "")
	if v == "" {
		return nil
	}
	return splitTop(v)
}

// tokenize splits a command line at spaces. A double-quoted part
// ("a b", with Go's escapes) is one value without its quotes; a part in
// braces or brackets (JSON) is kept as it is.
func tokenize(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	started := false
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			q, err := strconv.QuotedPrefix(s[i:])
			if err != nil {
				return nil, fmt.Errorf("unterminated quote at %q", s[i:])
			}
			u, _ := strconv.Unquote(q)
			cur.WriteString(u)
			i += len(q)
			started = true
		case c == '{' || c == '[':
			n := jsonLen(s[i:])
			cur.WriteString(s[i : i+n])
			i += n
			started = true
		case c == ' ':
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
			i++
		default:
			cur.WriteByte(c)
			i++
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out, nil
}

// walk calls fn with each byte of s outside JSON strings and the depth
// of brackets after it, until fn returns false; it returns where it
// stopped (len(s) if it did not).
func walk(s string, fn func(i int, c byte, depth int) bool) int {
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		default:
			if c == '{' || c == '[' {
				depth++
			} else if c == '}' || c == ']' {
				depth--
			}
			if !fn(i, c, depth) {
				return i
			}
		}
	}
	return len(s)
}

// jsonLen is the length of the bracketed JSON value s begins with (all of
// s if it is not closed).
func jsonLen(s string) int {
	return min(len(s), 1+walk(s, func(_ int, _ byte, depth int) bool { return depth > 0 }))
}

// splitTop splits s at the commas outside brackets and JSON strings.
func splitTop(s string) []string {
	var out []string
	start := 0
	walk(s, func(i int, c byte, depth int) bool {
		if c == ',' && depth == 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
		return true
	})
	return append(out, s[start:])
}

// Fill sets the fields of the struct msg points to from the arguments
// named like them (in lower case, or their JSON name).
func (r *Runner) Fill(msg any, a *Args) {
	v := reflect.ValueOf(msg).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name := strings.ToLower(f.Name)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" && !a.Has(name) {
			name = tag
		}
		if a.Has(name) {
			r.setValue(v.Field(i), a.Get(name, ""))
		}
	}
}

var (
	actionType = reflect.TypeFor[ledger.Action]()
	keyType    = reflect.TypeFor[tx.PublicKey]()
	bytesType  = reflect.TypeFor[[]byte]()
)

// setValue sets v from the argument s.
func (r *Runner) setValue(v reflect.Value, s string) {
	if conv, ok := r.ext.Values[v.Type()]; ok {
		v.Set(reflect.ValueOf(conv(r, s)))
		return
	}
	switch t := v.Type(); {
	case t == keyType:
		_, k := r.Key(s)
		v.Set(reflect.ValueOf(k.Public()))
	case t == bytesType:
		b, err := hex.DecodeString(r.Expand(s))
		if err != nil {
			r.Fatalf("%s: %v", s, err)
		}
		v.SetBytes(b)
	case t == actionType:
		v.Set(reflect.ValueOf(r.action(s)))
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		r.setValue(p.Elem(), s)
		v.Set(p)
	case t.Kind() == reflect.Slice:
		items := splitTop(s)
		sl := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			r.setValue(sl.Index(i), it)
		}
		v.Set(sl)
	case t.Kind() == reflect.String:
		v.SetString(r.Expand(s))
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			r.Fatalf("%s: %v", s, err)
		}
		v.SetBool(b)
	case v.CanUint():
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			r.Fatalf("%s: %v", s, err)
		}
		v.SetUint(n)
	case v.CanInt():
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			r.Fatalf("%s: %v", s, err)
		}
		v.SetInt(n)
	default:
		r.Fatalf("no way to give a %s as an argument", t)
	}
}

// action reads a governed action: NAME{JSON} through the executor's
// action types, or NAME:HEX for a raw body, checked by nothing.
func (r *Runner) action(s string) ledger.Action {
	if name, body, ok := strings.Cut(s, "{"); ok {
		act, err := r.Chain.Exec.Actions().FromJSON(name, []byte("{"+r.Expand(body)))
		if err != nil {
			r.Fatalf("action %s: %v", name, err)
		}
		return act
	}
	name, h, _ := strings.Cut(s, ":")
	target, typ, _ := strings.Cut(name, ".")
	b, err := hex.DecodeString(h)
	if err != nil {
		r.Fatalf("action %s: %v", s, err)
	}
	return ledger.Action{Target: target, Type: typ, Body: b}
}
