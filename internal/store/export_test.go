package store

import (
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// OpenFS is open for the tests: a store on the file system fs.
func OpenFS(dir string, fs vfs.FS, log *slog.Logger) (*Store, error) { return open(dir, fs, log) }
