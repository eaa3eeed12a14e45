package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeDebug(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveDebug(ctx, addr, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	var body string
	for try := 0; try < 100 && !strings.Contains(body, "goroutine"); try++ {
		time.Sleep(20 * time.Millisecond)
		res, err := http.Get("http://" + addr + "/debug/pprof/")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
	}
	if !strings.Contains(body, "goroutine") {
		t.Fatalf("the profiler's index does not list goroutine profiles: %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serveDebug after its context ended: %v", err)
	}
}

// TestWarnCgo checks that a node built with cgo says so when it starts,
// and one built without says nothing.
func TestWarnCgo(t *testing.T) {
	var out strings.Builder
	warnCgo(slog.New(slog.NewTextHandler(&out, nil)))
	if got := strings.Contains(out.String(), "built with cgo"); got != builtWithCgo {
		t.Fatalf("built with cgo: %v; warned: %q", builtWithCgo, out.String())
	}
}
