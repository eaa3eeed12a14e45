package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// ModuleQuery answers module m's query name with params into out: those
// the query's pattern names fill its path, the others (its Params) go in
// the query string. With a
// policy it asks for a proof and accepts the node's answer (or its
// refusal) only if verify.Answer does: the query, run again over the
// proven values alone, gives the same; it then returns the checkpoint the
// answer is proven against, once tr accepts it as fresh. Without a policy
// (tr nil, or no trust flags given) the node is trusted.
func ModuleQuery(ctx context.Context, c *client.Client, m ledger.Module, name string, params map[string]string, tr *Trust, out any) (*verify.Checkpoint, error) {
	var policy *verify.Policy
	if tr != nil {
		var err error
		if policy, err = tr.Policy(); err != nil {
			return nil, err
		}
	}
	var q ledger.Query
	for _, qq := range m.Queries() {
		if qq.Name == name {
			q = qq
		}
	}
	// Path wildcards take their parameters; the rest go in the query
	// string.
	path := strings.TrimPrefix(q.Pattern, "GET ")
	query := url.Values{}
	for k, v := range params {
		if wild := "{" + k + "}"; strings.Contains(path, wild) {
			path = strings.Replace(path, wild, url.PathEscape(v), 1)
		} else if v != "" {
			query.Set(k, v) // a query parameter (ledger.Query.Params)
		}
	}
	if policy == nil {
		if len(query) > 0 {
			path += "?" + query.Encode()
		}
		return nil, c.Get(ctx, path, out)
	}
	query.Set("proof", "1")
	status, body, err := c.GetRaw(ctx, path+"?"+query.Encode())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Error *client.Error `json:"error"`
	}
	a, cp, err := verify.Verified(m, q, params, body, *policy)
	if err != nil || a.Refusal != "" {
		if jerr := json.Unmarshal(body, &doc); jerr != nil {
			return nil, fmt.Errorf("the node's answer (status %d) is not JSON: %w", status, jerr)
		}
	}
	if err != nil && doc.Error != nil {
		if _, perr := verify.ParseAnswer(body); perr != nil {
			doc.Error.Status = status
			return nil, doc.Error // a refusal without a proof: not a query's answer
		}
	}
	if err == nil {
		err = tr.Accept(ctx, c, policy, cp)
	}
	if err != nil {
		return nil, NotVerified(err)
	}
	if doc.Error != nil {
		doc.Error.Status = status
		doc.Error.Message += fmt.Sprintf(" (proven against the checkpoint of %s at height %d)", cp.Origin, cp.Height)
		return nil, doc.Error
	}
	if setProven(out, a.Proven) {
		return cp, nil
	}
	return cp, json.Unmarshal(a.Value, out)
}

// setProven sets *out to the proven answer v (verify.Answered.Proven),
// already decoded, when v is of out's type or a pointer to it; it
// reports whether it did.
func setProven(out, v any) bool {
	o, p := reflect.ValueOf(out), reflect.ValueOf(v)
	if o.Kind() != reflect.Pointer || o.IsNil() || !p.IsValid() {
		return false
	}
	if p.Kind() == reflect.Pointer && p.Type().Elem() == o.Type().Elem() {
		if p.IsNil() {
			return false
		}
		p = p.Elem()
	}
	if p.Type() != o.Type().Elem() {
		return false
	}
	o.Elem().Set(p)
	return true
}

// AcceptOrRefuse turns Trust.Accept's refusal into an answer that does
// not verify.
func AcceptOrRefuse(err error) error {
	if err != nil {
		return NotVerified(err)
	}
	return nil
}

// NotVerified is the error of an answer that does not verify: exit
// status 1.
func NotVerified(err error) error {
	return &ExitError{Code: 1, Err: fmt.Errorf("NOT verified: %w", err)}
}

// TimeOf is a checkpoint's block time as a report shows it.
func TimeOf(c *verify.Checkpoint) string {
	if c.Time.IsZero() {
		return "unknown (the checkpoint carries no time)"
	}
	return c.Time.Format(time.RFC3339Nano)
}

// ProvenAt says which checkpoint a proven answer was checked against:
// "against the checkpoint of ORIGIN at height H, as of TIME".
func ProvenAt(c *verify.Checkpoint) string {
	return fmt.Sprintf("against the checkpoint of %s at height %d, as of %s", c.Origin, c.Height, TimeOf(c))
}

// ReadInput reads a file, or standard input for "-".
func ReadInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no file %s", path)
	}
	return b, err
}
