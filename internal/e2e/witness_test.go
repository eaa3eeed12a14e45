package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agora-ledger/agora/internal/client"
	"github.com/agora-ledger/agora/internal/node"
	"github.com/agora-ledger/agora/verify"
)

// witnessProc is an "agora witness run" subprocess.
type witnessProc struct {
	cmd     *exec.Cmd
	url     string // where it listens
	logPath string
	exited  chan struct{}
	waitErr error
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+)`)

// startWitness runs "agora witness run" on a port the system picks, for
// the log whose verifier key is logKey, and waits until it listens.
func startWitness(t *testing.T, home, logKey string) *witnessProc {
	t.Helper()
	w := &witnessProc{logPath: filepath.Join(t.TempDir(), "witness.log"), exited: make(chan struct{})}
	logf, err := os.Create(w.logPath)
	if err != nil {
		t.Fatal(err)
	}
	w.cmd = exec.Command(agoraBin, "witness", "run", "--home", home, "--listen", "127.0.0.1:0", "--log", logKey)
	w.cmd.Env = cli{home: home}.env()
	w.cmd.Stderr = logf
	w.cmd.SysProcAttr = sysProcAttr()
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		w.waitErr = w.cmd.Wait()
		logf.Close()
		close(w.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			w.cmd.Process.Kill()
			<-w.exited
		}
		if t.Failed() {
			t.Logf("output of agora witness run:\n%s", w.output())
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line := <-lines:
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				w.url = m[1]
				return w
			}
		case <-w.exited:
			t.Fatalf("agora witness run exited before it listened: %v\n%s", w.waitErr, w.output())
		case <-deadline:
			t.Fatalf("agora witness run did not listen within 30s\n%s", w.output())
		}
	}
}

func (w *witnessProc) output() string {
	b, err := os.ReadFile(w.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// stop stops the witness with SIGTERM and requires a clean exit.
func (w *witnessProc) stop(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("agora witness run did not stop within 30s of SIGTERM")
	}
	if w.waitErr != nil {
		t.Fatalf("agora witness run after SIGTERM: %v\n%s", w.waitErr, w.output())
	}
}

// TestWitness runs a witness as an operator would: init it, learn the
// node's log key, run the witness for that log, list the witness in the
// node's config.json and restart the node; then /log/checkpoint carries
// the witness's cosignature, which a client demanding it accepts.
func TestWitness(t *testing.T) {
	witnessHome := t.TempDir()
	out := cli{home: witnessHome}.ok(t, "witness", "init", "--home", witnessHome, "--name", "witness.e2e")
	m := regexp.MustCompile(`(?m)^  (witness\.e2e\+\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("agora witness init printed no key:\n%s", out)
	}
	witnessKey := m[1]

	home := t.TempDir()
	n := startDev(t, home)
	info, err := client.New(n.node).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n.stop(t)

	w := startWitness(t, witnessHome, info.LogKey)
	cfg := node.Config{EmptyBlockInterval: node.Every(time.Second), Witnesses: []node.WitnessConfig{{URL: w.url, Key: witnessKey}}}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	n = startDev(t, home)
	policy := verify.Policy{LogKey: info.LogKey, Witnesses: []string{witnessKey}, Quorum: 1}
	var checkpoint []byte
	var last error
	deadline := time.Now().Add(30 * time.Second)
	for {
		checkpoint, last = get(n.node + "/log/checkpoint")
		if last == nil {
			if _, last = verify.OpenCheckpoint(checkpoint, policy); last == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/log/checkpoint carries no cosignature by the witness after 30s: %v\n%s", last, checkpoint)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(string(checkpoint), "\n— witness.e2e ") {
		t.Errorf("the checkpoint has no witness.e2e line:\n%s", checkpoint)
	}
	out = n.ok(t, "info", "--json")
	var got struct {
		Witnesses       []string `json:"witnesses"`
		WitnessedHeight *uint64  `json:"witnessed_height"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Witnesses) != 1 || got.Witnesses[0] != witnessKey || got.WitnessedHeight == nil {
		t.Errorf("agora info --json: witnesses %q, witnessed height %v (%v)\n%s", got.Witnesses, got.WitnessedHeight, err, out)
	}

	if got := field(t, n.ok(t, "info"), "witnessed"); !strings.HasPrefix(got, "height ") || !strings.HasSuffix(got, ", by all 1 witnesses") {
		t.Errorf("agora info: witnessed %q", got)
	}

	n.stop(t)
	w.stop(t)
	fsck(t, home)
}

// get returns the body of a 200 answer to GET url.
func get(url string) ([]byte, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, nil
}
