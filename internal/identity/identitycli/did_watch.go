package identitycli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/verify"
)

// didWatch polls a DID's history and prints each new event. With a log
// key every answer must come with a proof that it is complete; a proof
// that fails, or a history that lost or changed an event it showed
// before, ends the watch with an error.
func didWatch(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("did watch", didUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	tr := cli.TrustFlags(fs)
	interval := fs.Duration("interval", 2*time.Second, "how often to poll")
	once := fs.Bool("once", false, "print the history once and exit")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora did watch DID")
	}
	did := pos[0]
	if _, err := identity.ParseDID(did); err != nil {
		return cli.UsageError("%q is not a did:agora DID", did)
	}
	if *interval <= 0 {
		return cli.UsageError("--interval must be positive")
	}
	policy, err := tr.Policy()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := client.New(*nodeURL)
	var seen []string // the events shown so far, as normalised JSON
	for {
		evs, cp, err := fetchHistory(ctx, c, did, policy)
		if err == nil && cp != nil {
			err = cli.AcceptOrRefuse(tr.Accept(ctx, c, policy, cp))
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && (*once || isVerifyFailure(err)):
			return err
		case err != nil: // the node may be restarting: try again
			fmt.Fprintf(stderr, "agora did watch: %v\n", err)
		default:
			if len(evs) < len(seen) {
				return &cli.ExitError{Code: 1, Err: fmt.Errorf("ALERT: the history of %s shrank from %d to %d events", did, len(seen), len(evs))}
			}
			for i := range seen {
				if evs[i] != seen[i] {
					return &cli.ExitError{Code: 1, Err: fmt.Errorf("ALERT: event %d of %s changed", i+1, did)}
				}
			}
			for _, e := range evs[len(seen):] {
				if err := printEvent(stdout, json.RawMessage(e)); err != nil {
					return err
				}
			}
			if cp != nil && (len(evs) > len(seen) || *once) {
				fmt.Fprintf(stdout, "     proven complete (%d events) %s\n", len(evs), cli.ProvenAt(cp))
			}
			seen = evs
		}
		if *once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// isVerifyFailure reports whether err is fetchHistory's verdict that the
// node's answer is not proven.
func isVerifyFailure(err error) bool {
	var e *cli.ExitError
	return errors.As(err, &e)
}

// fetchHistory gets the history of did, each event as normalised JSON,
// following the history query's pages (fetchPage) from the first.
func fetchHistory(ctx context.Context, c *client.Client, did string, policy *verify.Policy) ([]string, *verify.Checkpoint, error) {
	var all []string
	var cp *verify.Checkpoint
	for from := uint64(1); from != 0; {
		evs, next, pcp, err := fetchPage(ctx, c, did, from, policy)
		if err != nil {
			return nil, nil, err
		}
		if next != 0 && next <= from {
			return nil, nil, fmt.Errorf("the node's page from %d says the next starts at %d", from, next)
		}
		all, cp, from = append(all, evs...), pcp, next
	}
	return all, cp, nil
}

// fetchPage gets the page of did's history that starts at version from:
// its events as normalised JSON and the version the next page starts at
// (0 after the last). With a policy it asks for proof=1, checks the
// proof, answers the query again from the proven values and requires the
// node's page to be the same: an event omitted, added or altered, or a
// count or next page that is not the proven one, is an error (an
// *cli.ExitError).
func fetchPage(ctx context.Context, c *client.Client, did string, from uint64, policy *verify.Policy) ([]string, uint64, *verify.Checkpoint, error) {
	path := "/v1/identity/dids/" + url.PathEscape(did) + "/history?from=" + strconv.FormatUint(from, 10)
	if policy != nil {
		path += "&proof=1"
	}
	status, body, err := c.GetRaw(ctx, path)
	if err != nil {
		return nil, 0, nil, err
	}
	if status != http.StatusOK {
		if err := client.ErrorOf(status, body); err != nil {
			return nil, 0, nil, err
		}
		return nil, 0, nil, fmt.Errorf("GET %s: status %d", path, status)
	}
	var page struct {
		Events []json.RawMessage `json:"events"`
		Next   uint64            `json:"next"`
	}
	if policy == nil {
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, 0, nil, fmt.Errorf("the node's answer is not a page of events: %w", err)
		}
		out, err := normalise(page.Events)
		return out, page.Next, nil, err
	}
	var doc struct {
		Value json.RawMessage    `json:"value"`
		Proof *verify.StateProof `json:"proof"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, nil, fmt.Errorf("the node's answer is not JSON: %w", err)
	}
	if doc.Proof == nil {
		return nil, 0, nil, cli.NotVerified(errors.New("the node answered without a proof"))
	}
	vals, cp, err := verify.State(doc.Proof, *policy)
	if err != nil {
		return nil, 0, nil, cli.NotVerified(err)
	}
	if err := identity.VerifyHistory(vals, did, from, identity.HistoryPageSize, doc.Value); err != nil {
		return nil, 0, nil, cli.NotVerified(errors.New(strings.TrimPrefix(err.Error(), "invalid: ")))
	}
	if err := json.Unmarshal(doc.Value, &page); err != nil {
		return nil, 0, nil, err
	}
	got, err := normalise(page.Events)
	if err != nil {
		return nil, 0, nil, err
	}
	return got, page.Next, cp, nil
}

// normalise re-encodes each event so that equal events are equal strings.
func normalise(evs []json.RawMessage) ([]string, error) {
	out := make([]string, len(evs))
	for i, e := range evs {
		var v any
		if err := json.Unmarshal(e, &v); err != nil {
			return nil, fmt.Errorf("event %d is not JSON: %w", i+1, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	return out, nil
}
