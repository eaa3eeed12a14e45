package identitycli

import (
	"bytes"
	"fmt"
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
	page := func(evs ...string) string { // the whole history in one page
		return fmt.Sprintf(`{"did":%q,"total":%d,"events":[%s]}`, did, len(evs), strings.Join(evs, ","))
	}
	tests := []struct {
		desc   string
		polls  []string // the history at each poll; the last one repeats
		alert  string
		events int // lines printed before the alert
	}{
		{desc: "shrank", polls: []string{page(ev1, ev2), page(ev1)}, alert: "shrank from 2 to 1 events", events: 2},
		{desc: "changed", polls: []string{page(ev1, ev2), page(ev1, ev2b, ev3)}, alert: "event 2 of " + did + " changed", events: 2},
		{desc: "grew, then shrank", polls: []string{page(ev1), page(ev1, ev2), page(ev1)}, alert: "shrank from 2 to 1", events: 2},
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

// TestHistoryFollowsPages: history and watch ask for page after page
// (from=1, then each page's next) and show every event once.
func TestHistoryFollowsPages(t *testing.T) {
	const did = "did:agora:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	ev := func(v int) string {
		return fmt.Sprintf(`{"version":%d,"type":"suspend","height":%d,"time":"2026-01-01T00:00:00Z","tx_hash":"aa"}`, v, v+1)
	}
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from := r.URL.Query().Get("from")
		asked = append(asked, from)
		pages := map[string]string{
			"1": fmt.Sprintf(`{"did":%q,"total":5,"events":[%s,%s],"next":3}`, did, ev(1), ev(2)),
			"3": fmt.Sprintf(`{"did":%q,"total":5,"events":[%s,%s],"next":5}`, did, ev(3), ev(4)),
			"5": fmt.Sprintf(`{"did":%q,"total":5,"events":[%s]}`, did, ev(5)),
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(pages[from]))
	}))
	defer srv.Close()
	for _, args := range [][]string{{"history", did}, {"watch", did, "--once", "--log-key", ""}} {
		asked = nil
		var stdout, stderr bytes.Buffer
		if err := runDID(append(args, "--node", srv.URL), &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v (%s)", args[0], err, stderr.String())
		}
		if got := strings.Count(stdout.String(), " suspend "); got != 5 || strings.Join(asked, ",") != "1,3,5" {
			t.Errorf("%s: %d events, pages from %v:\n%s", args[0], got, asked, stdout.String())
		}
	}
}
