package vcdm

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// The JSON-LD contexts the checker knows, read from contexts/ (verbatim
// W3C files; contexts/SOURCE.md and manifest.json say where each comes
// from). Nothing is ever fetched: a context URL not here is refused.
//
//go:embed contexts/credentials-v2.jsonld contexts/credentials-status-v1.jsonld contexts/credentials-undefined-terms-v2.jsonld
var contextFiles embed.FS

// BaseContext is the first @context entry of every VC 2.0 credential.
const BaseContext = "https://www.w3.org/ns/credentials/v2"

// Context URLs Agora may emit, with their files in contexts/.
const (
	StatusContext         = "https://www.w3.org/ns/credentials/status/v1"
	UndefinedTermsContext = "https://www.w3.org/ns/credentials/undefined-terms/v2"
)

var embedded = map[string]string{
	BaseContext:           "contexts/credentials-v2.jsonld",
	StatusContext:         "contexts/credentials-status-v1.jsonld",
	UndefinedTermsContext: "contexts/credentials-undefined-terms-v2.jsonld",
}

// Embedded reports whether the document of context URL u is embedded.
func Embedded(u string) bool {
	_, ok := embedded[u]
	return ok
}

// Contexts maps a context URL to its document's @context value.
type Contexts map[string]any

// Known returns the embedded contexts plus extra (URL → document bytes),
// which a caller with more contexts preloaded (a test) passes.
func Known(extra map[string][]byte) (Contexts, error) {
	c := Contexts{}
	add := func(u string, b []byte) error {
		var doc struct {
			Context any `json:"@context"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || doc.Context == nil {
			return fmt.Errorf("context %s: not a JSON-LD context document", u)
		}
		c[u] = doc.Context
		return nil
	}
	for u, f := range embedded {
		b, err := contextFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := add(u, b); err != nil {
			return nil, err
		}
	}
	for u, b := range extra {
		if err := add(u, b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// A term's definition, as the context gives it (a string or an object).
type term struct {
	def       any
	protected bool
}

// active is a JSON-LD active context reduced to what term lookup needs:
// the terms, @vocab, and the contexts to resolve URLs with. It follows
// JSON-LD 1.1 context processing for term definitions, @vocab and
// @protected, not IRI compaction, @base, @language or containers.
type active struct {
	terms map[string]term
	vocab string
	known Contexts
}

func (a *active) clone() *active {
	b := &active{terms: make(map[string]term, len(a.terms)), vocab: a.vocab, known: a.known}
	for k, v := range a.terms {
		b.terms[k] = v
	}
	return b
}

// with returns a copy of a with the local context ctx processed onto it
// (an array, a URL, an object or null). override is true for a
// property-scoped context, which may redefine protected terms.
func (a *active) with(ctx any, override bool) (*active, error) {
	b := a.clone()
	list, ok := ctx.([]any)
	if !ok {
		list = []any{ctx}
	}
	for _, c := range list {
		if err := b.process(c, override, 0); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (a *active) process(c any, override bool, depth int) error {
	if depth > 8 {
		return fmt.Errorf("contexts nest too deep")
	}
	switch c := c.(type) {
	case nil:
		for t, d := range a.terms {
			if d.protected && !override {
				return fmt.Errorf("a null @context would clear the protected term %q", t)
			}
		}
		a.terms, a.vocab = map[string]term{}, ""
		return nil
	case string:
		if !IsURL(c) {
			return fmt.Errorf("@context entry %q is not a URL", c)
		}
		doc, ok := a.known[c]
		if !ok {
			return fmt.Errorf("@context %s is not one this checker has (contexts are never fetched)", c)
		}
		list, ok := doc.([]any)
		if !ok {
			list = []any{doc}
		}
		for _, d := range list {
			if err := a.process(d, override, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		protected, _ := c["@protected"].(bool)
		if v, ok := c["@vocab"]; ok {
			switch v := v.(type) {
			case nil:
				a.vocab = ""
			case string:
				if !IsURL(v) {
					return fmt.Errorf("@vocab %q is not a URL", v)
				}
				a.vocab = v
			default:
				return fmt.Errorf("@vocab is neither a URL nor null")
			}
		}
		names := make([]string, 0, len(c))
		for k := range c {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if strings.HasPrefix(k, "@") {
				continue
			}
			if err := a.define(k, c[k], protected, override); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("@context entry %v is neither a URL nor an object", c)
	}
}

func (a *active) define(name string, def any, protected, override bool) error {
	if m, ok := def.(map[string]any); ok {
		if p, ok := m["@protected"].(bool); ok {
			protected = p
		}
	}
	if old, ok := a.terms[name]; ok && old.protected && !override && !reflect.DeepEqual(old.def, def) {
		return fmt.Errorf("the protected term %q is redefined", name)
	}
	iri := ""
	switch d := def.(type) {
	case nil:
		a.terms[name] = term{def: nil, protected: protected}
		return nil
	case string:
		iri = d
	case map[string]any:
		iri, _ = d["@id"].(string)
		if _, ok := d["@id"]; ok && iri == "" {
			return fmt.Errorf("term %q: @id is not a string", name)
		}
		if sc, ok := d["@context"]; ok {
			switch sc.(type) {
			case map[string]any, []any, string:
			default:
				return fmt.Errorf("term %q: scoped @context is neither a URL nor an object", name)
			}
		}
	default:
		return fmt.Errorf("term %q: definition is neither a string nor an object", name)
	}
	if iri != "" && !strings.HasPrefix(iri, "@") && !IsURL(iri) {
		return fmt.Errorf("term %q maps to %q, not an IRI", name, iri)
	}
	a.terms[name] = term{def: def, protected: protected}
	return nil
}

// iri returns what name expands to as a property or type: its term's IRI,
// name itself if it is an absolute IRI (or compact IRI), or @vocab+name.
func (a *active) iri(name string) (string, bool) {
	if strings.HasPrefix(name, "@") {
		return name, true
	}
	if t, ok := a.terms[name]; ok {
		switch d := t.def.(type) {
		case nil:
			return "", false // explicitly undefined
		case string:
			return a.expand(d), true
		case map[string]any:
			if id, ok := d["@id"].(string); ok {
				return a.expand(id), true
			}
		}
		if a.vocab != "" {
			return a.vocab + name, true
		}
		return "", false
	}
	if strings.Contains(name, ":") && IsURL(name) {
		return a.expand(name), true
	}
	if a.vocab != "" {
		return a.vocab + name, true
	}
	return "", false
}

// expand resolves a compact IRI "prefix:suffix" whose prefix is a term.
func (a *active) expand(s string) string {
	if p, rest, ok := strings.Cut(s, ":"); ok && !strings.HasPrefix(rest, "//") {
		if t, ok := a.terms[p].def.(string); ok {
			return t + rest
		}
	}
	return s
}

// scoped returns the scoped @context of the term name, if any.
func (a *active) scoped(name string) (any, bool) {
	m, ok := a.terms[name].def.(map[string]any)
	if !ok {
		return nil, false
	}
	c, ok := m["@context"]
	return c, ok
}

// IsURL reports whether s is an absolute URL (RFC 3986 with a scheme, no
// whitespace): the shape the data model asks of ids, types and contexts.
func IsURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Opaque != "" || u.Host != "" || u.Path != "")
}
