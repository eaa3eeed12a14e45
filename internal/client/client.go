// Package client talks to an Agora node's HTTP API: it builds and signs
// transactions with keys the caller holds, submits them, and reads
// blocks, transactions, accounts and module state.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/api/wire"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Client is a connection to one node.
type Client struct {
	base string
	hc   *http.Client
}

// New returns a client for the node at base, e.g. "http://127.0.0.1:7780".
func New(base string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 60 * time.Second}}
}

// NewPooled is New for a caller that asks the node many things at once
// (a relying party verifying logins): it keeps up to conns connections
// open to the node, where New's keeps two, so that concurrent requests
// reuse connections rather than open new ones.
func NewPooled(base string, conns int) *Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns
	return &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 60 * time.Second, Transport: t}}
}

// Error is an error answered by the node. Its text is the message and the
// code; the hint the node gave is carried beside it (ledger.HintOf finds
// it), and it unwraps to its code's sentinel, so that errors.Is(err,
// ledger.ErrSequence) holds for a node's bad_sequence.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%s)", e.Message, e.Code) }

func (e *Error) Unwrap() error { return ledger.Sentinel(e.Code) }

// ErrorOf returns the error a node answered with status and body: an
// *Error, carrying the answer's hint; nil if body holds no error object.
func ErrorOf(status int, body []byte) error {
	var e struct {
		Error *wire.Error `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return nil
	}
	return ledger.WithHint(&Error{Status: status, Code: e.Error.Code, Message: e.Error.Message}, e.Error.Hint)
}

// unreachable is the error of a request that reached no node.
func (c *Client) unreachable(err error) error {
	return ledger.WithHint(fmt.Errorf("cannot reach the node at %s: %w", c.base, err),
		"start one with 'agora dev', or point --node or AGORA_NODE at a running node")
}

// IsCode reports whether err is a node error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		if err := ErrorOf(resp.StatusCode, b); err != nil {
			return err
		}
		return &Error{Status: resp.StatusCode, Code: "http", Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: bad response: %w", method, path, err)
	}
	return nil
}

// Base returns the node's base URL, without a trailing slash.
func (c *Client) Base() string { return c.base }

// Info returns the node's information.
func (c *Client) Info(ctx context.Context) (*wire.Info, error) {
	var v wire.Info
	return &v, c.do(ctx, "GET", "/v1/node/info", nil, &v)
}

// Account returns an account; a key that never signed gets a not_found
// error.
func (c *Client) Account(ctx context.Context, addr string) (*wire.AccountView, error) {
	var v wire.AccountView
	return &v, c.do(ctx, "GET", "/v1/accounts/"+addr, nil, &v)
}

// NextSequence returns the sequence the next transaction of key must use.
func (c *Client) NextSequence(ctx context.Context, key tx.PublicKey) (uint64, error) {
	a, err := c.Account(ctx, key.Address())
	if IsCode(err, "not_found") {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return a.NextSequence, nil
}

// Tx returns a transaction by hash.
func (c *Client) Tx(ctx context.Context, id tx.ID) (*wire.TxView, error) {
	var v wire.TxView
	return &v, c.do(ctx, "GET", "/v1/tx/"+id.String(), nil, &v)
}

// Block returns the block at height ("latest" for the head).
func (c *Client) Block(ctx context.Context, height string) (*wire.BlockView, error) {
	var v wire.BlockView
	return &v, c.do(ctx, "GET", "/v1/blocks/"+height, nil, &v)
}

// GetRaw reads any GET route and returns its status and body as they are,
// errors included: for answers that carry proofs either way.
func (c *Client) GetRaw(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, b, err
}

// Get reads any GET route into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, "GET", path, nil, out)
}

// Submit submits a signed envelope; with wait it returns once the
// transaction is committed.
func (c *Client) Submit(ctx context.Context, raw []byte, wait bool) (*wire.SubmitResponse, error) {
	path := "/v1/tx"
	if wait {
		path += "?wait=commit"
	}
	var v wire.SubmitResponse
	return &v, c.do(ctx, "POST", path, wire.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw)}, &v)
}

// SubmitBatch submits many envelopes in one request.
func (c *Client) SubmitBatch(ctx context.Context, raws [][]byte) ([]wire.BatchItem, error) {
	return c.submitBatch(ctx, raws, "/v1/txs")
}

// SubmitBatchWait submits many envelopes and returns once every admitted
// one is committed, with its height and result code.
func (c *Client) SubmitBatchWait(ctx context.Context, raws [][]byte) ([]wire.BatchItem, error) {
	return c.submitBatch(ctx, raws, "/v1/txs?wait=commit")
}

func (c *Client) submitBatch(ctx context.Context, raws [][]byte, path string) ([]wire.BatchItem, error) {
	req := wire.BatchRequest{Txs: make([]string, len(raws))}
	for i, r := range raws {
		req.Txs[i] = base64.StdEncoding.EncodeToString(r)
	}
	var v struct {
		Results []wire.BatchItem `json:"results"`
	}
	if err := c.do(ctx, "POST", path, req, &v); err != nil {
		return nil, err
	}
	if len(v.Results) != len(raws) {
		return nil, fmt.Errorf("batch: %d results for %d transactions", len(v.Results), len(raws))
	}
	return v.Results, nil
}

// Build signs a single-signer transaction for the node's chain with the
// key's next sequence and an expiry ttl from now.
func (c *Client) Build(ctx context.Context, key *tx.PrivateKey, module, typ string, body any, ttl time.Duration) ([]byte, error) {
	return c.BuildMulti(ctx, []*tx.PrivateKey{key}, module, typ, body, ttl)
}

// BuildMulti is Build for a transaction signed by every one of keys, in
// order, each with its account's next sequence number.
func (c *Client) BuildMulti(ctx context.Context, keys []*tx.PrivateKey, module, typ string, body any, ttl time.Duration) ([]byte, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	b, err := tx.Marshal(body)
	if err != nil {
		return nil, err
	}
	t := &tx.Tx{Version: tx.Version, ChainID: info.ChainID, Module: module, Type: typ, Body: b,
		ExpiryTime: time.Now().Add(ttl).UnixMilli()}
	for _, key := range keys {
		seq, err := c.NextSequence(ctx, key.Public())
		if err != nil {
			return nil, err
		}
		t.Signers = append(t.Signers, tx.Signer{Key: key.Public(), Sequence: seq})
	}
	s, err := tx.Sign(t, keys...)
	if err != nil {
		return nil, err
	}
	return s.Encode()
}
