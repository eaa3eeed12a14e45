package console

import (
	"bytes"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
)

//go:embed templates
var templates embed.FS

// layout is the page around every view: the header, navigation, search
// box and footer; a view's template defines "main".
var layout = template.Must(template.New("layout.html").Funcs(Funcs).ParseFS(templates, "templates/layout.html"))

// Parse returns the template of a view: the layout with the files of fsys
// (each defining "main", and any templates they use) parsed into it.
// It panics on an error, like template.Must: templates are embedded, and
// a broken one is a bug the package's tests catch.
func Parse(fsys fs.FS, patterns ...string) *template.Template {
	return ParseWith(nil, fsys, patterns...)
}

// ParseWith is Parse with functions of the view's own beside Funcs.
func ParseWith(funcs template.FuncMap, fsys fs.FS, patterns ...string) *template.Template {
	t := template.Must(layout.Clone()).Funcs(funcs)
	return template.Must(t.ParseFS(fsys, patterns...))
}

// Funcs are the functions every template may call.
var Funcs = template.FuncMap{
	"when":     When,
	"did":      DID,
	"short":    Short,
	"num":      Num,
	"share":    Share,
	"check":    CheckHTML,
	"txlink":   TxLink,
	"path":     url.PathEscape,
	"hex":      func(b []byte) string { return hex.EncodeToString(b) },
	"prev":     func(h uint64) uint64 { return h - 1 },
	"next":     func(h uint64) uint64 { return h + 1 },
	"text":     Text,
	"attr":     Attr,
	"value":    Value,
	"duration": InWords,
	"anchor":   func(s string) string { return strings.ToLower(strings.NewReplacer(" ", "-", ",", "").Replace(s)) },
}

// When writes a time as a <time> element: ISO 8601 in UTC, which the
// script rewrites in the reader's time zone. It takes a time.Time, an
// RFC 3339 string or milliseconds since 1970 (as JSON numbers decode).
func When(v any) template.HTML {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return ""
		}
		t = *x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			return template.HTML(template.HTMLEscapeString(x))
		}
	default:
		// Milliseconds: a JSON number, or a module's own type (gov.Time).
		ms, ok := integer(v)
		if !ok || ms == 0 {
			return ""
		}
		t = time.UnixMilli(ms)
	}
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`,
		t.Format("2006-01-02T15:04:05.000Z"), t.Format("2006-01-02 15:04:05 UTC")))
}

// DID writes a DID shortened, linked to its page, with its whole value in
// the title and a button that copies it (shown by the script).
func DID(did string) template.HTML {
	id, ok := strings.CutPrefix(did, "did:agora:")
	if !ok {
		return template.HTML(template.HTMLEscapeString(did))
	}
	short := id
	if len(id) > 12 {
		short = id[:6] + "…" + id[len(id)-4:]
	}
	e := template.HTMLEscapeString
	return template.HTML(fmt.Sprintf(`<span class="id"><a href="/did/%s" title="%s">did:agora:%s</a>`+
		`<button type="button" class="copy" data-copy="%s" hidden>Copy</button></span>`,
		e(url.PathEscape(did)), e(did), e(short), e(did)))
}

// Short writes a long hexadecimal value as its first 8 and last 4
// digits, with the whole value in the title and a copy button.
func Short(s string) template.HTML {
	if len(s) <= 16 {
		return template.HTML(`<code>` + template.HTMLEscapeString(s) + `</code>`)
	}
	e := template.HTMLEscapeString
	return template.HTML(fmt.Sprintf(`<span class="id"><code title="%s">%s…%s</code>`+
		`<button type="button" class="copy" data-copy="%s" hidden>Copy</button></span>`, e(s), e(s[:8]), e(s[len(s)-4:]), e(s)))
}

// TxLink writes a transaction's hash shortened and linked to its page.
func TxLink(hash string) template.HTML {
	e := template.HTMLEscapeString
	s := hash
	if len(s) > 12 {
		s = s[:8] + "…"
	}
	return template.HTML(fmt.Sprintf(`<a href="/tx/%s" title="%s"><code>%s</code></a>`, e(hash), e(hash), e(s)))
}

// Num writes a whole number with thousands separators: 1,204.
func Num(v any) string {
	n, ok := integer(v)
	if !ok {
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// rfc3339 finds times in a module's text (a timeline's note).
var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z`)

// permille finds thresholds in thousandths in a module's text.
var permille = regexp.MustCompile(`(\d+)‰`)

// address matches an account's address: 20 bytes in hex.
var address = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Text writes a module's text with the times in it as When writes them,
// so that the page has one time format, and its thresholds in words.
func Text(s string) template.HTML {
	s = permille.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimSuffix(m, "‰"))
		return Share(n)
	})
	var b strings.Builder
	last := 0
	for _, m := range rfc3339.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		b.WriteString(string(When(s[m[0]:m[1]])))
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}

// Attr writes the value of an event's attribute: a DID as DID writes
// it, a file's digest linked to its record, a transaction's hash to the
// transaction, anything else as Text.
func Attr(key, value string) template.HTML {
	switch {
	case strings.HasPrefix(value, "did:agora:"):
		return DID(value)
	case len(value) == 64 && key == "sha256":
		return template.HTML(`<a href="/anchor/` + template.HTMLEscapeString(value) + `">` + string(Short(value)) + `</a>`)
	case len(value) == 64 && (key == "tx" || strings.HasSuffix(key, "_tx")):
		return TxLink(value)
	case address.MatchString(value):
		return Short(value)
	}
	return Text(value)
}

// Value writes a value decoded from JSON for a reader: a whole number
// with separators, a string as it is, anything else as JSON.
func Value(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return Num(x)
		}
	case nil:
		return "none"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// InWords writes a duration ("1m30s", or a value whose String is one) in
// words: "1 minute 30 seconds".
func InWords(v any) string {
	s := fmt.Sprint(v)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return s
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if n := d / u.d; n > 0 {
			d -= n * u.d
			if n == 1 {
				parts = append(parts, "1 "+u.name)
			} else {
				parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
			}
		}
	}
	if len(parts) == 0 {
		return s
	}
	return strings.Join(parts, " ")
}

// integer is v as a whole number, of any integer or float type (JSON's
// numbers are floats), named or not.
func integer(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return 0, false
	case rv.CanInt():
		return rv.Int(), true
	case rv.CanUint():
		return int64(rv.Uint()), true
	case rv.CanFloat():
		return int64(rv.Float()), true
	}
	return 0, false
}

// Share says a threshold in thousandths in words: 500 is "at least
// half", 501 "more than half", 667 "more than two thirds"; one that is no
// simple fraction is a percentage.
func Share(permille any) string {
	p, _ := integer(permille)
	if p >= 1000 {
		return "all"
	}
	for _, f := range []struct {
		n, d int64
		name string
	}{{1, 2, "half"}, {2, 3, "two thirds"}, {3, 4, "three quarters"}, {1, 3, "one third"}, {1, 4, "a quarter"}} {
		switch {
		case p*f.d == 1000*f.n:
			return "at least " + f.name
		case p == 1000*f.n/f.d+1:
			// the smallest number of thousandths above the fraction
			return "more than " + f.name
		}
	}
	if p%10 == 0 {
		return fmt.Sprintf("at least %d%%", p/10)
	}
	return fmt.Sprintf("at least %d.%d%%", p/10, p%10)
}

// CheckHTML writes a Check as the box the script fills in. Without
// JavaScript it says that nothing was checked.
func CheckHTML(c Check) template.HTML {
	e := template.HTMLEscapeString
	return template.HTML(fmt.Sprintf(`<div class="check" role="status" data-kind="%s" data-path="%s" data-digest="%s" data-witnesses="%s" data-what="%s">`+
		`<p><strong>Not checked.</strong> With JavaScript on, your browser checks %s against the ledger's signed checkpoint.</p></div>`,
		e(c.Kind), e(c.Path), e(c.Digest), e(strings.Join(c.Witnesses, " ")), e(c.What), e(c.What)))
}

// page is what the layout renders.
type page struct {
	Title   string
	Nav     []navEntry
	Query   string
	ChainID string
	LogKey  string
	// Validators is a network's validator set as JSON, "" for none: the
	// browser trusts it, as it trusts LogKey, from the first visit on.
	Validators string
	Height     uint64
	Data       any
	Status     int
	Problem    *problem
	Template   *template.Template
}

type navEntry struct{ Text, Path string }

type problem struct {
	Title, Message, Hint string
}

// render serves a page: it renders the view f returns in the layout, or
// the error it returns as a page with the API's status.
func (c *Console) render(f func(Ledger, *http.Request) (*View, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &page{Nav: c.nav(), Query: r.URL.Query().Get("q")}
		if inf, err := c.ledger.Info(); err == nil {
			p.ChainID, p.LogKey, p.Height = inf.ChainID, inf.LogKey, inf.Height
		}
		if raw, err := c.ledger.Query("/v1/ledger/validators"); err == nil {
			var vs []json.RawMessage
			if json.Unmarshal(raw, &vs) == nil && len(vs) > 0 {
				p.Validators = string(raw)
			}
		}
		v, err := f(c.ledger, r)
		var redirect *Redirect
		switch {
		case errors.As(err, &redirect):
			http.Redirect(w, r, redirect.Path, http.StatusSeeOther)
			return
		case err != nil:
			p.Status, p.Problem = problemOf(err)
			p.Title = p.Problem.Title
			p.Template = errorPage
		default:
			p.Title, p.Data, p.Template = v.Title, v.Data, v.Template
		}
		var buf bytes.Buffer
		if err := p.Template.ExecuteTemplate(&buf, "layout.html", p); err != nil {
			c.log.Error("console page failed", "path", r.URL.Path, "err", err)
			http.Error(w, "the page could not be rendered: see the node's log", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if p.Status != 0 {
			w.WriteHeader(p.Status)
		}
		w.Write(buf.Bytes())
	})
}

// A Redirect, returned by a page's Render, sends the reader to Path.
type Redirect struct{ Path string }

func (r *Redirect) Error() string { return "see " + r.Path }

var errorPage = Parse(templates, "templates/error.html")

func problemOf(err error) (int, *problem) {
	var e *wire.Error
	if errors.As(err, &e) {
		title := "Something went wrong"
		switch {
		case e.Status == http.StatusNotFound:
			title = "Not found"
		case e.Status >= 400 && e.Status < 500:
			title = "That cannot be shown"
		}
		status := e.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		return status, &problem{Title: title, Message: e.Message, Hint: e.Hint}
	}
	return http.StatusInternalServerError, &problem{Title: "Something went wrong", Message: "the node could not answer: see its log"}
}

func (c *Console) nav() []navEntry {
	out := []navEntry{{"Home", "/"}}
	for _, s := range c.sections {
		if s.Home != "" {
			out = append(out, navEntry{s.Nav, s.Home})
		}
	}
	return append(out, navEntry{"Log", "/log"}, navEntry{"Glossary", "/glossary"})
}
