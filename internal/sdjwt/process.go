package sdjwt

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Path locates a claim in the payload: object member names (string) and array indexes
// (int; the index in the issuer's array, counting undisclosed elements).
type Path []any

func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch x := e.(type) {
		case string:
			b.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(x, "~", "~0"), "/", "~1"))
		case int:
			b.WriteString("/" + strconv.Itoa(x))
		}
	}
	return b.String()
}

// placed is a Disclosure found in the payload: where it sits, and the Disclosure (if
// any) whose value holds it.
type placed struct {
	Disclosure
	Path   Path
	Parent string // digest of the enclosing Disclosure, "" at the payload's level
}

// processor rebuilds the claims from a payload and Disclosures (RFC 9901 Section 7.1,
// step 3), enforcing every rule of that section.
type processor struct {
	byDigest map[string]Disclosure
	order    []string        // the digests in the order the Disclosures came
	seen     map[string]bool // every digest met, disclosed or not
	found    []placed
	// topLevel, if set, refuses a Disclosure of one of these names at the top level.
	topLevel map[string]bool
}

func newProcessor(disclosures []string) (*processor, error) {
	p := &processor{byDigest: map[string]Disclosure{}, seen: map[string]bool{}}
	for _, enc := range disclosures {
		d, err := DecodeDisclosure(enc)
		if err != nil {
			return nil, err
		}
		dg := Digest(enc)
		if _, dup := p.byDigest[dg]; dup {
			return nil, fmt.Errorf("%w: the same disclosure is included twice", ErrDisclosure)
		}
		p.byDigest[dg] = d
		p.order = append(p.order, dg)
	}
	return p, nil
}

// run processes the payload and checks that every Disclosure was used.
func (p *processor) run(payload map[string]any) (map[string]any, error) {
	if alg, ok := payload["_sd_alg"]; ok && alg != HashAlg {
		return nil, fmt.Errorf("%w: _sd_alg %v is not supported (only %s)", ErrDisclosure, alg, HashAlg)
	}
	out, err := p.object(payload, nil, "")
	if err != nil {
		return nil, err
	}
	delete(out, "_sd_alg")
	for _, dg := range p.order {
		if !p.seen[dg] {
			return nil, fmt.Errorf("%w: disclosure %q is not referenced by the payload", ErrDisclosure, p.byDigest[dg].Encoded)
		}
	}
	return out, nil
}

func (p *processor) value(v any, path Path, parent string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		return p.object(x, path, parent)
	case []any:
		return p.array(x, path, parent)
	default:
		return v, nil
	}
}

// meet records a digest and reports whether a Disclosure has it.
func (p *processor) meet(dg string) (Disclosure, bool, error) {
	if p.seen[dg] {
		return Disclosure{}, false, fmt.Errorf("%w: digest %s appears more than once", ErrDisclosure, dg)
	}
	p.seen[dg] = true
	d, ok := p.byDigest[dg]
	return d, ok, nil
}

func (p *processor) object(o map[string]any, path Path, parent string) (map[string]any, error) {
	out := make(map[string]any, len(o))
	names := make([]string, 0, len(o))
	for name := range o {
		if name != "_sd" {
			names = append(names, name)
		}
	}
	sort.Strings(names) // errors and the order of found Disclosures do not depend on map order
	for _, name := range names {
		v := o[name]
		sub, err := p.value(v, append(path[:len(path):len(path)], name), parent)
		if err != nil {
			return nil, err
		}
		out[name] = sub
	}
	raw, ok := o["_sd"]
	if !ok {
		return out, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: _sd at %s is not an array", ErrMalformed, path)
	}
	for _, e := range list {
		dg, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%w: _sd at %s holds a non-string", ErrMalformed, path)
		}
		d, ok, err := p.meet(dg)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // a decoy or an undisclosed claim
		}
		if d.IsElement {
			return nil, fmt.Errorf("%w: array element disclosure referenced from _sd at %s", ErrDisclosure, path)
		}
		if d.Name == "_sd" || d.Name == "..." {
			return nil, fmt.Errorf("%w: disclosure claim name %q is reserved", ErrDisclosure, d.Name)
		}
		if _, clash := out[d.Name]; clash {
			return nil, fmt.Errorf("%w: disclosed claim %q already exists at %s", ErrDisclosure, d.Name, path)
		}
		if parent == "" && len(path) == 0 && p.topLevel[d.Name] {
			return nil, fmt.Errorf("%w: claim %q must not be selectively disclosable", ErrDisclosure, d.Name)
		}
		at := append(path[:len(path):len(path)], d.Name)
		p.found = append(p.found, placed{Disclosure: d, Path: at, Parent: parent})
		sub, err := p.value(d.Value, at, dg)
		if err != nil {
			return nil, err
		}
		out[d.Name] = sub
	}
	return out, nil
}

func (p *processor) array(a []any, path Path, parent string) ([]any, error) {
	out := make([]any, 0, len(a))
	for i, e := range a {
		at := append(path[:len(path):len(path)], i)
		if m, ok := e.(map[string]any); ok && len(m) == 1 {
			if raw, ok := m["..."]; ok {
				dg, ok := raw.(string)
				if !ok {
					return nil, fmt.Errorf("%w: array element digest at %s is not a string", ErrMalformed, at)
				}
				d, ok, err := p.meet(dg)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue // undisclosed or decoy: the element is dropped
				}
				if !d.IsElement {
					return nil, fmt.Errorf("%w: object property disclosure referenced from an array at %s", ErrDisclosure, at)
				}
				p.found = append(p.found, placed{Disclosure: d, Path: at, Parent: parent})
				sub, err := p.value(d.Value, at, dg)
				if err != nil {
					return nil, err
				}
				out = append(out, sub)
				continue
			}
		}
		sub, err := p.value(e, at, parent)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}
