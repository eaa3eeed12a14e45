package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWatchAlerts serves a history that is rewritten between polls and
// checks that watch prints what it saw and then exits 1 with an alert.
func TestWatchAlerts(t *testing.T) {
	const did = "did:agora:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ev1 := `{"version":1,"type":"create","height":2,"time":"2026-01-01T00:00:00Z","tx_hash":"aa"}`
	ev2 := `{"version":2,"type":"add-key","height":3,"time":"2026-01-01T00:00:01Z","tx_hash":"bb"}`
	ev2b := `{"version":2,"type":"add-key","height":3,"time":"2026-01-01T00:00:01Z","tx_hash":"cc"}`
	ev3 := `{"version":3,"type":"revoke","height":4,"time":"2026-01-01T00:00:02Z","tx_hash":"dd"}`
	tests := []struct {
		desc   string
		polls  []string // the history at each poll; the last one repeats
		alert  string
		events int // lines printed before the alert
	}{
		{desc: "shrank", polls: []string{"[" + ev1 + "," + ev2 + "]", "[" + ev1 + "]"}, alert: "shrank from 2 to 1 events", events: 2},
		{desc: "changed", polls: []string{"[" + ev1 + "," + ev2 + "]", "[" + ev1 + "," + ev2b + "," + ev3 + "]"}, alert: "event 2 of " + did + " changed", events: 2},
		{desc: "grew, then shrank", polls: []string{"[" + ev1 + "]", "[" + ev1 + "," + ev2 + "]", "[" + ev1 + "]"}, alert: "shrank from 2 to 1", events: 2},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := min(int(n.Add(1))-1, len(tt.polls)-1)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tt.polls[i]))
			}))
			defer srv.Close()
			var stdout, stderr bytes.Buffer
			err := runDID([]string{"watch", did, "--node", srv.URL, "--interval", "1ms", "--log-key", ""}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "ALERT: ") || !strings.Contains(err.Error(), tt.alert) {
				t.Fatalf("watch = %v, want an alert %q", err, tt.alert)
			}
			if got := strings.Count(stdout.String(), "\n"); got != tt.events {
				t.Errorf("printed %d events before the alert, want %d:\n%s", got, tt.events, stdout.String())
			}
		})
	}
}
