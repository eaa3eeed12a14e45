package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the cmp expectations in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"agora": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI transcripts in testdata/script, and each
// registry module's own in internal/MODULE/testdata/script (scriptDirs).
// Each script runs in its own $WORK with a clean environment; a script
// that needs a node starts one in the background with
//
//	freeport ADDR
//	exec agora dev --home $WORK/home --http $ADDR &node&
//	waitnode http://$ADDR
//
// and testscript interrupts it when the script ends, passes or fails.
func TestScript(t *testing.T) {
	t.Parallel()
	for _, d := range scriptDirs(t) {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testscript.Run(t, testscript.Params{
				Dir:           d.dir,
				UpdateScripts: *update,
				Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
					"capture":  cmdCapture,
					"exits":    cmdExits,
					"freeport": cmdFreeport,
					"liar":     cmdLiar,
					"sleep":    cmdSleep,
					"waitnode": cmdWaitnode,
				},
			})
		})
	}
}

// scriptDirs returns the directories of CLI transcripts, each with the
// name of its subtest: cmd/agora's testdata/script ("agora"), then
// internal/MODULE/testdata/script of every registry module (and service)
// that has one (MODULE), so that a module's transcripts live in its own
// package's directory.
func scriptDirs(t *testing.T) []struct{ name, dir string } {
	dirs := []struct{ name, dir string }{{"agora", filepath.Join("testdata", "script")}}
	names := moduleNames()
	for _, e := range services() {
		names = append(names, e.service)
	}
	for _, name := range names {
		dir := filepath.Join("..", "..", "internal", name, "testdata", "script")
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, struct{ name, dir string }{name, dir})
	}
	return dirs
}

// cmdExits runs a command and checks its exit status:
//
//	exits CODE command [args...]
//
// Like exec it sets stdout and stderr for the commands after it.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("usage: exits CODE command [args...]: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdCapture sets the environment variable VAR to the first group of
// REGEXP's first match in the last command's stdout (or stderr), so that
// a later command can use what an earlier one printed:
//
//	capture [-stderr] VAR REGEXP
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	from := "stdout"
	if len(args) > 0 && args[0] == "-stderr" {
		from, args = "stderr", args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: capture [-stderr] VAR REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile(from))
	if len(m) < 2 {
		ts.Fatalf("no match for %#q with a group in %s", args[1], from)
	}
	ts.Setenv(args[0], m[1])
}

// cmdFreeport sets the environment variable VAR to a loopback address
// with a port that was free a moment ago:
//
//	freeport VAR
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := ln.Addr().String()
	ts.Check(ln.Close())
	ts.Setenv(args[0], addr)
}

// cmdLiar serves a lying node: a proxy to UPSTREAM on a free loopback
// port, whose address it puts in VAR, that rewrites every answer body by
// replacing each OLD with its NEW, so a transcript can show what a client
// that checks proofs does with a node that lies:
//
//	liar VAR UPSTREAM OLD NEW [OLD NEW]...
//
// It stops when the script ends.
func cmdLiar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 || len(args)%2 != 0 {
		ts.Fatalf("usage: liar VAR UPSTREAM OLD NEW [OLD NEW]...")
	}
	up, err := url.Parse(args[1])
	ts.Check(err)
	pairs := args[2:]
	proxy := httputil.NewSingleHostReverseProxy(up)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		r.Header.Del("Accept-Encoding")
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		for i := 0; i < len(pairs); i += 2 {
			b = bytes.ReplaceAll(b, []byte(pairs[i]), []byte(pairs[i+1]))
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: proxy}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[0], ln.Addr().String())
}

// cmdSleep waits for a duration, for block time to pass:
//
//	sleep DURATION
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// cmdWaitnode waits until the node at URL answers GET /healthz with 200:
//
//	waitnode URL
func cmdWaitnode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitnode URL")
	}
	url := strings.TrimRight(args[0], "/") + "/healthz"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		ts.Check(err)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			ts.Fatalf("no healthy node at %s after 30s: %v", url, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
