// Package logincli is the login service's commands: 'agora rp run', a
// relying party's passwordless login (package login), and the holder's
// side, 'agora wallet respond URI' on the command line and 'agora wallet
// serve', the wallet's page in the browser. cmd/agora's registry takes
// them from Commands.
package logincli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/login"
)

// Commands returns the login service's commands, in usage order.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: "rp", Run: runRP, Usage: "rp run", Summary: "run a relying party's passwordless login (OpenID4VP)"},
		{Name: "wallet", Run: runWallet, Usage: "wallet respond|serve", Summary: "answer a login request from your wallet"},
	}
}

const rpUsage = `
Usage:
  agora rp run --did DID --key NAME [--addr HOST:PORT] [--url URL] [--wallet URL]
               [--type VCT] [--claims LIST] [--log-key KEY | --validators FILE]
               [--cpuprofile FILE]

run serves a relying party's login page (an exchange's, for the demo): a
person logs in with no password, by their wallet's answer to an
OpenID4VP request, at one of two levels: "kyc", a KYC credential (an
SD-JWT VC of type --type disclosing --claims, age_over_18 true), or
"did", a DID authentication. The requests are signed with --key, an
authentication key of the relying party's DID --did. Each answer is
verified offline against the ledger's proofs (the issuer's key and
accreditation, the credential's status, the holder's key binding to this
site and the request's nonce); with --log-key (or AGORA_LOG_KEY) or
--validators the node is trusted for nothing. A response is accepted
once; every decision is logged on stderr.

Examples:
  agora rp run --did "$exchange" --key exchange-seoul --log-key "$logkey"
  agora rp run --did "$exchange" --key exchange-seoul --wallet http://127.0.0.1:7791/
`

const walletUsage = `
Usage:
  agora wallet respond URI --key NAME [--did DID] [--credential NAME] [--yes]
  agora wallet serve --key NAME [--did DID] [--addr HOST:PORT]

respond answers the login request URI (an openid4vp:// link, or any link
with client_id and request_uri): it fetches the request, checks that a
key of the site's DID signed it (proven on the ledger), shows which of
your credentials it would present and the only claims it would disclose,
and, once you agree (or with --yes), posts the answer signed with your
key NAME. It exits 0 only if the site accepted it.

serve runs the same wallet as a page in your browser, on this machine
only: a site's "open your wallet" link to it shows the request and what
it discloses, and logs you in when you agree. Your key stays in this
process; the page never sees it.

Examples:
  agora wallet respond 'openid4vp://?client_id=...&request_uri=...' --key alice
  agora wallet serve --key alice
`

func usageOf(text string) func(args []string, stderr io.Writer) error {
	return func(args []string, stderr io.Writer) error {
		fmt.Fprint(stderr, strings.TrimLeft(text, "\n"))
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return &cli.ExitError{Code: 2}
	}
}

func runRP(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		return usageOf(rpUsage)(args, stderr)
	}
	if args[0] != "run" {
		return cli.UsageError("unknown rp command %q (want run)", args[0])
	}
	fs := cli.NewFlags("rp run", rpUsage, stderr)
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	did := fs.String("did", "", "the relying party's `DID`")
	keyName := fs.String("key", "", "the key `NAME` (an authentication key of --did) that signs the requests")
	addr := fs.String("addr", "127.0.0.1:7790", "listen on `HOST:PORT`")
	base := fs.String("url", "", "the `URL` the browser and wallets reach this site at (default http://ADDR)")
	walletURL := fs.String("wallet", "openid4vp://", "the wallet `URL` the login page links to")
	vct := fs.String("type", "urn:agora:vct:kyc:v1", "the credential type (`VCT`) the kyc level asks for")
	claims := fs.String("claims", "age_over_18,country", "the `CLAIMS` the kyc level asks to be disclosed, comma-separated")
	rate := fs.Float64("rate", 20, "requests a second one client address may make (negative: no limit)")
	ttl := fs.Duration("request-ttl", 5*time.Minute, "how long a login request waits for its answer")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` when it stops (what a login costs, for docs/BENCHMARKS.md)")
	tr := cli.TrustFlags(fs)
	if _, err := cli.Parse(fs, args[1:]); err != nil {
		return err
	}
	if *did == "" || *keyName == "" {
		return cli.UsageError("give the relying party's --did and its --key")
	}
	if os.Getenv("GOGC") == "" {
		// What a login allocates dies with it, and the live heap is
		// small (sessions, states, the opened checkpoints): a collection
		// after the heap grows 4x, not 1x, cuts the collector's share of
		// a login (docs/BENCHMARKS.md) for a few MB more. GOGC overrides.
		debug.SetGCPercent(400)
	}
	priv, err := credentialcli.Unlock(*homeDir, *keyName, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Logins are verified concurrently: keep connections to the node open,
	// and the checkpoints opened (verify.Policy.Opened).
	tr.KeepOpened()
	l := &ledger{c: client.NewPooled(*nodeURL, 64), tr: tr, maxKB: *ttl, now: time.Now}
	kid, err := l.keyID(ctx, *did, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return fmt.Errorf("key %s: %w", *keyName, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *base == "" {
		*base = "http://" + ln.Addr().String()
	}
	s, err := login.New(login.Config{DID: *did, Key: jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, KeyID: kid,
		URL: *base, Wallet: *walletURL, Type: *vct, Claims: splitList(*claims), Require: map[string][]any{"age_over_18": {true}},
		Ledger: l, RequestTTL: *ttl, RateLimit: *rate, Burst: int(max(2**rate, 1)), Now: time.Now, Rand: rand.Reader,
		Log: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	stopProfile, err := cli.StartCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Fprintf(stdout, "relying party %s\n  login page       %s/\n  signs with       %s\n", s.ClientID(), *base, kid)
	return serve(ctx, ln, s.Handler())
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// serve runs h on ln until ctx ends.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func runWallet(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		return usageOf(walletUsage)(args, stderr)
	}
	switch args[0] {
	case "respond":
		return respond(args[1:], stdout, stderr)
	case "serve":
		return serveWallet(args[1:], stdout, stderr)
	}
	return cli.UsageError("unknown wallet command %q (want respond or serve)", args[0])
}

// walletFlags defines the flags both wallet commands share and returns
// the function that opens the wallet once they are parsed.
func walletFlags(fs *flag.FlagSet, stderr io.Writer) func(ctx context.Context) (*wallet, error) {
	homeDir := cli.HomeFlag(fs)
	nodeURL := cli.NodeFlag(fs)
	keyName := fs.String("key", "", "your key `NAME`: your credentials' holder key, an authentication key of your DID")
	did := fs.String("did", "", "your `DID`, for a DID authentication (default: the subject of your wallet's credentials)")
	tr := cli.TrustFlags(fs)
	return func(ctx context.Context) (*wallet, error) {
		if *keyName == "" {
			return nil, cli.UsageError("give your --key")
		}
		priv, err := credentialcli.Unlock(*homeDir, *keyName, stderr)
		if err != nil {
			return nil, err
		}
		w := &wallet{home: *homeDir, did: *did, priv: priv, http: &http.Client{Timeout: 30 * time.Second}, now: time.Now,
			ledger: &ledger{c: client.New(*nodeURL), tr: tr, now: time.Now}}
		if w.did == "" {
			helds, err := credentialcli.Wallet(w.home)
			if err != nil {
				return nil, err
			}
			for _, h := range helds {
				if w.did = h.Subject(); w.did != "" {
					break
				}
			}
		}
		if w.did != "" {
			if w.kid, err = w.ledger.keyID(ctx, w.did, priv.Public().(ed25519.PublicKey)); err != nil {
				return nil, fmt.Errorf("key %s: %w", *keyName, err)
			}
		}
		return w, nil
	}
}

func respond(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("wallet respond", walletUsage, stderr)
	open := walletFlags(fs, stderr)
	choose := fs.String("credential", "", "present the credential `NAME` of your wallet (default: the first that answers)")
	yes := fs.Bool("yes", false, "answer without asking")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("give the login request's URI")
	}
	ctx := context.Background()
	w, err := open(ctx)
	if err != nil {
		return err
	}
	r, err := w.fetch(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("the request does not verify: %w", err)
	}
	if err := w.plan(r, *choose); err != nil {
		return err
	}
	r.describe(stdout)
	if !*yes && !confirm(stdout) {
		a, err := w.decline(ctx, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "declined; the site says: %s\n", a.Description)
		return &cli.ExitError{Code: 1}
	}
	a, err := w.respond(ctx, r)
	if err != nil {
		return err
	}
	if a.Code != "" {
		fmt.Fprintf(stdout, "REFUSED (%s): %s\n", a.Code, a.Description)
		return &cli.ExitError{Code: 1}
	}
	fmt.Fprintf(stdout, "ACCEPTED: logged in; continue at %s\n", a.RedirectURI)
	return nil
}

// confirm asks on the terminal (stdin) whether to answer.
func confirm(stdout io.Writer) bool {
	fmt.Fprint(stdout, "Send it? [y/N] ")
	var s string
	fmt.Fscanln(os.Stdin, &s)
	return strings.EqualFold(s, "y") || strings.EqualFold(s, "yes")
}
