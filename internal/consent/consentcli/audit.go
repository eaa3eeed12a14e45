package consentcli

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/consent"
	"github.com/agora-ledger/agora/verify"
)

// An entry is one logged use as the subject's audit shows it: the
// proven record, with the items named by the subject's own terms.
type entry struct {
	consent.Record
	Depth     uint32   `json:"depth"`
	ItemTypes []string `json:"item_types"`
}

// trail is the proven history of a contract and of every contract derived
// from it, in the order of the walk (a contract, then its derived ones).
type trail struct {
	Contracts []consent.Contract `json:"contracts"`
	Uses      []entry            `json:"uses"`
	// Checkpoint is the newest checkpoint a page was proven against.
	Checkpoint *verify.Checkpoint `json:"checkpoint"`
	Pages      int                `json:"pages"`
}

// walk reads, page by page and each page proven under tr, the uses of the
// contract of t and of the contracts derived from it.
func walk(ctx context.Context, c *client.Client, tr *cli.Trust, t *consent.Terms) (*trail, error) {
	types := map[string]string{}
	for i := range t.Items {
		types[hex.EncodeToString(consent.Fingerprint(consent.TagItem, t.Items[i].Salt, &t.Items[i].Item))] = t.Items[i].Type
	}
	out := &trail{}
	queue := []string{t.ID()}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for from := uint64(1); from != 0; {
			var p consent.Page
			cp, err := cli.ModuleQuery(ctx, c, consent.Module{}, "uses",
				map[string]string{"id": id, "from": strconv.FormatUint(from, 10)}, tr, &p)
			if err != nil {
				return nil, fmt.Errorf("contract %s, uses from %d: %w", id, from, err)
			}
			out.Pages++
			if out.Checkpoint == nil || cp.Height > out.Checkpoint.Height {
				out.Checkpoint = cp
			}
			if from == 1 {
				out.Contracts = append(out.Contracts, p.Contract)
				queue = append(queue, p.Contract.Children...)
			}
			for _, r := range p.Uses {
				e := entry{Record: r, Depth: p.Contract.Depth}
				for _, i := range r.Items {
					name := "item " + strconv.Itoa(int(i))
					if int(i) < len(p.Contract.Items) {
						if ty, ok := types[hex.EncodeToString(p.Contract.Items[i])]; ok {
							name = ty
						}
					}
					e.ItemTypes = append(e.ItemTypes, name)
				}
				out.Uses = append(out.Uses, e)
			}
			from = p.Next
		}
	}
	return out, nil
}

// provenTrail parses the arguments of audit and export (one TERMS.json,
// the trust flags, which are required) and walks the contract's trail.
func provenTrail(fs *flag.FlagSet, args []string) (*trail, *consent.Terms, error) {
	nodeURL := cli.NodeFlag(fs)
	tr := cli.TrustFlags(fs)
	path, err := termsArgs(fs, args)
	if err != nil {
		return nil, nil, err
	}
	p, err := tr.Policy()
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		return nil, nil, cli.UsageError("--log-key KEY (or AGORA_LOG_KEY) or --validators FILE is required: every answer is proven")
	}
	t, err := sealed(path)
	if err != nil {
		return nil, nil, err
	}
	tl, err := walk(context.Background(), client.New(*nodeURL), tr, t)
	return tl, t, err
}

func audit(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("consent audit", usage, stderr)
	asJSON := fs.Bool("json", false, "print the proven trail as JSON")
	tl, t, err := provenTrail(fs, args)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, tl)
	}
	fmt.Fprintf(stdout, "audit of contract %s (subject %s)\n", t.ID(), t.Subject.DID)
	for _, c := range tl.Contracts {
		role := "the subject's contract"
		if c.Parent != "" {
			role = "derived from " + short(c.Parent)
		}
		fmt.Fprintf(stdout, "contract %s  %s, %d uses", short(c.ID), role, c.Uses)
		if c.Revoked != 0 {
			fmt.Fprintf(stdout, ", revoked %s", stamp(c.Revoked))
		}
		fmt.Fprintln(stdout)
	}
	refused := 0
	for _, e := range tl.Uses {
		who, _, _ := strings.Cut(e.Actor, "#")
		l := fmt.Sprintf("%s  %s #%d  %s  %s %s", stamp(e.Time), short(e.Contract), e.Seq, who, e.Event, strings.Join(e.ItemTypes, ","))
		for _, kv := range [][2]string{{"purpose", e.Purpose}, {"recipient", e.Recipient}, {"place", e.Place}} {
			if kv[1] != "" {
				l += " " + kv[0] + "=" + kv[1]
			}
		}
		l += " -> " + e.Decision
		if e.Method != "" {
			l += " (" + e.Method + ")"
		}
		if e.Decision == consent.DecRefused || e.Decision == consent.ActDeny {
			refused++
			l += " (" + e.Reason + ")"
		}
		if e.Release != 0 {
			l += " until " + stamp(e.Release)
			if e.Released {
				l += " (released)"
			}
		}
		if e.DeleteBy != 0 {
			l += " delete by " + stamp(e.DeleteBy)
			if e.DeleteDue {
				l += " (due)"
			}
		}
		if e.Child != "" {
			l += " derived " + short(e.Child)
		}
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "%d uses in %d contracts, %d denied or refused\n", len(tl.Uses), len(tl.Contracts), refused)
	fmt.Fprintf(stdout, "proven: %d pages, each against a checkpoint of %s; the newest at height %d, as of %s\n",
		tl.Pages, tl.Checkpoint.Origin, tl.Checkpoint.Height, cli.TimeOf(tl.Checkpoint))
	return nil
}

func export(args []string, stdout, stderr io.Writer) error {
	tl, t, err := provenTrail(cli.NewFlags("consent export", usage, stderr), args)
	if err != nil {
		return err
	}
	// The processors are the DIDs that asked the derived contracts.
	var processors []string
	for _, e := range tl.Uses {
		if who, _, _ := strings.Cut(e.Actor, "#"); e.Depth > tl.Contracts[0].Depth && !slices.Contains(processors, who) {
			processors = append(processors, who)
		}
	}
	return cli.PrintJSON(stdout, consent.ISO27560(t, &tl.Contracts[0], processors))
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
