// Package assetcli is the asset module's commands: 'agora asset
// register|show|history|rule|trigger|triggers|dispute' and 'agora oracle
// observe|submit'. cmd/agora's registry takes them from Commands; 'agora
// asset types|send' are generated from the module's message types
// (cli.ModuleCommands).
package assetcli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/asset"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Commands returns the asset module's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: asset.Name, Run: runAsset, Usage: "asset register|show|history|rule|trigger|triggers|dispute",
			Summary: "assets whose ownership changes when accredited data providers sign an observation"},
		{Name: "oracle", Run: runOracle, Usage: "oracle observe|submit", Summary: "sign an observation as a data provider, and submit it"},
	}
}

const assetUsage = `
Usage:
  agora asset register ID --key NAME --owner DID --place LAT,LON [--description TEXT] [--meta KEY=VALUE]...
  agora asset show ID [--json] [--log-key KEY | --validators FILE]
  agora asset history ID [--json] [--log-key KEY | --validators FILE]
  agora asset rule ID --key NAME --type TYPE --radius METRES --from TIME --until TIME
        --providers A,B,C --threshold K --to DID [--center LAT,LON] [--min-value N]
        [--dispute-window DURATION]
  agora asset trigger N [--json] [--log-key KEY | --validators FILE]
  agora asset triggers [--before N] [--limit N] [--json] [--log-key KEY | --validators FILE]
  agora asset dispute N --key NAME --reason TEXT
  agora asset types
  agora asset send TYPE BODY.json --key NAME

register records an asset owned by DID; your key NAME must act for it
(capabilityInvocation). Places are decimal degrees, at most six decimals.
rule adds a rule to your asset: when K of the providers (names in the
governance registry "oracles") sign an observation of TYPE within METRES
of the center (the asset's place by default), between --from and --until
(RFC 3339), with a value of at least --min-value, the asset goes to DID.
Within the dispute window after it fires, the previous owner may
'agora asset dispute' the trigger, and governance may reverse it (the
action asset.reverse) or uphold it (asset.uphold).
triggers lists the triggers, newest first, 20 at a time (--limit, up to
100); --before N lists those numbered below N, the next page.
show, history, trigger and triggers answer from the node; with --log-key
(or AGORA_LOG_KEY) or --validators the answer is proven and checked
offline (for triggers, with the count of triggers: the page is complete).

Examples:
  agora asset register parcel-7 --key alice --owner did:agora:... --place 50.087451,14.420671 --description "Parcel 7"
  agora asset rule parcel-7 --key alice --type marker --radius 50 --from 2026-01-01T00:00:00Z \
      --until 2026-12-31T00:00:00Z --min-value 80 --providers sat-a,sat-b,sat-c --threshold 2 \
      --to did:agora:... --dispute-window 1h
  agora asset trigger 1 --log-key "$(agora info --json | jq -r .log_key)"
`

func runAsset(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(assetUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "register":
		return register(args[1:], stdout, stderr)
	case "show", "history", "trigger":
		return show(args[0], args[1:], stdout, stderr)
	case "triggers":
		return triggers(args[1:], stdout, stderr)
	case "rule":
		return rule(args[1:], stdout, stderr)
	case "dispute":
		return dispute(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown asset command %q (want register, show, history, rule, trigger, triggers, dispute, types or send)", args[0])
}

// metaFlags collects repeated --meta KEY=VALUE.
type metaFlags []asset.Meta

func (m *metaFlags) String() string { return "" }
func (m *metaFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want KEY=VALUE")
	}
	*m = append(*m, asset.Meta{Key: k, Value: v})
	return nil
}

// usageOf turns a static validation error into a usage error.
func usageOf(err error) error {
	return cli.UsageError("%s", strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
}

func submit(homeDir, nodeURL, key, typ string, body any, asJSON bool, stdout, stderr io.Writer) error {
	res, err := cli.SignAndSubmit(homeDir, nodeURL, key, asset.Name, typ, body, 5*time.Minute, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		return cli.PrintJSON(stdout, res)
	}
	cli.PrintResult(stdout, asset.Name+" "+typ, res)
	return nil
}

func register(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("asset register", assetUsage, stderr)
	homeDir, nodeURL := cli.HomeFlag(fs), cli.NodeFlag(fs)
	key := fs.String("key", "", "the key `NAME` that acts for the owner")
	owner := fs.String("owner", "", "the owner's `DID`")
	place := fs.String("place", "", "the asset's place, `LAT,LON` in decimal degrees")
	desc := fs.String("description", "", "a description")
	var meta metaFlags
	fs.Var(&meta, "meta", "a metadata item `KEY=VALUE` (repeatable)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *key == "" || *owner == "" || *place == "" {
		return cli.UsageError("give the asset's ID, --key, --owner and --place")
	}
	p, err := asset.ParsePoint(*place)
	if err != nil {
		return usageOf(err)
	}
	slices.SortFunc(meta, func(a, b asset.Meta) int { return strings.Compare(a.Key, b.Key) })
	m := &asset.Register{ID: pos[0], Description: *desc, Owner: *owner, Place: p, Metadata: meta}
	if err := m.Validate(); err != nil {
		return usageOf(err)
	}
	return submit(*homeDir, *nodeURL, *key, "register", m, *asJSON, stdout, stderr)
}

func rule(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("asset rule", assetUsage, stderr)
	homeDir, nodeURL := cli.HomeFlag(fs), cli.NodeFlag(fs)
	key := fs.String("key", "", "the key `NAME` that acts for the owner")
	typ := fs.String("type", "", "the observation `TYPE` the rule wants")
	center := fs.String("center", "", "the center, `LAT,LON` (default: the asset's place)")
	radius := fs.Uint("radius", 0, "the radius in `METRES` (1 to 100000)")
	from := fs.String("from", "", "the window's start, RFC 3339")
	until := fs.String("until", "", "the window's end, RFC 3339")
	minValue := fs.Int64("min-value", 0, "the least observed value that counts")
	providers := fs.String("providers", "", "the providers whose signatures count, `A,B,C`")
	threshold := fs.Uint("threshold", 0, "how many of them must sign (`K`)")
	to := fs.String("to", "", "the `DID` the asset goes to")
	window := fs.Duration("dispute-window", 0, "how long after firing the trigger may be disputed")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *key == "" {
		return cli.UsageError("give the asset's ID and --key")
	}
	var c asset.Point
	if *center == "" {
		var a asset.AssetJSON
		if err := client.New(*nodeURL).Get(context.Background(), "/v1/asset/assets/"+pos[0], &a); err != nil {
			return err
		}
		c = asset.Point{Lat: a.Place.Lat, Lon: a.Place.Lon}
	} else if c, err = asset.ParsePoint(*center); err != nil {
		return usageOf(err)
	}
	f, err1 := time.Parse(time.RFC3339, *from)
	u, err2 := time.Parse(time.RFC3339, *until)
	if err1 != nil || err2 != nil {
		return cli.UsageError("--from and --until are RFC 3339 times (2026-01-02T15:04:05Z)")
	}
	ps := strings.Split(*providers, ",")
	slices.Sort(ps)
	m := &asset.AddRule{Asset: pos[0],
		Condition: asset.Condition{Type: *typ, Center: c, Radius: uint32(min(*radius, 1<<32-1)), From: f.UnixMilli(), Until: u.UnixMilli(), MinValue: *minValue},
		Providers: ps, Threshold: uint32(min(*threshold, 1<<32-1)), TransferTo: *to, DisputeWindow: uint64(window.Milliseconds())}
	if err := m.Validate(); err != nil {
		return usageOf(err)
	}
	return submit(*homeDir, *nodeURL, *key, "add-rule", m, *asJSON, stdout, stderr)
}

func dispute(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("asset dispute", assetUsage, stderr)
	homeDir, nodeURL := cli.HomeFlag(fs), cli.NodeFlag(fs)
	key := fs.String("key", "", "the key `NAME` that acts for the previous owner")
	reason := fs.String("reason", "", "why the trigger is wrong")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *key == "" {
		return cli.UsageError("give the trigger's number and --key")
	}
	n, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil {
		return cli.UsageError("%q is not a trigger number", pos[0])
	}
	m := &asset.Dispute{Trigger: n, Reason: *reason}
	if err := m.Validate(); err != nil {
		return usageOf(err)
	}
	return submit(*homeDir, *nodeURL, *key, "dispute", m, *asJSON, stdout, stderr)
}

func show(what string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("asset "+what, assetUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	cli.HomeFlag(fs)
	tr := cli.TrustFlags(fs)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		if what == "trigger" {
			return cli.UsageError("give exactly one trigger number")
		}
		return cli.UsageError("give exactly one asset ID")
	}
	params := map[string]string{"id": pos[0]}
	query := map[string]string{"show": "asset", "history": "history", "trigger": "trigger"}[what]
	var out any
	switch what {
	case "show":
		out = &asset.AssetJSON{}
	case "history":
		out = &[]asset.EventJSON{}
	case "trigger":
		params = map[string]string{"n": pos[0]}
		out = &asset.TriggerJSON{}
	}
	cp, err := cli.ModuleQuery(context.Background(), client.New(*nodeURL), asset.Module{}, query, params, tr, out)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, out)
	}
	switch v := out.(type) {
	case *asset.AssetJSON:
		fmt.Fprintf(stdout, "asset %s\n  owner   %s\n  place   %s\n", v.ID, v.Owner, v.Place.Degrees)
		if v.Description != "" {
			fmt.Fprintf(stdout, "  about   %s\n", v.Description)
		}
		for _, m := range v.Metadata {
			fmt.Fprintf(stdout, "  meta    %s=%s\n", m.Key, m.Value)
		}
		if v.Disputed != 0 {
			fmt.Fprintf(stdout, "  frozen  trigger %d is disputed\n", v.Disputed)
		}
		for _, r := range v.Rules {
			fmt.Fprintf(stdout, "  rule %d  %s: %d of %s see %s within %d m, %s..%s, value >= %d -> %s (dispute window %s)",
				r.N, r.Status, r.Threshold, strings.Join(r.Providers, ","), r.Type, r.Radius,
				r.From.Format(time.RFC3339), r.Until.Format(time.RFC3339), r.MinValue, r.TransferTo, r.DisputeWindow)
			if r.Trigger != 0 {
				fmt.Fprintf(stdout, " trigger %d", r.Trigger)
			}
			fmt.Fprintln(stdout)
		}
	case *[]asset.EventJSON:
		for _, e := range *v {
			fmt.Fprintf(stdout, "%d  %s  %-10s owner %s", e.N, e.Time.Format(time.RFC3339), e.Kind, e.Owner)
			if e.Rule != 0 {
				fmt.Fprintf(stdout, "  rule %d", e.Rule)
			}
			if e.Trigger != 0 {
				fmt.Fprintf(stdout, "  trigger %d", e.Trigger)
			}
			if e.TxHash != (tx.ID{}) {
				fmt.Fprintf(stdout, "  tx %s", e.TxHash)
			}
			fmt.Fprintln(stdout)
		}
	case *asset.TriggerJSON:
		fmt.Fprintf(stdout, "trigger %d\n  status  %s\n  asset   %s (rule %d)\n  from    %s\n  to      %s\n  time    %s\n  height  %d\n  tx      %s\n  dispute until %s\n",
			v.ID, v.Status, v.Asset, v.Rule, v.From, v.To, v.Time.Format(time.RFC3339Nano), v.Height, v.TxHash, v.DisputeUntil.Format(time.RFC3339Nano))
		o := v.Observation
		fmt.Fprintf(stdout, "  observation %s\n    %s at %s, %s, value %d\n", o.Digest, o.Type, o.Place.Degrees, o.Time.Format(time.RFC3339), o.Value)
		for _, s := range v.Signatures {
			fmt.Fprintf(stdout, "  signed by %s (%s), tx %s\n", s.Provider, s.Key, s.TxID)
		}
		if d := v.Dispute; d != nil {
			fmt.Fprintf(stdout, "  disputed by %s at height %d: %s\n", d.By, d.Height, d.Reason)
		}
		if d := v.Decision; d != nil {
			fmt.Fprintf(stdout, "  decided by %s at height %d: %s\n", d.By, d.Height, d.Reason)
		}
	}
	if cp != nil {
		fmt.Fprintf(stdout, "proven %s\n", cli.ProvenAt(cp))
	}
	return nil
}

func triggers(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("asset triggers", assetUsage, stderr)
	nodeURL := cli.NodeFlag(fs)
	cli.HomeFlag(fs)
	tr := cli.TrustFlags(fs)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	before := fs.Uint64("before", 0, "list the triggers numbered below N")
	limit := fs.Uint64("limit", asset.DefaultTriggers, "how many triggers, 1 to 100")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return cli.UsageError("triggers takes no arguments")
	}
	params := map[string]string{"limit": strconv.FormatUint(*limit, 10)}
	if *before != 0 {
		params["before"] = strconv.FormatUint(*before, 10)
	}
	var out asset.TriggersJSON
	cp, err := cli.ModuleQuery(context.Background(), client.New(*nodeURL), asset.Module{}, "triggers", params, tr, &out)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.PrintJSON(stdout, &out)
	}
	fmt.Fprintf(stdout, "%d triggers\n", out.Count)
	for _, t := range out.Triggers {
		fmt.Fprintf(stdout, "%d  %s  %-8s %s rule %d  %s -> %s\n", t.ID, t.Time.Format(time.RFC3339), t.Status, t.Asset, t.Rule, t.From, t.To)
	}
	if out.Next != 0 {
		fmt.Fprintf(stdout, "older: agora asset triggers --before %d\n", out.Next)
	}
	if cp != nil {
		fmt.Fprintf(stdout, "proven %s\n", cli.ProvenAt(cp))
	}
	return nil
}

const oracleUsage = `
Usage:
  agora oracle observe --key NAME --type TYPE --place LAT,LON --value N [--provider NAME]
        [--time TIME] [--data SHA256] [--chain ID] [--out FILE]
  agora oracle submit ASSET RULE FILE... --key NAME

observe signs an observation as the data provider NAME (the name of its
entry in the governance registry "oracles"; by default the key's name)
with your key, off the ledger, and writes it as JSON: the observation and
the signature. The signed bytes are "agora/observation/v1", a zero byte
and the observation's canonical CBOR (docs/spec/assets.md). --time is
RFC 3339, now by default; --chain is the node's chain by default.
submit gathers the signatures of one observation from the FILEs, and
submits them for rule RULE of ASSET, signed by your key NAME (anyone may
submit). The ledger counts the signatures of accredited providers of the
rule; when they reach its threshold the rule fires.

Examples:
  agora oracle observe --key sat-a --type marker --place 50.087600,14.420800 --value 95 \
      --time 2026-06-01T10:00:00Z --out a.json
  agora oracle observe --key sat-b --type marker --place 50.087600,14.420800 --value 95 \
      --time 2026-06-01T10:00:00Z --out b.json
  agora oracle submit parcel-7 1 a.json b.json --key carol
`

func runOracle(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stderr, strings.TrimLeft(oracleUsage, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
	switch args[0] {
	case "observe":
		return observe(args[1:], stdout, stderr)
	case "submit":
		return oracleSubmit(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown oracle command %q (want observe or submit)", args[0])
}

// File is a signed observation as 'agora oracle observe' writes it.
type File struct {
	Observation asset.Observation `json:"observation"`
	Signatures  []asset.Signature `json:"signatures"`
}

func unlock(homeDir, name string, stderr io.Writer) (*tx.PrivateKey, error) {
	ks := cli.Keys(homeDir)
	if _, err := ks.Get(name); err != nil {
		return nil, ledger.WithHint(err, fmt.Sprintf("'agora keys list --home %s' shows your keys", homeDir))
	}
	pass, err := cli.Passphrase(stderr, fmt.Sprintf("Passphrase for key %s: ", name), false)
	if err != nil {
		return nil, err
	}
	k, err := ks.Unlock(name, pass)
	if errors.Is(err, keystore.ErrPassphrase) {
		if _, ok := os.LookupEnv("AGORA_PASSPHRASE"); ok {
			return nil, ledger.WithHint(err, "the passphrase was taken from AGORA_PASSPHRASE")
		}
	}
	return k, err
}

func observe(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("oracle observe", oracleUsage, stderr)
	homeDir, nodeURL := cli.HomeFlag(fs), cli.NodeFlag(fs)
	key := fs.String("key", "", "your key `NAME`, the provider's")
	provider := fs.String("provider", "", "the provider's `NAME` in the registry (default: the key's name)")
	typ := fs.String("type", "", "what was observed")
	place := fs.String("place", "", "where, `LAT,LON` in decimal degrees")
	value := fs.Int64("value", 0, "the measured value")
	when := fs.String("time", "", "when, RFC 3339 (default: now)")
	data := fs.String("data", "", "the SHA-256 of the source data, in hex")
	chain := fs.String("chain", "", "the ledger's chain id (default: the node's)")
	out := fs.String("out", "", "write the signed observation to `FILE` (default: standard output)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *key == "" {
		return cli.UsageError("give --key, --type, --place and --value, and no arguments")
	}
	if *provider == "" {
		*provider = *key
	}
	p, err := asset.ParsePoint(*place)
	if err != nil {
		return usageOf(err)
	}
	t := time.Now()
	if *when != "" {
		if t, err = time.Parse(time.RFC3339Nano, *when); err != nil {
			return cli.UsageError("--time is an RFC 3339 time (2026-01-02T15:04:05Z)")
		}
	}
	o := asset.Observation{Chain: *chain, Type: *typ, Place: p, Time: t.UnixMilli(), Value: *value}
	if *data != "" {
		if o.Data, err = hex.DecodeString(*data); err != nil || len(o.Data) != 32 {
			return cli.UsageError("--data is a SHA-256 in hex (64 digits)")
		}
	}
	if o.Chain == "" {
		info, err := client.New(*nodeURL).Info(context.Background())
		if err != nil {
			return ledger.WithHint(err, "observing offline, give the ledger's --chain")
		}
		o.Chain = info.ChainID
	}
	if err := o.Validate(); err != nil {
		return usageOf(err)
	}
	k, err := unlock(*homeDir, *key, stderr)
	if err != nil {
		return err
	}
	sig, err := o.Sign(*provider, k, rand.Reader)
	if err != nil {
		return err
	}
	f := File{Observation: o, Signatures: []asset.Signature{sig}}
	if *out == "" {
		return cli.PrintJSON(stdout, f)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	d := o.Digest()
	fmt.Fprintf(stdout, "signed observation %x as %s\n  wrote %s\n", d, *provider, *out)
	return nil
}

func oracleSubmit(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("oracle submit", oracleUsage, stderr)
	homeDir, nodeURL := cli.HomeFlag(fs), cli.NodeFlag(fs)
	key := fs.String("key", "", "the key `NAME` that signs the submission (anyone's)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 3 || *key == "" {
		return cli.UsageError("give ASSET, RULE, at least one FILE, and --key")
	}
	rn, err := strconv.ParseUint(pos[1], 10, 64)
	if err != nil {
		return cli.UsageError("%q is not a rule number", pos[1])
	}
	m := &asset.Submit{Asset: pos[0], Rule: rn}
	for i, path := range pos[2:] {
		b, err := cli.ReadInput(path)
		if err != nil {
			return err
		}
		var f File
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return fmt.Errorf("%s: not a signed observation: %w", path, err)
		}
		if i == 0 {
			m.Observation = f.Observation
		} else if f.Observation.Digest() != m.Observation.Digest() {
			return fmt.Errorf("%s holds another observation than %s; signatures of one observation only are gathered", path, pos[2])
		}
		for _, s := range f.Signatures {
			if slices.ContainsFunc(m.Signatures, func(o asset.Signature) bool { return o.Provider == s.Provider }) {
				return fmt.Errorf("%s: a second signature by %s", path, s.Provider)
			}
			m.Signatures = append(m.Signatures, s)
		}
	}
	slices.SortFunc(m.Signatures, func(a, b asset.Signature) int { return strings.Compare(a.Provider, b.Provider) })
	if err := m.Validate(); err != nil {
		return usageOf(err)
	}
	return submit(*homeDir, *nodeURL, *key, "submit", m, *asJSON, stdout, stderr)
}
