package api

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/tx"
)

// The W3C DID test suite's did-resolution and did-url-dereferencing
// checks, run against a node's HTTP(S) binding: testdata/w3c-did holds the
// checks (statement, guard, assertions), the matchers' regular
// expressions and the implementation fixtures' executions, copied from
// the suite (see its README). The test replays each execution against
// did:agora DIDs standing in for the fixture's and applies every check
// the suite would, interpreting its assertions.

// suiteCheck is one it() test of the suite.
type suiteCheck struct {
	Suite      string `json:"suite"`
	Statement  string `json:"statement"`
	Guard      *string
	Assertions []struct {
		Subject string `json:"subject"`
		Negated bool   `json:"negated"`
		Matcher string `json:"matcher"`
		Args    string `json:"args"`
	} `json:"assertions"`
}

// fixture is an implementation file of the suite.
type fixture struct {
	ExpectedOutcomes map[string][]int `json:"expectedOutcomes"`
	Executions       []struct {
		Function string `json:"function"`
		Input    struct {
			DID                string         `json:"did"`
			DIDURL             string         `json:"didUrl"`
			ResolutionOptions  map[string]any `json:"resolutionOptions"`
			DereferenceOptions map[string]any `json:"dereferenceOptions"`
		} `json:"input"`
	} `json:"executions"`
}

// undefined is JavaScript's undefined, distinct from null (nil).
type undefined struct{}

// applicability says, from a check's statement, when the suite applies
// it: the conditions the sentence itself states ("If the resolution is
// unsuccessful, ...") that the transcribed guard does not carry. Every
// condition a statement matches applies.
var applicability = []struct {
	phrases []string
	applies func(x *execution) bool
}{
	{[]string{"If the resolution is unsuccessful", "If the resolution is not successful", "in the case of an error", "when there is an error",
		"If the dereferencing is unsuccessful", "If the dereferencing is not successful"}, func(x *execution) bool { return x.failed() }},
	// DID Core § 7.1.2: contentType is required "if resolution is
	// successful and if the resolveRepresentation function was called".
	{[]string{"If the resolution is successful", "if resolution is successful", "If the dereferencing is successful", "was called and successful",
		"The caller of the resolveRepresentation function", "If resolveRepresentation was called", "The value of id in the resolved DID document",
		"To dereference a DID fragment"}, func(x *execution) bool { return !x.failed() }},
	{[]string{"resolveRepresentation was called", "resolveRepresentation function was called", "The caller of the resolveRepresentation function"},
		func(x *execution) bool { return x.function == "resolveRepresentation" }},
	{[]string{"if the resolve function was called", "MUST NOT be used with the resolve function"}, func(x *execution) bool { return x.function == "resolve" }},
	{[]string{"If a DID has not been deactivated"}, func(x *execution) bool { return x.outcome != "deactivatedOutcome" }},
	{[]string{"the value MUST be a conformant DID"}, func(x *execution) bool { return x.outcome != "invalidDidErrorOutcome" }},
	{[]string{"All DID URLs MUST conform", "A conformant DID URL as a single string"}, func(x *execution) bool { return x.outcome != "invalidDidUrlErrorOutcome" }},
	{[]string{"Options - The Media Type MUST be expressed"}, func(x *execution) bool { _, ok := x.options["accept"]; return ok }},
	{[]string{"equivalentId - Each"}, func(x *execution) bool { return x.has("didDocumentMetadata", "equivalentId") }},
	{[]string{"canonicalId - A canonicalId"}, func(x *execution) bool { return x.has("didDocumentMetadata", "canonicalId") }},
	{[]string{"To dereference a DID fragment"}, func(x *execution) bool { return strings.Contains(x.input, "#") }},
}

// semantic are the checks the suite makes through helpers rather than
// expect() assertions, by statement.
var semantic = map[string]func(x *execution) error{
	"this MUST be a DID document abstract data model (a map)": func(x *execution) error {
		if d, ok := x.env["didDocument"].(map[string]any); !ok || d["id"] == nil {
			return fmt.Errorf("didDocument %v is not a DID document", x.env["didDocument"])
		}
		return nil
	},
	"updated is later or equal than created": func(x *execution) error {
		md, _ := x.env["didDocumentMetadata"].(map[string]any)
		if u, ok := md["updated"].(string); ok && u < md["created"].(string) {
			return fmt.Errorf("updated %s before created %s", u, md["created"])
		}
		return nil
	},
	"If the resolution is successful, this MUST be a metadata structure.":   func(x *execution) error { return isMap(x.env["didDocumentMetadata"]) },
	"If the dereferencing is successful, this MUST be a metadata structure": func(x *execution) error { return isMap(x.env["contentMetadata"]) },
	"A metadata structure.": func(x *execution) error { return isMap(x.options) },
}

func isMap(v any) error {
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("%v is not a metadata structure", v)
	}
	return nil
}

// execution is one replayed execution: its input, expected outcome and
// the variables the suite's assertions name.
type execution struct {
	function, input, outcome string
	options                  map[string]any
	status                   int
	env                      map[string]any
}

func (x *execution) failed() bool { return strings.HasSuffix(x.outcome, "ErrorOutcome") }

func (x *execution) has(structure, prop string) bool {
	m, _ := x.env[structure].(map[string]any)
	_, ok := m[prop]
	return ok
}

// wantStatus is the HTTP status of each outcome (DID Resolution, HTTP(S)
// binding).
var wantStatus = map[string]int{
	"defaultOutcome":                         http.StatusOK,
	"deactivatedOutcome":                     http.StatusGone,
	"invalidDidErrorOutcome":                 http.StatusBadRequest,
	"invalidDidUrlErrorOutcome":              http.StatusBadRequest,
	"notFoundErrorOutcome":                   http.StatusNotFound,
	"representationNotSupportedErrorOutcome": http.StatusNotAcceptable,
}

func TestDIDTestSuite(t *testing.T) {
	var suite struct {
		Checks []suiteCheck `json:"checks"`
	}
	readJSONFile(t, "testdata/w3c-did/checks.json", &suite)
	var matchers struct {
		Matchers []struct {
			Name        string `json:"name"`
			Regex       string `json:"regex"`
			RejectRegex string `json:"reject_regex"`
			Pchar       string `json:"pchar"`
		} `json:"matchers"`
	}
	readJSONFile(t, "testdata/w3c-did/matchers.json", &matchers)
	m := newMatchers(t, matchers.Matchers)

	tn := newTestNode(t, nodeOptions{})
	ctrl, next, extra := keyFor(t, "suite controller"), keyFor(t, "suite next"), keyFor(t, "suite extra")
	c := &identity.Create{Keys: []identity.KeySpec{{PublicKey: ctrl.Public(), Relationships: []string{identity.Authentication, identity.CapabilityInvocation}}},
		Next: identity.Commitment(next.Public())}
	live := c.DID()
	tn.commit(t, identityTx(t, ctrl, 0, "create", c))
	seed := sha256.Sum256([]byte("suite p256"))
	p256, err := tx.NewPrivateKey(tx.P256, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	tn.commit(t, identityTx(t, ctrl, 1, "add-key", &identity.AddKey{DID: live, Key: identity.KeySpec{PublicKey: p256.Public(), Relationships: []string{identity.AssertionMethod}}}))
	gc := &identity.Create{Keys: []identity.KeySpec{{PublicKey: extra.Public(), Relationships: []string{identity.CapabilityInvocation}}}, Next: identity.Commitment(next.Public())}
	gone := gc.DID()
	tn.commit(t, identityTx(t, extra, 0, "create", gc))
	tn.commit(t, deactivateTx(t, gone, extra, 1, next, 0))
	unknown := "did:agora:" + strings.Repeat("a", 52)
	methods := map[string]bool{} // the live document's fragments
	for _, vm := range decode[identity.Resolution](t, tn.get(t, "/1.0/identifiers/"+live), http.StatusOK).Document.VerificationMethod {
		_, frag, _ := strings.Cut(vm.ID, "#")
		methods[frag] = true
	}

	files, _ := filepath.Glob("testdata/w3c-did/*re*-*.json")
	applied, executions := map[string]int{}, 0
	for _, f := range files {
		var fx fixture
		readJSONFile(t, f, &fx)
		outcome := map[int]string{}
		for name, idx := range fx.ExpectedOutcomes {
			for _, i := range idx {
				outcome[i] = name
			}
		}
		suiteName := "did-resolution"
		if strings.Contains(f, "dereferencer") {
			suiteName = "did-url-dereferencing"
		}
		for i, e := range fx.Executions {
			x := &execution{function: e.Function, outcome: outcome[i], options: e.Input.ResolutionOptions}
			in := e.Input.DID
			if suiteName == "did-url-dereferencing" {
				x.options, in = e.Input.DereferenceOptions, e.Input.DIDURL
			}
			if x.options == nil {
				x.options = map[string]any{}
			}
			if x.outcome == "" {
				t.Fatalf("%s: execution %d has no expected outcome", f, i)
			}
			// The fixture's DID stands for a DID with its outcome: a live
			// did:agora DID, a deactivated one, an unknown one; a DID
			// that is invalid is invalid for every method.
			x.input = substitute(in, x.outcome, live, gone, unknown, methods)
			if accept, ok := x.options["accept"].(string); ok && !slices.Contains(identity.MediaTypes, accept) {
				x.outcome = "representationNotSupportedErrorOutcome" // a representation Agora does not produce
			}
			if x.outcome == "representationNotSupportedErrorOutcome" {
				if _, ok := x.options["accept"]; !ok {
					t.Fatalf("%s: execution %d expects representationNotSupported without accept", f, i)
				}
			}
			x.replay(t, tn)
			if x.status != wantStatus[x.outcome] {
				t.Errorf("%s #%d %s %s: status %d, want %d (%s)", filepath.Base(f), i, x.function, x.input, x.status, wantStatus[x.outcome], x.outcome)
			}
			if strings.Contains(x.input, "#") && !x.failed() {
				without := &execution{function: x.function, input: strings.Split(x.input, "#")[0], options: x.options}
				without.replay(t, tn)
				x.env["executionWithoutFragment"] = without.env
				x.env["contentStreamWithoutFragment"] = without.env["contentStream"]
			}
			x.env["imp.executions"] = fx.Executions
			x.env["execution"] = e
			executions++
			for _, ck := range suite.Checks {
				if ck.Suite != suiteName || !x.applies(t, ck) {
					continue
				}
				if fn, ok := semantic[ck.Statement[strings.Index(ck.Statement, " - ")+3:]]; ok && len(ck.Assertions) == 0 {
					if err := fn(x); err != nil {
						t.Errorf("%s #%d %s: %s: %v", filepath.Base(f), i, x.input, ck.Statement, err)
					}
				}
				for _, a := range ck.Assertions {
					subject := x.eval(t, a.Subject)
					ok := m.match(t, a.Matcher, subject, x.eval(t, a.Args))
					if ok == a.Negated {
						t.Errorf("%s #%d %s %s (%s): %s\n  expect(%s = %#v).%s%s(%s)", filepath.Base(f), i, x.function, x.input, x.outcome, ck.Statement,
							a.Subject, subject, map[bool]string{true: "not."}[a.Negated], a.Matcher, a.Args)
					}
				}
				applied[ck.Suite]++
			}
		}
	}
	if executions < 20 || applied["did-resolution"] < 200 || applied["did-url-dereferencing"] < 50 {
		t.Errorf("%d executions, %v checks applied: the suite's data did not load", executions, applied)
	}
	t.Logf("%d executions, checks applied: %v", executions, applied)
}

// substitute returns the did:agora stand-in for a fixture's DID (or DID
// URL) with the expected outcome.
func substitute(in, outcome, live, gone, unknown string, fragments map[string]bool) string {
	did, frag, hasFrag := strings.Cut(in, "#")
	switch outcome {
	case "invalidDidErrorOutcome", "invalidDidUrlErrorOutcome":
		return in
	case "deactivatedOutcome":
		did = gone
	case "notFoundErrorOutcome":
		did = unknown
		if hasFrag && !fragments[frag] {
			did = live // an unknown fragment of a live DID
		}
	default:
		did = live
		if hasFrag && !fragments[frag] {
			frag = "key-1"
		}
	}
	if hasFrag {
		return did + "#" + frag
	}
	return did
}

// replay runs the execution against the node and sets the variables the
// assertions name from the answer.
func (x *execution) replay(t *testing.T, tn *testNode) {
	t.Helper()
	q := url.Values{}
	accept := ""
	for k, v := range x.options {
		if k == "accept" {
			accept = v.(string)
		} else {
			q.Set(k, fmt.Sprint(v))
		}
	}
	switch x.function {
	case "resolve":
		accept = identity.ResolutionType
	case "resolveRepresentation":
		if accept == "" {
			accept = identity.ContentType + ", " + identity.JSONType
		}
	case "dereference":
		if accept == "" {
			accept = identity.DereferencingType
		}
	default:
		t.Fatalf("function %q", x.function)
	}
	path := "/1.0/identifiers/" + url.PathEscape(x.input)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	req, _ := http.NewRequest("GET", tn.srv.URL+path, nil)
	req.Header.Set("Accept", accept)
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := fmt.Fprint(&body, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	x.status = resp.StatusCode
	ct := resp.Header.Get("Content-Type")
	x.env = map[string]any{"did": x.input, "didUrl": x.input, "expectedId": strings.Split(x.input, "#")[0],
		"resolutionOptions": x.options, "dereferenceOptions": x.options}
	var result map[string]any
	if ct == identity.ResolutionType || ct == identity.DereferencingType {
		if err := json.Unmarshal([]byte(body.String()), &result); err != nil {
			t.Fatalf("GET %s: %s answer %q: %v", path, ct, body.String(), err)
		}
	}
	stream := func(v any) string { // a stream: "" for none, else the bytes
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	orEmpty := func(v any) any {
		if v == nil {
			return map[string]any{}
		}
		return v
	}
	// Dereferencing a DID alone is resolving it: a result of either kind
	// answers either function.
	if result != nil && x.function == "dereference" && ct == identity.ResolutionType {
		result = map[string]any{"dereferencingMetadata": result["didResolutionMetadata"], "contentStream": result["didDocument"],
			"contentMetadata": result["didDocumentMetadata"]}
	}
	if result != nil && x.function != "dereference" && ct == identity.DereferencingType {
		result = map[string]any{"didResolutionMetadata": result["dereferencingMetadata"], "didDocument": result["contentStream"],
			"didDocumentMetadata": result["contentMetadata"]}
	}
	switch {
	case result != nil && x.function == "dereference":
		x.env["dereferencingMetadata"] = orEmpty(result["dereferencingMetadata"])
		x.env["contentStream"] = stream(result["contentStream"])
		x.env["contentMetadata"] = orEmpty(result["contentMetadata"])
	case result != nil:
		x.env["didResolutionMetadata"] = orEmpty(result["didResolutionMetadata"])
		x.env["didDocument"] = result["didDocument"]
		x.env["didDocumentStream"] = stream(result["didDocument"])
		x.env["didDocumentMetadata"] = orEmpty(result["didDocumentMetadata"])
		if x.function == "resolveRepresentation" {
			x.env["didDocumentStream"] = "" // a representation request answers a result only on failure
		}
	case x.function == "dereference": // the resource alone
		x.env["dereferencingMetadata"] = map[string]any{"contentType": ct}
		x.env["contentStream"] = body.String()
		x.env["contentMetadata"] = map[string]any{}
	default: // the representation alone
		x.env["didResolutionMetadata"] = map[string]any{"contentType": ct}
		x.env["didDocumentStream"] = body.String()
		x.env["didDocument"] = consume(body.String(), ct)
		x.env["didDocumentMetadata"] = map[string]any{}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// consume is the suite's utils.consumeRepresentation: the data model of
// a representation of a media type that DID Core defines, or nil.
func consume(stream, mediaType string) any {
	if mediaType != identity.ContentType && mediaType != identity.JSONType {
		return nil
	}
	var v map[string]any
	if json.Unmarshal([]byte(stream), &v) != nil {
		return nil
	}
	return v
}

// applies reports whether the suite applies check ck to the execution:
// its guard and its statement's conditions hold.
func (x *execution) applies(t *testing.T, ck suiteCheck) bool {
	for _, a := range applicability {
		for _, p := range a.phrases {
			if strings.Contains(ck.Statement, p) && !a.applies(x) {
				return false
			}
		}
	}
	if ck.Guard == nil {
		return true
	}
	g := *ck.Guard
	if m := regexp.MustCompile(`^if \((\w+)\.hasOwnProperty\('(\w+)'\)\) \{$`).FindStringSubmatch(g); m != nil {
		mm, _ := x.env[m[1]].(map[string]any)
		_, ok := mm[m[2]]
		return ok
	}
	if m := regexp.MustCompile(`expectedOutcome === '(\w+)'\)*\s*\{$`).FindStringSubmatch(g); m != nil {
		return x.outcome == m[1]
	}
	if m := regexp.MustCompile(`^if \(execution\.function === '(\w+)'\) \{$`).FindStringSubmatch(g); m != nil {
		return x.function == m[1]
	}
	t.Fatalf("guard %q: not understood", g)
	return false
}

// eval evaluates an assertion's subject or argument expression.
func (x *execution) eval(t *testing.T, expr string) any {
	t.Helper()
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return undefined{}
	case expr == "true" || expr == "false":
		return expr == "true"
	case strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'"):
		return strings.ReplaceAll(expr[1:len(expr)-1], `\\`, `\`)
	}
	if n, err := strconv.Atoi(expr); err == nil {
		return float64(n)
	}
	if m := regexp.MustCompile(`^([\w.]+)\((.*)\)$`).FindStringSubmatch(expr); m != nil {
		args := strings.Split(m[2], ", ")
		switch m[1] {
		case "Object.keys":
			mm, ok := x.eval(t, args[0]).(map[string]any)
			if !ok {
				return undefined{}
			}
			keys := []any{}
			for k := range mm {
				keys = append(keys, k)
			}
			return keys
		case "Array.isArray":
			_, ok := x.eval(t, args[0]).([]any)
			return ok
		case "utils.consumeRepresentation":
			s, _ := x.eval(t, args[0]).(string)
			mt, _ := x.eval(t, args[1]).(string)
			return consume(s, mt)
		case "utils.parseDidMethod":
			s, _ := x.eval(t, args[0]).(string)
			if parts := strings.SplitN(s, ":", 3); len(parts) == 3 {
				return parts[1]
			}
			return undefined{}
		}
		t.Fatalf("function %s: not understood", m[1])
	}
	if m := regexp.MustCompile(`^(\w+)\['(\w+)'\]$`).FindStringSubmatch(expr); m != nil {
		mm, _ := x.eval(t, m[1]).(map[string]any)
		if v, ok := mm[m[2]]; ok {
			return v
		}
		return undefined{}
	}
	if v, ok := x.env[expr]; ok {
		return v
	}
	switch expr {
	case "equivalentId", "canonicalId": // guarded by the metadata's property
		return undefined{}
	}
	t.Fatalf("subject %q: not understood", expr)
	return nil
}

// matchers are the suite's matchers, with its regular expressions.
type matchers map[string]*regexp.Regexp

func newMatchers(t *testing.T, defs []struct {
	Name        string `json:"name"`
	Regex       string `json:"regex"`
	RejectRegex string `json:"reject_regex"`
	Pchar       string `json:"pchar"`
}) matchers {
	m := matchers{}
	for _, d := range defs {
		re := d.Regex
		if d.Pchar != "" {
			re, _, _ = strings.Cut(re, " (PCHAR")
			re = strings.ReplaceAll(re, "PCHAR", "(?:"+d.Pchar+")")
		}
		if re == "" {
			continue
		}
		if d.Name == "toBeDidCoreDatetime" {
			re = "^" + re + "$" // "formatting the parsed instant gives back exactly the input"
		}
		m[d.Name] = regexp.MustCompile(re)
		if d.RejectRegex != "" {
			m[d.Name+"/reject"] = regexp.MustCompile(d.RejectRegex)
		}
	}
	return m
}

// match applies matcher to subject with arg.
func (m matchers) match(t *testing.T, matcher string, subject, arg any) bool {
	t.Helper()
	falsy := func(v any) bool {
		switch v := v.(type) {
		case nil, undefined:
			return true
		case bool:
			return !v
		case string:
			return v == ""
		case float64:
			return v == 0
		}
		return false
	}
	str, isStr := subject.(string)
	switch matcher {
	case "toBeFalsy":
		return falsy(subject)
	case "toBeTruthy":
		return !falsy(subject)
	case "toBeDefined":
		return subject != undefined{}
	case "toBe":
		return reflect.DeepEqual(subject, arg)
	case "toBeEmpty":
		return reflect.ValueOf(subject).Kind() == reflect.Slice && reflect.ValueOf(subject).Len() == 0
	case "toHaveLength":
		n, _ := arg.(float64)
		switch v := subject.(type) {
		case []any:
			return len(v) == int(n)
		case string:
			return len(v) == int(n)
		}
		return false
	case "toContain":
		l, _ := subject.([]any)
		return slices.Contains(l, arg)
	case "toMatch":
		return isStr && regexp.MustCompile(arg.(string)).MatchString(str)
	case "toBeValidDid":
		return isStr && m[matcher].MatchString(str) && !m[matcher+"/reject"].MatchString(str)
	case "toBeDidCoreDatetime":
		if !isStr || !m[matcher].MatchString(str) {
			return false
		}
		tm, err := time.Parse(time.RFC3339, str)
		return err == nil && tm.UTC().Format("2006-01-02T15:04:05Z") == str
	case "toBeMediaType", "toBeAsciiString", "toBeValidDidUrl":
		return isStr && m[matcher].MatchString(str)
	}
	t.Fatalf("matcher %s: not understood", matcher)
	return false
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
