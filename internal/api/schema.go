package api

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// schemaSet derives JSON Schemas (draft 2020-12, OpenAPI 3.1's dialect)
// from Go types, as encoding/json writes their values, so that the
// document cannot drift from the bodies the server sends:
//
//   - a struct is an object whose properties are its exported fields by
//     their json names; a field without omitempty is required, and the
//     fields of an embedded struct are its own (not required if the
//     embedded struct is a pointer, which may be nil);
//   - a named struct is a component (#/components/schemas/<Name>);
//   - a pointer, slice or map without omitempty may be null;
//   - []byte is a base64 string; `any` is any value;
//   - a field tagged `enum:"a,b"` takes only those values; a string
//     tagged `encoding:"hex"` is lower-case hex, `encoding:"base64"` base64;
//   - a type with its own JSON or text form describes it, with a method
//     JSONSchema() map[string]any (a module's types), or is in textSchemas;
//     any other such type is an error, so a new one cannot be described
//     wrongly.
type schemaSet struct {
	defs  map[string]any
	names map[reflect.Type]string
	err   error
}

// textSchemas describe the types that marshal themselves.
var textSchemas = map[reflect.Type]map[string]any{
	reflect.TypeFor[time.Time]():    {"type": "string", "format": "date-time"},
	reflect.TypeFor[ledger.Hash]():  {"type": "string", "pattern": hexString, "description": "lower-case hex"},
	reflect.TypeFor[tx.ID]():        {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "a transaction ID: SHA-256 of its tx bytes, lower-case hex"},
	reflect.TypeFor[tx.PublicKey](): {"type": "string", "pattern": "^[a-z0-9]+:[A-Za-z0-9_-]+$", "description": "a public key, <alg>:<unpadded base64url> (docs/spec/transactions.md section 6.3)"},
}

// hexString is the pattern of lower-case hex.
const hexString = "^([0-9a-f]{2})*$"

var (
	describer     = reflect.TypeFor[interface{ JSONSchema() map[string]any }]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func newSchemaSet() *schemaSet {
	return &schemaSet{defs: map[string]any{}, names: map[reflect.Type]string{}}
}

// of returns the schema of t's JSON values.
func (s *schemaSet) of(t reflect.Type) map[string]any {
	if sc, ok := textSchemas[t]; ok {
		return sc
	}
	if t.Kind() != reflect.Pointer && t.Implements(describer) {
		return reflect.Zero(t).Interface().(interface{ JSONSchema() map[string]any }).JSONSchema()
	}
	if t.Kind() != reflect.Pointer && (t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)) {
		s.fail(fmt.Errorf("%v marshals itself: describe it in textSchemas", t))
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return s.of(t.Elem())
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			s.fail(fmt.Errorf("%v: only maps with string keys are described", t))
		}
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t)
		}
		name, ok := s.names[t]
		if !ok {
			name = t.Name()
			if _, taken := s.defs[name]; taken {
				name = strings.ReplaceAll(t.String(), ".", "_")
			}
			s.names[t] = name
			s.defs[name] = nil // recursion stops here
			s.defs[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	s.fail(fmt.Errorf("%v: no JSON Schema for kind %v", t, t.Kind()))
	return map[string]any{}
}

// object is the schema of the struct type t.
func (s *schemaSet) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	s.fields(t, props, &required, true)
	sc := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sc["required"] = required
	}
	return sc
}

// fields adds the JSON properties of struct t to props, and their names
// to required when req holds and a field has no omitempty. A name already
// in props (a shallower field) wins, as in encoding/json.
func (s *schemaSet) fields(t reflect.Type, props map[string]any, required *[]string, req bool) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			embedded = append(embedded, f)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omitempty := strings.Contains(","+opts+",", ",omitempty,")
		sc := s.of(f.Type)
		if e := f.Tag.Get("enum"); e != "" {
			sc = map[string]any{"type": "string", "enum": strings.Split(e, ",")}
		}
		switch f.Tag.Get("encoding") {
		case "hex":
			sc = map[string]any{"type": "string", "pattern": hexString}
		case "base64":
			sc = map[string]any{"type": "string", "contentEncoding": "base64"}
		case "":
		default:
			s.fail(fmt.Errorf("%v.%s: unknown encoding %q", t, f.Name, f.Tag.Get("encoding")))
		}
		if _, text := textSchemas[f.Type]; !omitempty && !text {
			switch f.Type.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map:
				sc = nullable(sc)
			}
		}
		props[name] = sc
		if req && !omitempty {
			*required = append(*required, name)
		}
	}
	for _, f := range embedded {
		et := f.Type
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		inner := map[string]any{}
		var innerReq []string
		s.fields(et, inner, &innerReq, req && f.Type.Kind() != reflect.Pointer)
		for name, sc := range inner {
			if _, ok := props[name]; !ok {
				props[name] = sc
			}
		}
		*required = append(*required, innerReq...)
	}
}

// nullable lets sc be null too.
func nullable(sc map[string]any) map[string]any {
	if t, ok := sc["type"].(string); ok {
		out := map[string]any{}
		for k, v := range sc {
			out[k] = v
		}
		out["type"] = []string{t, "null"}
		return out
	}
	return map[string]any{"anyOf": []any{sc, map[string]any{"type": "null"}}}
}

func (s *schemaSet) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}
