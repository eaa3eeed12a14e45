package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/agora-ledger/agora/internal/api"
	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/cometbft"
	"github.com/agora-ledger/agora/internal/keystore"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/internal/store"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

var version = api.Version

// home is a node's or client's directory:
//
//	config.json   node configuration (node.Config)
//	genesis.json  the ledger's genesis
//	data/         the store
//	keys/         the keystore
type home string

func (h home) config() string  { return filepath.Join(string(h), "config.json") }
func (h home) genesis() string { return filepath.Join(string(h), "genesis.json") }
func (h home) data() string    { return filepath.Join(string(h), "data") }

// signedHead is the embedded node's signed-head record, kept apart from
// the store in data (store.KeepSignedHead).
func (h home) signedHead() string    { return filepath.Join(string(h), "signed-head") }
func (h home) keys() *keystore.Store { return cli.Keys(string(h)) }

func readGenesis(h home) (*ledger.Genesis, []byte, error) {
	b, err := os.ReadFile(h.genesis())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, ledger.WithHint(fmt.Errorf("no genesis at %s", h.genesis()), fmt.Sprintf("run 'agora init --home %s' or 'agora dev --home %s'", h, h))
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := ledger.ParseGenesis(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", h.genesis(), err)
	}
	sum := sha256.Sum256(b)
	return g, sum[:], nil
}

// nodeKey is the keystore name of the key that signs the node's
// checkpoints.
const nodeKey = "node"

// The keystore names of a network node's CometBFT keys (cometbft.Keys),
// encrypted with the node key's passphrase.
const (
	consensusKey = "consensus"
	p2pKey       = "p2p"
)

// networkKeys unlocks a network node's CometBFT keys.
func networkKeys(h home, pass string) (cometbft.Keys, error) {
	var keys cometbft.Keys
	for _, key := range []struct {
		name string
		dst  *ed25519.PrivateKey
	}{{consensusKey, &keys.Consensus}, {p2pKey, &keys.P2P}} {
		name := key.name
		k, err := h.keys().Unlock(name, pass)
		if err != nil {
			return keys, ledger.WithHint(fmt.Errorf("%s key: %w", name, err), "'agora testnet init' writes a network node's keys into its home's keystore")
		}
		priv, ok := k.Ed25519()
		if !ok {
			return keys, fmt.Errorf("the %s key must be ed25519, is %s", name, k.Alg())
		}
		*key.dst = priv
	}
	return keys, nil
}

// ensureNodeKey creates the node's checkpoint key in the home's keystore
// if it has none.
func ensureNodeKey(h home, pass string) (*keystore.Entry, error) {
	if e, err := h.keys().Get(nodeKey); err == nil {
		return e, nil
	}
	return h.keys().New(nodeKey, tx.Ed25519, pass, rand.Reader, time.Now())
}

// logVerifier returns the signed-note verifier key of the chain's log
// from the node key's public part; no passphrase is needed.
func logVerifier(h home, chainID string) (string, error) {
	e, err := h.keys().Get(nodeKey)
	if err != nil {
		return "", ledger.WithHint(err, "the node's checkpoint key is made by 'agora init' or 'agora dev'")
	}
	if e.PublicKey.Alg != tx.Ed25519 {
		return "", fmt.Errorf("the node key must be ed25519, is %s", e.PublicKey.Alg)
	}
	return tlog.VerifierKey(ledger.Origin(chainID), ed25519.PublicKey(e.PublicKey.Key))
}

// checkpointer unlocks the node key and returns the signer of the chain's
// checkpoints and its verifier key.
func checkpointer(h home, chainID, pass string) (*node.Checkpointer, string, error) {
	k, err := h.keys().Unlock(nodeKey, pass)
	if err != nil {
		return nil, "", fmt.Errorf("node key: %w", err)
	}
	priv, ok := k.Ed25519()
	if !ok {
		return nil, "", fmt.Errorf("the node key must be ed25519, is %s", k.Alg())
	}
	signer, err := tlog.NewSigner(ledger.Origin(chainID), priv)
	if err != nil {
		return nil, "", err
	}
	vkey, err := tlog.VerifierKey(ledger.Origin(chainID), priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, "", err
	}
	return &node.Checkpointer{Signer: signer}, vkey, nil
}

// openLedger opens the home's store, initialising it from the genesis on
// first use (with a checkpoint signed by cp), and returns it with its
// executor. With keepHead (an embedded node, which publishes what it
// signs as soon as it is stored), the store keeps its signed head in the
// home's record, and a store that lost blocks the node signed is refused
// before anything is written to it.
func openLedger(h home, log *slog.Logger, cp *node.Checkpointer, keepHead bool) (*store.Store, *ledger.Executor, *ledger.Genesis, []byte, error) {
	g, gh, err := readGenesis(h)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	exec, err := ledger.NewExecutor(g.ChainID, modules()...)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	st, err := store.Open(h.data(), log)
	if err != nil {
		// Pebble's lock file refuses a second opener with EAGAIN.
		if !errors.Is(err, store.ErrCorrupt) && (errors.Is(err, syscall.EAGAIN) || strings.Contains(err.Error(), "lock")) {
			err = ledger.WithHint(err, fmt.Sprintf("another agora process is using %s; stop it first", h.data()))
		}
		return nil, nil, nil, nil, err
	}
	_, ok, err := st.Head()
	if errors.Is(err, store.ErrFormat) {
		err = ledger.WithHint(fmt.Errorf("%s: %w", h.data(), err), "start a new ledger in another --home (agora dev --home DIR), or run the agora that wrote it")
	}
	if err != nil {
		st.Close()
		return nil, nil, nil, nil, err
	}
	if keepHead {
		if err := st.KeepSignedHead(h.signedHead()); err != nil {
			st.Close()
			return nil, nil, nil, nil, fmt.Errorf("%s: %w", h.data(), err)
		}
	}
	if !ok {
		if _, err := node.Init(st, exec, g, gh, cp); err != nil {
			st.Close()
			return nil, nil, nil, nil, fmt.Errorf("initialise store from genesis: %w", err)
		}
	} else {
		stored, err := st.GenesisHash()
		if err != nil {
			st.Close()
			return nil, nil, nil, nil, err
		}
		if string(stored) != string(gh) {
			st.Close()
			return nil, nil, nil, nil, fmt.Errorf("%s is not the genesis this store began from (store has %x, file is %x)", h.genesis(), stored, gh)
		}
	}
	return st, exec, g, gh, nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// running is a node started in this process with its API listening.
type running struct {
	addr    string
	home    home
	driver  api.Driver
	genesis *ledger.Genesis
	cancel  context.CancelFunc
	done    chan error

	once    sync.Once
	stopErr error
}

// stop stops the node and its API and waits for both. Later calls return
// the first one's result.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.stopErr = <-r.done
	})
	return r.stopErr
}

// network reads the home's network configuration; ok is false for an
// embedded node's home, which has none.
func network(h home) (cfg cometbft.Config, ok bool, err error) {
	path := filepath.Join(string(h), cometbft.ConfigFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return cfg, false, nil
	}
	cfg, err = cometbft.LoadConfig(path)
	return cfg, err == nil, err
}

// startNode starts a node from home in the background: the embedded node,
// or a network node if the home has a network configuration (see 'agora
// testnet init'). It runs until ctx ends, stop is called, or it fails.
// pass unlocks the node's checkpoint key.
func startNode(ctx context.Context, h home, cfg node.Config, log *slog.Logger, pass string) (*running, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	netCfg, isNetwork, err := network(h)
	if err != nil {
		return nil, err
	}
	if isNetwork && len(cfg.Witnesses) > 0 {
		return nil, fmt.Errorf("%s: witnesses are for the embedded node; a network's checkpoints are signed by its validators", h.config())
	}
	g, _, err := readGenesis(h)
	if err != nil {
		return nil, err
	}
	cp, vkey, err := checkpointer(h, g.ChainID, pass)
	if err != nil {
		return nil, err
	}
	st, exec, g, gh, err := openLedger(h, log, cp, !isNetwork)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var drv api.Driver
	var run func(context.Context) error
	if isNetwork {
		app, err := cometbft.NewApp(st, exec, g, cp.Signer, log, time.Now, reg)
		if err != nil {
			st.Close()
			return nil, err
		}
		keys, err := networkKeys(h, pass)
		if err != nil {
			st.Close()
			return nil, err
		}
		n, err := cometbft.New(string(h), netCfg, app, keys, log)
		if err != nil {
			st.Close()
			return nil, err
		}
		drv, run = n, n.Run
	} else {
		n, err := node.New(cfg, st, exec, log, time.Now, reg, cp)
		if err != nil {
			st.Close()
			return nil, err
		}
		drv, run = n, n.Run
	}
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		st.Close()
		return nil, ledger.WithHint(fmt.Errorf("listen on %s: %w", cfg.HTTP, err), "choose another address with --http")
	}
	srv := &http.Server{
		Handler:           api.New(drv, cfg, gh, vkey, log, reg, consoleSections()...).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Duration(cfg.RequestTimeout) + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, cancel := context.WithCancel(ctx)
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return run(ctx) })
	eg.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	eg.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	if cfg.Debug != "" {
		eg.Go(func() error { return serveDebug(ctx, cfg.Debug, log) })
	}
	r := &running{addr: ln.Addr().String(), home: h, driver: drv, genesis: g, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := eg.Wait()
		log.Info("node stopped", "height", drv.Head().Height)
		cerr := st.Close()
		if st.Failed() != nil {
			cerr = nil // the failure is err already
		}
		r.done <- errors.Join(err, cerr)
	}()
	log.Info("node started", "chain", g.ChainID, "height", drv.Head().Height, "network", isNetwork, "http", "http://"+r.addr)
	warnCgo(log)
	return r, nil
}

// serve runs a node from home until SIGINT or SIGTERM; ready is called
// once the API listens.
func serve(h home, cfg node.Config, pass string, stderr io.Writer, ready func(addr string, g *ledger.Genesis, head ledger.Header)) error {
	cfg = cfg.WithDefaults()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := startNode(ctx, h, cfg, newLogger(stderr, cfg.LogLevel), pass)
	if err != nil {
		return err
	}
	ready(r.addr, r.genesis, r.driver.Head())
	return <-r.done
}

// serveDebug serves Go's profiler on addr until ctx ends. It is not part
// of the API: a failure to listen is logged, and the node runs on.
func serveDebug(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("no profiler: cannot listen on the debug address", "addr", addr, "err", err)
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("profiler listening", "debug", "http://"+ln.Addr().String()+"/debug/pprof/")
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Warn("the profiler stopped", "err", err)
	}
	return nil
}

// warnCgo warns a node built with cgo: Pebble then keeps its block cache
// and memtables in the C allocator, whose fragmentation grows a busy
// node's resident memory without bound (a 30-minute soak: 604 to 856 MB
// over its second half, with the Go heap and the caches flat), where a
// build without cgo, whose caches the Go heap holds, stays flat.
func warnCgo(log *slog.Logger) {
	if builtWithCgo {
		log.Warn("this agora was built with cgo: Pebble's caches then live in the C allocator, whose fragmentation grows resident memory over hours; build with CGO_ENABLED=0 (docs/BENCHMARKS.md, Soak)")
	}
}
