package witness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/agora-ledger/agora/internal/tlog"
)

// Tree is a log's tree head: its size and root hash.
type Tree struct {
	Size uint64 `json:"size"`
	Hash []byte `json:"hash"`
}

// State keeps, for each log, the tree of the latest checkpoint the witness
// cosigned. A Witness calls it under its own lock, so an implementation
// need not order concurrent calls, but it must not be shared by two
// witnesses (or two processes): the check and the update must be atomic.
type State interface {
	// Latest returns the latest tree cosigned for origin; ok is false if
	// the witness never cosigned a checkpoint of that log.
	Latest(origin string) (tree Tree, ok bool, err error)
	// Update records tree as the latest for origin. When it returns nil,
	// the record is durable: it survives a crash. When it returns an
	// error, Latest still returns the previous tree.
	Update(origin string, tree Tree) error
}

// FileState is a State kept in a JSON file, rewritten whole on every
// update through a synced temporary file renamed over it. It suits a
// witness of a few logs updated every few seconds.
//
// The file reads
//
//	{"logs": {"<origin>": {"size": 123, "hash": "<base64>"}}}
type FileState struct {
	path string
	mu   sync.Mutex
	logs map[string]Tree
}

type stateFile struct {
	Logs map[string]Tree `json:"logs"`
}

// OpenFileState reads the state in path, or starts an empty one if the
// file does not exist. It refuses a file it cannot read strictly.
func OpenFileState(path string) (*FileState, error) {
	s := &FileState{path: path, logs: map[string]Tree{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: read state: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f stateFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("witness: state file %s is damaged: %w", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("witness: state file %s is damaged: trailing data", path)
	}
	for origin, t := range f.Logs {
		if len(t.Hash) != tlog.HashSize {
			return nil, fmt.Errorf("witness: state file %s is damaged: log %q has a %d-byte root hash", path, origin, len(t.Hash))
		}
		s.logs[origin] = t
	}
	return s, nil
}

// Latest implements State.
func (s *FileState) Latest(origin string) (Tree, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.logs[origin]
	return t, ok, nil
}

// Update implements State: it returns once the new file and its directory
// entry are synced.
func (s *FileState) Update(origin string, tree Tree) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	logs := maps.Clone(s.logs)
	logs[origin] = Tree{Size: tree.Size, Hash: bytes.Clone(tree.Hash)}
	b, err := json.MarshalIndent(stateFile{Logs: logs}, "", "\t")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("witness: save state: %w", err)
	}
	s.logs = logs
	return nil
}

// writeFileAtomic replaces path with data: after a crash, path holds
// either the old or the new data.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
