package sdjwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Object is a JSON object whose members keep the order they were given in. An issuer
// writes its claims as an Object so that the payload and the Disclosures come out in a
// predictable byte order.
type Object []Member

// Member is one name/value pair of an Object. A Value of type SD makes the member
// selectively disclosable: it leaves the payload and becomes a Disclosure.
type Member struct {
	Name  string
	Value any
}

// SD marks a value as selectively disclosable. As the Value of a Member it makes that
// object property disclosable (RFC 9901 Section 4.2.1); as an element of a []any it
// makes that array element disclosable (Section 4.2.2). SD may wrap any value, including
// an Object or []any that itself holds SD values (recursive disclosures, Section 6.3).
type SD struct {
	Value any
}

// Get returns the value of the member named name, without unwrapping SD.
func (o Object) Get(name string) (any, bool) {
	for _, m := range o {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// ParseObject decodes a JSON object keeping the order of its members and the text of
// its numbers (as json.Number). It builds no SD values: mark them afterwards.
func ParseObject(data []byte) (Object, error) {
	v, err := parseOrdered(data)
	if err != nil {
		return nil, err
	}
	o, ok := v.(Object)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return o, nil
}

// parseOrdered decodes any JSON value, objects as Object.
func parseOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return v, nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
				}
				name := kt.(string)
				if _, dup := o.Get(name); dup {
					return nil, fmt.Errorf("%w: duplicate member %q", ErrMalformed, name)
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, Member{Name: name, Value: v})
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("%w: unexpected %v", ErrMalformed, t)
	default:
		return t, nil // string, json.Number, bool, nil
	}
}

// encode writes v as JSON the way RFC 9901's examples were produced (Python's
// json.dumps): ", " between elements, ": " after names, every character outside
// printable ASCII escaped as \uXXXX. Any JSON text is a valid Disclosure; this one
// reproduces the RFC's examples byte for byte. Maps are written with sorted keys.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeTo(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodeTo(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		return encodeString(b, x)
	case json.Number:
		if !json.Valid([]byte(x)) || x == "" {
			return fmt.Errorf("invalid number %q", string(x))
		}
		b.WriteString(string(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Errorf("number %v has no JSON form", x)
		}
		j, _ := json.Marshal(x)
		b.Write(j)
	case Object:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := encodeString(b, m.Name); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := encodeTo(b, m.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case map[string]any:
		names := make([]string, 0, len(x))
		for n := range x {
			names = append(names, n)
		}
		sort.Strings(names)
		o := make(Object, len(names))
		for i, n := range names {
			o[i] = Member{n, x[n]}
		}
		return encodeTo(b, o)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := encodeTo(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		return encodeTo(b, a)
	case SD:
		return fmt.Errorf("%w: SD outside an object member or array element", ErrClaims)
	default:
		return fmt.Errorf("%w: unsupported claim value type %T", ErrClaims, v)
	}
	return nil
}

func encodeString(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: string is not UTF-8", ErrClaims)
	}
	const hex = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + (r>>10)&0x3ff)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	b.WriteByte('"')
	return nil
}
