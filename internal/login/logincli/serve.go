package logincli

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/credential/credentialcli"
	"github.com/agora-ledger/agora/internal/oid4vp"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.ParseFS(templates, "templates/*.html"))

// walletPage serves the wallet in the browser: a site's link opens the
// request, which the holder shares or declines.
type walletPage struct {
	w       *wallet
	mu      sync.Mutex
	pending map[string]*request // by a random id the page carries
}

// page is what the wallet's page shows.
type page struct {
	Title   string
	ID      string
	Request *request
	Site    string
	DID     string
	Held    []*credentialcli.Held
	Error   string
}

func (p *walletPage) render(w http.ResponseWriter, status int, v page) {
	v.DID = p.w.did
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'")
	w.WriteHeader(status)
	pages.ExecuteTemplate(w, "wallet.html", v)
}

func (p *walletPage) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.open)
	mux.HandleFunc("POST /answer", p.answer)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

func (p *walletPage) open(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("client_id") == "" {
		held, _ := credentialcli.Wallet(p.w.home)
		p.render(w, http.StatusOK, page{Title: "Your wallet", Held: held})
		return
	}
	req, err := p.w.fetch(r.Context(), r.URL.String())
	if err == nil {
		err = p.w.plan(req, "")
	}
	if err != nil {
		p.render(w, http.StatusBadRequest, page{Title: "A request your wallet will not answer", Error: err.Error()})
		return
	}
	b := make([]byte, 18)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	p.mu.Lock()
	p.pending[id] = req
	p.mu.Unlock()
	_, site := oid4vp.SplitClientID(req.ClientID)
	p.render(w, http.StatusOK, page{Title: "Log in to " + site, ID: id, Request: req, Site: site})
}

func (p *walletPage) answer(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	req := p.pending[r.FormValue("id")]
	delete(p.pending, r.FormValue("id"))
	p.mu.Unlock()
	if req == nil {
		p.render(w, http.StatusBadRequest, page{Title: "No such request", Error: "this request was answered already, or never opened here"})
		return
	}
	answer := p.w.respond
	if r.FormValue("action") != "share" {
		answer = p.w.decline
	}
	a, err := answer(r.Context(), req)
	if err != nil {
		p.render(w, http.StatusBadGateway, page{Title: "The site did not answer", Error: err.Error()})
		return
	}
	// The site shows the outcome: a session, or why it refused.
	http.Redirect(w, r, a.RedirectURI, http.StatusSeeOther)
}

func serveWallet(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("wallet serve", walletUsage, stderr)
	open := walletFlags(fs, stderr)
	addr := fs.String("addr", "127.0.0.1:7791", "listen on `HOST:PORT` (keep it on this machine)")
	if _, err := cli.Parse(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	wl, err := open(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wallet of %s\n  page             http://%s/\n", wl.did, ln.Addr())
	return serve(ctx, ln, (&walletPage{w: wl, pending: map[string]*request{}}).handler())
}
