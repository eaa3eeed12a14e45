// Package vcdm checks a credential against the W3C Verifiable Credentials
// Data Model v2.0: the MUSTs a verifier can check on the JSON itself —
// @context (first the base context, then URLs or objects, protected terms
// not redefined), type (VerifiableCredential among terms or URLs the
// contexts define), id, issuer, credentialSubject, validFrom and
// validUntil (dateTimeStamp, in order), names and descriptions (strings or
// language value objects), and the typed objects (credentialStatus,
// credentialSchema, evidence, refreshService, termsOfUse, proof). It also
// lists the terms a credential uses that its contexts do not define.
//
// Presentation checks a verifiable presentation the same way (Section
// 4.13): @context, type VerifiablePresentation, id and holder URLs, and
// each of its credentials, embedded (checked as above) or enveloped (an
// EnvelopedVerifiableCredential whose id is a data: URL holding the
// secured credential, which EnvelopedData reads and the caller verifies).
//
// It is a term lookup in the contexts' maps, following JSON-LD 1.1's
// context processing for term definitions, @vocab, @protected and scoped
// contexts; it is not a JSON-LD processor (no expansion, no RDF). It
// checks no proof: securing is the caller's (internal/sdjwt for
// vc+sd-jwt). Contexts are embedded, never fetched.
package vcdm

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ErrInvalid is the error every refusal wraps.
var ErrInvalid = errors.New("vcdm: not valid under the VC 2.0 data model")

// Checker checks credentials with a set of known contexts.
type Checker struct{ known Contexts }

// New returns a Checker knowing the embedded contexts plus extra (URL →
// context document).
func New(extra map[string][]byte) (*Checker, error) {
	k, err := Known(extra)
	if err != nil {
		return nil, err
	}
	return &Checker{known: k}, nil
}

var defaultChecker = func() *Checker {
	c, err := New(nil)
	if err != nil {
		panic(err) // the embedded contexts are part of the binary
	}
	return c
}()

// Check checks a credential with the embedded contexts.
func Check(c map[string]any) error { return defaultChecker.Credential(c) }

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

// Credential checks c, a verifiable credential's JSON (its secured form
// already verified and decoded by the caller).
func (k *Checker) Credential(c map[string]any) error {
	ctx, types, err := k.typed(c, "VerifiableCredential")
	if err != nil {
		return err
	}
	if err := optionalURL(c, "id"); err != nil {
		return err
	}
	if err := issuer(c["issuer"]); err != nil {
		return err
	}
	if err := subjects(c["credentialSubject"]); err != nil {
		return err
	}
	if err := validity(c); err != nil {
		return err
	}
	if err := texts(c, ""); err != nil {
		return err
	}
	for _, p := range []struct {
		name  string
		needs string // a member each object must have besides type
	}{{"credentialStatus", ""}, {"credentialSchema", "id"}, {"evidence", ""}, {"refreshService", ""},
		{"termsOfUse", ""}, {"proof", ""}, {"relatedResource", "id"}, {"renderMethod", ""}} {
		if err := typedObjects(p.name, c, p.needs, ctx); err != nil {
			return err
		}
	}
	if st, ok := c["credentialStatus"]; ok {
		entries, _ := objects("credentialStatus", st)
		for _, e := range entries {
			if e["type"] == "BitstringStatusListEntry" {
				if err := bitstringEntry(e); err != nil {
					return err
				}
			}
		}
	}
	if slices.Contains(types, "BitstringStatusListCredential") {
		return bitstringList(c["credentialSubject"])
	}
	return nil
}

// bitstringEntry checks a BitstringStatusListEntry (Bitstring Status
// List v1.0, Section 2.1).
func bitstringEntry(e map[string]any) error {
	if p, _ := e["statusPurpose"].(string); p == "" {
		return invalid("BitstringStatusListEntry has no statusPurpose")
	}
	idx, _ := e["statusListIndex"].(string)
	if idx == "" || strings.Trim(idx, "0123456789") != "" || len(idx) > 1 && idx[0] == '0' {
		return invalid("BitstringStatusListEntry statusListIndex %v is not a decimal integer string", e["statusListIndex"])
	}
	if err := urlValue("BitstringStatusListEntry statusListCredential", e["statusListCredential"]); err != nil {
		return err
	}
	size := 1.0
	if v, ok := e["statusSize"]; ok {
		f, ok := number(v)
		if !ok || f < 1 || f > 8 || f != float64(int(f)) {
			return invalid("BitstringStatusListEntry statusSize %v is not an integer from 1 to 8", v)
		}
		size = f
	}
	if _, ok := e["statusMessage"]; size > 1 && !ok {
		return invalid("BitstringStatusListEntry of statusSize %v has no statusMessage", size)
	}
	return nil
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// bitstringList checks the subject of a BitstringStatusListCredential:
// a BitstringStatusList with a statusPurpose and an encodedList (a
// multibase base64url string; internal/statuslist decodes it).
func bitstringList(v any) error {
	subs, _ := objects("credentialSubject", v)
	if len(subs) != 1 || subs[0]["type"] != "BitstringStatusList" {
		return invalid("a BitstringStatusListCredential's subject is one BitstringStatusList")
	}
	s := subs[0]
	if p, _ := s["statusPurpose"].(string); p == "" {
		return invalid("BitstringStatusList has no statusPurpose")
	}
	if l, _ := s["encodedList"].(string); !strings.HasPrefix(l, "u") {
		return invalid("BitstringStatusList encodedList is not a multibase base64url string")
	}
	return nil
}

// context checks @context and returns the active context it makes.
func (k *Checker) context(c map[string]any) (*active, error) {
	v, ok := c["@context"]
	if !ok {
		return nil, invalid("no @context")
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	if len(list) == 0 || list[0] != BaseContext {
		return nil, invalid("@context does not start with %s", BaseContext)
	}
	a, err := (&active{terms: map[string]term{}, known: k.known}).with(list, false)
	if err != nil {
		return nil, invalid("@context: %v", err)
	}
	return a, nil
}

// typed checks o's @context and type, which must include want, and
// returns the active context and the types.
func (k *Checker) typed(o map[string]any, want string) (*active, []string, error) {
	ctx, err := k.context(o)
	if err != nil {
		return nil, nil, err
	}
	types, err := typeValue("type", o["type"], ctx)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(types, want) {
		return nil, nil, invalid("type does not include %s", want)
	}
	return ctx, types, nil
}

// optionalURL checks o's member name, if there, is a URL.
func optionalURL(o map[string]any, name string) error {
	if v, ok := o[name]; ok {
		return urlValue(name, v)
	}
	return nil
}

func urlValue(name string, v any) error {
	s, ok := v.(string)
	if !ok {
		return invalid("%s is not a single URL", name)
	}
	if !IsURL(s) {
		return invalid("%s %q is not a URL", name, s)
	}
	return nil
}

// typeValue checks a type member: one or more strings, each a term the
// active context maps to an IRI, or an absolute URL.
func typeValue(name string, v any, ctx *active) ([]string, error) {
	var out []string
	switch v := v.(type) {
	case string:
		out = []string{v}
	case []any:
		for _, t := range v {
			s, ok := t.(string)
			if !ok {
				return nil, invalid("%s has a value that is not a string", name)
			}
			out = append(out, s)
		}
	case nil:
		return nil, invalid("no %s", name)
	default:
		return nil, invalid("%s is neither a string nor strings", name)
	}
	if len(out) == 0 {
		return nil, invalid("%s is empty", name)
	}
	for _, t := range out {
		if _, ok := ctx.iri(t); !ok {
			return nil, invalid("%s %q is neither a term the @context defines nor a URL", name, t)
		}
	}
	return out, nil
}

func issuer(v any) error {
	switch v := v.(type) {
	case nil:
		return invalid("no issuer")
	case string:
		return urlValue("issuer", v)
	case map[string]any:
		id, ok := v["id"]
		if !ok {
			return invalid("issuer object has no id")
		}
		if err := urlValue("issuer id", id); err != nil {
			return err
		}
		return texts(v, "issuer ")
	default:
		return invalid("issuer is neither a URL nor an object")
	}
}

// objects returns v as a list of objects: one object or an array of them.
func objects(name string, v any) ([]map[string]any, error) {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, invalid("%s is empty", name)
		}
		out := make([]map[string]any, len(v))
		for i, o := range v {
			m, ok := o.(map[string]any)
			if !ok {
				return nil, invalid("%s[%d] is not an object", name, i)
			}
			out[i] = m
		}
		return out, nil
	default:
		return nil, invalid("%s is neither an object nor objects", name)
	}
}

func subjects(v any) error {
	if v == nil {
		return invalid("no credentialSubject")
	}
	subs, err := objects("credentialSubject", v)
	if err != nil {
		return err
	}
	for i, s := range subs {
		if len(s) == 0 {
			return invalid("credentialSubject[%d] has neither an id nor a claim", i)
		}
		if id, ok := s["id"]; ok {
			if err := urlValue("credentialSubject id", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// typedObjects checks the objects of c's member name, if there: each has
// a type (and needs, if not ""), and an id, if any, is a URL.
func typedObjects(name string, c map[string]any, needs string, ctx *active) error {
	v, ok := c[name]
	if !ok {
		return nil
	}
	objs, err := objects(name, v)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if _, err := typeValue(name+" type", o["type"], ctx); err != nil {
			return err
		}
		if id, ok := o["id"]; ok || needs == "id" {
			if err := urlValue(name+" id", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// dateTimeStamp is XML Schema 1.1's dateTimeStamp: a dateTime with a
// time zone (the expression the VC 2.0 data model gives, Section 4.9).
var dateTimeStamp = regexp.MustCompile(`^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])` +
	`T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`)

// DateTimeStamp parses a validFrom/validUntil value; ok is false if it is
// no dateTimeStamp, t is zero if Go cannot represent it (year > 9999).
func DateTimeStamp(s string) (t time.Time, ok bool) {
	if !dateTimeStamp.MatchString(s) {
		return time.Time{}, false
	}
	t, _ = time.Parse(time.RFC3339Nano, s)
	return t, true
}

func validity(c map[string]any) error {
	var at [2]time.Time
	for i, name := range []string{"validFrom", "validUntil"} {
		v, ok := c[name]
		if !ok {
			continue
		}
		s, _ := v.(string)
		t, ok := DateTimeStamp(s)
		if !ok {
			return invalid("%s %v is not a dateTimeStamp", name, v)
		}
		at[i] = t
	}
	if !at[0].IsZero() && !at[1].IsZero() && at[1].Before(at[0]) {
		return invalid("validUntil is before validFrom")
	}
	return nil
}

// texts checks name and description of o: a string, a language value
// object, or an array of them.
func texts(o map[string]any, where string) error {
	for _, name := range []string{"name", "description"} {
		v, ok := o[name]
		if !ok {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		for _, x := range list {
			if err := langValue(x); err != nil {
				return invalid("%s%s: %v", where, name, err)
			}
		}
	}
	return nil
}

func langValue(v any) error {
	switch v := v.(type) {
	case string:
		return nil
	case map[string]any:
		if _, ok := v["@value"].(string); !ok {
			return fmt.Errorf("a language value object has a string @value")
		}
		for k, x := range v {
			switch k {
			case "@value":
			case "@language", "@direction":
				if s, ok := x.(string); !ok || s == "" || k == "@direction" && s != "ltr" && s != "rtl" {
					return fmt.Errorf("%s %v", k, x)
				}
			default:
				return fmt.Errorf("a language value object has no member %q", k)
			}
		}
		return nil
	default:
		return fmt.Errorf("neither a string nor a language value object")
	}
}

// Undefined is UndefinedTerms with the embedded contexts.
func Undefined(c map[string]any) ([]string, error) { return defaultChecker.UndefinedTerms(c) }

// UndefinedTerms lists, sorted, the paths of the members of c (nested
// objects included) whose names the active contexts do not define, with
// JSON-LD's scoping: a type's scoped context applies to its object's own
// members, a property's scoped context to the value under it.
func (k *Checker) UndefinedTerms(c map[string]any) ([]string, error) {
	ctx, err := k.context(c)
	if err != nil {
		return nil, err
	}
	var out []string
	if err := undefined(c, ctx, "", &out); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

func undefined(node map[string]any, ctx *active, path string, out *[]string) error {
	if c, ok := node["@context"]; ok && path != "" {
		var err error
		if ctx, err = ctx.with(c, false); err != nil {
			return err
		}
	}
	own := ctx // the context for node's own members: ctx plus its types' scoped contexts
	var types []string
	switch t := node["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				types = append(types, s)
			}
		}
	}
	slices.Sort(types)
	for _, t := range types {
		if sc, ok := ctx.scoped(t); ok {
			var err error
			if own, err = own.with(sc, false); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(node))
	for n := range node {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(n, "@") || n == "id" || n == "type" {
			continue
		}
		p := strings.TrimPrefix(path+"."+n, ".")
		if _, ok := own.iri(n); !ok {
			*out = append(*out, p)
			continue
		}
		if d, ok := own.terms[n].def.(map[string]any); ok && d["@type"] == "@json" {
			continue // a JSON literal: no terms inside
		}
		child := ctx // type-scoped contexts do not propagate
		if sc, ok := own.scoped(n); ok {
			var err error
			if child, err = ctx.with(sc, true); err != nil {
				return err
			}
		}
		vals, ok := node[n].([]any)
		if !ok {
			vals = []any{node[n]}
		}
		for _, v := range vals {
			if m, ok := v.(map[string]any); ok {
				if _, isValue := m["@value"]; isValue {
					continue
				}
				if err := undefined(m, child, p, out); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
