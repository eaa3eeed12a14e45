package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is one fenced shell block of README.md.
type readmeBlock struct {
	line int    // of the opening fence
	mode string // "run", "background" or "skip"
	url  string // background: the URL that answers once it is ready
	text string
}

var readmeMarker = regexp.MustCompile(`^<!-- readme: (skip|background) ?(\S*)[^>]*-->$`)

// readmeBlocks returns README's ```sh blocks in order. The line before a
// block may mark it (see README's "Contributing"):
//
//	<!-- readme: skip, why -->                  not run
//	<!-- readme: background URL, what -->       run in the background until the test ends; URL answers once it is ready
func readmeBlocks(readme string) ([]readmeBlock, error) {
	var (
		blocks []readmeBlock
		cur    *readmeBlock
		prev   string
	)
	sc := bufio.NewScanner(strings.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case line == "```sh":
			cur = &readmeBlock{line: n, mode: "run"}
			if m := readmeMarker.FindStringSubmatch(prev); m != nil {
				cur.mode, cur.url = m[1], strings.TrimSuffix(m[2], ",")
				if cur.mode == "background" && !strings.HasPrefix(cur.url, "http://") {
					return nil, fmt.Errorf("README.md:%d: a background block needs the URL that answers once it is ready", n-1)
				}
			} else if strings.HasPrefix(prev, "<!-- readme:") {
				return nil, fmt.Errorf("README.md:%d: unknown marker %q", n-1, prev)
			}
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: block never closed", cur.line)
	}
	return blocks, sc.Err()
}

// readmePorts are the ports README.md's blocks name; the test gives each a
// free port instead, so that it runs beside a node of yours.
var readmePorts = []string{"7780", "7781", "7790"}

// readmeScript turns the blocks into one bash script that runs them in
// order, in one shell (a variable one block sets, the next uses), with
// errexit: the first command that fails stops it, naming its line.
func readmeScript(blocks []readmeBlock, ports map[string]string) string {
	var b strings.Builder
	b.WriteString(`set -eo pipefail
block=0
trap 'echo "README.md, block at line $block: this command failed: $BASH_COMMAND" >&2' ERR
# ready URL PID LOG: wait until URL answers (at most 600 tries), or fail
# if the background block PID exits first.
ready() {
	local i
	for ((i = 0; i < 600; i++)); do
		curl -s -o /dev/null "$1" && return 0 # any HTTP answer
		if ! kill -0 "$2" 2>/dev/null; then
			echo "the background block exited before $1 answered:" >&2
			cat "$3" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "$1 did not answer after 600 tries" >&2
	cat "$3" >&2
	return 1
}
`)
	for _, bl := range blocks {
		text := bl.text
		url := bl.url
		for _, p := range readmePorts {
			text = strings.ReplaceAll(text, ":"+p, ":"+ports[p])
			url = strings.ReplaceAll(url, ":"+p, ":"+ports[p])
		}
		switch bl.mode {
		case "run":
			fmt.Fprintf(&b, "\nblock=%d\necho '>>> README.md:%d'\n%s", bl.line, bl.line, text)
		case "background":
			log := fmt.Sprintf("background-%d.log", bl.line)
			fmt.Fprintf(&b, "\nblock=%d\necho '>>> README.md:%d (in the background)'\n(\n%s) >%s 2>&1 &\nready %q $! %s\n",
				bl.line, bl.line, text, log, url, log)
		}
	}
	b.WriteString("\necho '>>> every block of README.md ran'\n")
	return b.String()
}

// TestReadme runs README.md's shell blocks in order, as a newcomer would
// on a fresh clone: in a copy of the repository (its entries linked into a
// temporary directory), with a temporary HOME, so that the README cannot
// rot and nothing leaks into your home.
func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every block of README.md against real nodes; skipped with -short")
	}
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("README.md needs %s: %v", tool, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}

	// A fresh clone: the repository's entries, .git and built binaries aside.
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	clone := filepath.Join(work, "agora")
	if err := os.Mkdir(clone, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == ".git" || e.Name() == "agora" {
			continue
		}
		if err := os.Symlink(filepath.Join(repo, e.Name()), filepath.Join(clone, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	homeDir := filepath.Join(work, "home")
	if err := os.Mkdir(homeDir, 0o700); err != nil {
		t.Fatal(err)
	}

	ports := map[string]string{}
	for _, p := range readmePorts {
		ports[p] = freePort(t)
	}
	script := readmeScript(blocks, ports)
	if err := os.WriteFile(filepath.Join(work, "readme.sh"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}

	// The Go caches stay where they are (a fresh HOME would rebuild every
	// dependency); nothing else of yours, no AGORA_* of yours, goes in.
	env := []string{"HOME=" + homeDir, "TMPDIR=" + work, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			env = append(env, v+"="+s)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(work, "readme.sh"))
	cmd.Dir = clone
	cmd.Env = env
	// Its own process group: the nodes the blocks start in the background
	// are stopped with it, whether the blocks pass or fail.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	err = cmd.Wait()
	syscall.Kill(-pgid, syscall.SIGKILL) // the background blocks
	if err != nil {
		t.Fatalf("README.md's blocks: %v\n%s", err, out.String())
	}
	if testing.Verbose() {
		t.Logf("%s", out.String())
	}
}

// freePort returns a port the kernel says is free now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestReadmeBlocks pins how the README's blocks are read: markers apply to
// the block after them; text and json blocks are not shell.
func TestReadmeBlocks(t *testing.T) {
	for _, tc := range []struct {
		desc, readme string
		want         []readmeBlock
		err          string
	}{
		{desc: "plain", readme: "x\n```sh\na\nb\n```\n", want: []readmeBlock{{line: 2, mode: "run", text: "a\nb\n"}}},
		{desc: "not shell", readme: "```text\n$ a\n```\n```json\n{}\n```\n"},
		{desc: "skip", readme: "<!-- readme: skip, it measures -->\n\n```sh\na\n```\n", want: []readmeBlock{{line: 3, mode: "skip", text: "a\n"}}},
		{desc: "background", readme: "<!-- readme: background http://127.0.0.1:7780/healthz, the node -->\n```sh\nagora dev\n```\n",
			want: []readmeBlock{{line: 2, mode: "background", url: "http://127.0.0.1:7780/healthz", text: "agora dev\n"}}},
		{desc: "marker applies to the next block only", readme: "<!-- readme: skip -->\n```sh\na\n```\n```sh\nb\n```\n",
			want: []readmeBlock{{line: 2, mode: "skip", text: "a\n"}, {line: 5, mode: "run", text: "b\n"}}},
		{desc: "background without URL", readme: "<!-- readme: background -->\n```sh\na\n```\n", err: "needs the URL"},
		{desc: "unknown marker", readme: "<!-- readme: later -->\n```sh\na\n```\n", err: "unknown marker"},
		{desc: "unclosed", readme: "```sh\na\n", err: "never closed"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := readmeBlocks(tc.readme)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
