package tlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	sumdb "golang.org/x/mod/sumdb/tlog"

	"github.com/agora-ledger/agora/internal/tlog"
)

func TestParseTilePath(t *testing.T) {
	tests := []struct {
		path string
		want tlog.Tile // zero Width: the path is refused
	}{
		{"tile/0/000", tlog.Tile{Level: 0, Index: 0, Width: 256}},
		{"tile/0/999", tlog.Tile{Level: 0, Index: 999, Width: 256}},
		{"tile/0/x001/000", tlog.Tile{Level: 0, Index: 1000, Width: 256}},
		{"tile/1/x001/x234/067", tlog.Tile{Level: 1, Index: 1234067, Width: 256}},
		{"tile/1/x001/x234/067.p/1", tlog.Tile{Level: 1, Index: 1234067, Width: 1}},
		{"tile/2/000.p/255", tlog.Tile{Level: 2, Index: 0, Width: 255}},
		{"tile/63/000.p/1", tlog.Tile{Level: 63, Index: 0, Width: 1}},
		{"tile/0/x018/x446/x744/x073/x709/x551/615", tlog.Tile{Index: 1<<64 - 1, Width: 256}},
		{"tile/entries/000", tlog.Tile{Index: 0, Width: 256, Entries: true}},
		{"tile/entries/x001/x234/067.p/112", tlog.Tile{Index: 1234067, Width: 112, Entries: true}},

		{"tile/00/000", tlog.Tile{}},
		{"tile/01/000", tlog.Tile{}},
		{"tile/64/000", tlog.Tile{}},
		{"tile/-1/000", tlog.Tile{}},
		{"tile/+1/000", tlog.Tile{}},
		{"tile//000", tlog.Tile{}},
		{"tile/0", tlog.Tile{}},
		{"tile/0/", tlog.Tile{}},
		{"tile/0/0", tlog.Tile{}},
		{"tile/0/00", tlog.Tile{}},
		{"tile/0/0000", tlog.Tile{}},
		{"tile/0/x000/001", tlog.Tile{}},
		{"tile/0/x001/x000", tlog.Tile{}},
		{"tile/0/001/002", tlog.Tile{}},
		{"tile/0/x001", tlog.Tile{}},
		{"tile/0/x01/002", tlog.Tile{}},
		{"tile/0/X001/002", tlog.Tile{}},
		{"tile/0/00a", tlog.Tile{}},
		{"tile/0/+12", tlog.Tile{}},
		{"tile/0/000/", tlog.Tile{}},
		{"tile/0/000.p/0", tlog.Tile{}},
		{"tile/0/000.p/256", tlog.Tile{}},
		{"tile/0/000.p/05", tlog.Tile{}},
		{"tile/0/000.p/", tlog.Tile{}},
		{"tile/0/000.p/1/", tlog.Tile{}},
		{"tile/0/000.p/1.p/2", tlog.Tile{}},
		{"tile/0/000.p/+1", tlog.Tile{}},
		{"tile/0/x018/x446/x744/x073/x709/x551/616", tlog.Tile{}},
		{"tile/0/x100/x000/x000/x000/x000/x000/x000/000", tlog.Tile{}},
		{"/tile/0/000", tlog.Tile{}},
		{"tiles/0/000", tlog.Tile{}},
		{"tile/8/0/000", tlog.Tile{}}, // sumdb's form, with the height
		{"tile/data/000", tlog.Tile{}},
		{"tile/entries/000.p/0", tlog.Tile{}},
		{"tile/Entries/000", tlog.Tile{}},
		{"", tlog.Tile{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := tlog.ParseTilePath(tt.path)
			if tt.want.Width == 0 {
				if err == nil {
					t.Fatalf("accepted as %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if p := got.Path(); p != tt.path {
				t.Fatalf("Path() = %q, want %q", p, tt.path)
			}
		})
	}
}

// sumdbPath maps a C2SP tile path to golang.org/x/mod/sumdb/tlog's, which
// names the tile height (always 8 here) and calls entry bundles "data".
func sumdbPath(path string) string {
	rest := strings.TrimPrefix(path, "tile/")
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + r
	}
	return "tile/8/" + rest
}

func TestTilePathsMatchSumdb(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		st := sumdb.Tile{H: 8, L: rnd.IntN(65) - 1, N: rnd.Int64N(1 << uint(rnd.IntN(63))), W: 1 + rnd.IntN(256)}
		if rnd.IntN(2) == 0 {
			st.W = 256
		}
		ours := tlog.Tile{Level: max(st.L, 0), Index: uint64(st.N), Width: st.W, Entries: st.L == -1}
		if got := sumdbPath(ours.Path()); got != st.Path() {
			t.Fatalf("%+v: path %q maps to %q, sumdb's is %q", ours, ours.Path(), got, st.Path())
		}
		back, err := sumdb.ParseTilePath(sumdbPath(ours.Path()))
		if err != nil || back != st {
			t.Fatalf("sumdb parses %q as %+v, %v; want %+v", sumdbPath(ours.Path()), back, err, st)
		}
		parsed, err := tlog.ParseTilePath(ours.Path())
		if err != nil || parsed != ours {
			t.Fatalf("ParseTilePath(%q) = %+v, %v; want %+v", ours.Path(), parsed, err, ours)
		}
	}
}

// bigLog is a log of 70,000 entries, the example of C2SP tlog-tiles, built
// once in blocks of random sizes.
var bigLog = sync.OnceValue(func() *testLog {
	l := newTestLog(quietTB{})
	l.growRandomly(rand.New(rand.NewPCG(7, 0)), 70000, nil)
	return l
})

// quietTB lets bigLog be built outside a test; a failure panics.
type quietTB struct{ testing.TB }

func (quietTB) Helper()                   {}
func (quietTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (quietTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func TestTileCheck(t *testing.T) {
	tests := []struct {
		path string
		size uint64
		ok   bool
	}{
		// The example of C2SP tlog-tiles: a tree of size 70,000 has 273
		// full level 0 tiles, one partial level 0 tile of width 112, one
		// full level 1 tile, one partial level 1 tile of width 17, and one
		// partial level 2 tile of width 1.
		{"tile/0/000", 70000, true},
		{"tile/0/272", 70000, true},
		{"tile/0/273", 70000, false},
		{"tile/0/273.p/112", 70000, true},
		{"tile/0/273.p/111", 70000, true}, // the tile of a smaller tree
		{"tile/0/273.p/113", 70000, false},
		{"tile/0/274.p/1", 70000, false},
		{"tile/1/000", 70000, true},
		{"tile/1/001", 70000, false},
		{"tile/1/001.p/17", 70000, true},
		{"tile/1/001.p/18", 70000, false},
		{"tile/2/000.p/1", 70000, true},
		{"tile/2/000.p/2", 70000, false},
		{"tile/3/000.p/1", 70000, false},
		{"tile/63/000.p/1", 70000, false},
		{"tile/entries/272", 70000, true},
		{"tile/entries/273.p/112", 70000, true},
		{"tile/entries/273.p/113", 70000, false},
		{"tile/0/x018/x446/x744/x073/x709/x551/615", 70000, false},
		{"tile/0/x072/x057/x594/x037/x927/935.p/255", 1<<64 - 1, true},
		{"tile/0/x072/x057/x594/x037/x927/935", 1<<64 - 1, false},
		{"tile/0/x072/x057/x594/x037/x927/936.p/1", 1<<64 - 1, false},
		{"tile/0/x018/x446/x744/x073/x709/x551/615.p/255", 1<<64 - 1, false},
		{"tile/7/000.p/255", 1<<64 - 1, true},
		{"tile/7/000.p/1", 1<<56 - 1, false},
		{"tile/8/000.p/1", 1<<64 - 1, false},
		// A tree of size 256: a full level 0 tile and a partial level 1
		// tile of width 1.
		{"tile/0/000", 256, true},
		{"tile/0/001.p/1", 256, false},
		{"tile/1/000.p/1", 256, true},
		{"tile/0/000.p/1", 0, false},
		{"tile/entries/000.p/1", 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s at %d", tt.path, tt.size), func(t *testing.T) {
			tile, err := tlog.ParseTilePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			err = tile.Check(tt.size)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, tlog.ErrNoTile) {
				t.Fatalf("got %v, want ErrNoTile", err)
			}
		})
	}
	for _, bad := range []tlog.Tile{{Width: 0}, {Width: 257}, {Level: 64, Width: 1}, {Level: -1, Width: 1}, {Level: 1, Width: 1, Entries: true}} {
		if err := bad.Check(1 << 40); !errors.Is(err, tlog.ErrNoTile) {
			t.Errorf("Check of invalid %+v = %v, want ErrNoTile", bad, err)
		}
	}
}

// tileReader serves a log's tiles at a tree size to sumdb's
// TileHashReader, which checks every tile against the tree's root.
type tileReader struct {
	t    *testing.T
	l    *testLog
	size uint64
}

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []sumdb.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, st := range tiles {
		tile, err := tlog.ParseTilePath(strings.Replace(st.Path(), "tile/8/", "tile/", 1))
		if err != nil {
			r.t.Fatalf("sumdb asked for %s: %v", st.Path(), err)
		}
		if out[i], err = tlog.ReadTile(r.l.nodes, tile, r.size); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r tileReader) SaveTiles([]sumdb.Tile, [][]byte) {}

// TestTilesAgainstSumdb reads the tiles of the 70,000-entry log at many
// sizes through sumdb's TileHashReader (which authenticates them against
// the root) and checks the hashes, proofs and roots it derives.
func TestTilesAgainstSumdb(t *testing.T) {
	l := bigLog()
	rnd := rand.New(rand.NewPCG(3, 4))
	sizes := []uint64{1, 2, 255, 256, 257, 511, 65535, 65536, 65537, 69999, 70000}
	for range 10 {
		sizes = append(sizes, 1+rnd.Uint64N(70000))
	}
	for _, n := range sizes {
		root := l.rootAt(n)
		thr := sumdb.TileHashReader(sumdb.Tree{N: int64(n), Hash: root}, tileReader{t, l, n})
		if got, err := sumdb.TreeHash(int64(n), thr); err != nil || got != root {
			t.Fatalf("size %d: TreeHash through our tiles = %x, %v; want %x", n, got, err, root)
		}
		for range 20 {
			i := rnd.Uint64N(n)
			p, err := sumdb.ProveRecord(int64(n), int64(i), thr)
			if err != nil {
				t.Fatalf("size %d: ProveRecord(%d) through our tiles: %v", n, i, err)
			}
			ours, err := tlog.InclusionProof(l.nodes, i, n)
			if err != nil || fmt.Sprint(p) != fmt.Sprint(toSumdb(ours)) {
				t.Fatalf("size %d: leaf %d: sumdb proves %x from our tiles, we prove %x, %v", n, i, p, ours, err)
			}
			m := 1 + rnd.Uint64N(n)
			if _, err := sumdb.ProveTree(int64(n), int64(m), thr); err != nil {
				t.Fatalf("size %d: ProveTree(%d) through our tiles: %v", n, m, err)
			}
			// HashFromTile finds the stored hashes in the tile data.
			level := rnd.IntN(17)
			if k := n >> uint(level); k > 0 {
				idx := sumdb.StoredHashIndex(level, int64(rnd.Uint64N(k)))
				st := sumdb.TileForIndex(8, idx)
				tile, _ := tlog.ParseTilePath(strings.Replace(st.Path(), "tile/8/", "tile/", 1))
				tile.Width = int(min(uint64(tlog.TileWidth), (n>>(8*uint(tile.Level)))-tile.Index*tlog.TileWidth))
				st.W = tile.Width
				data, err := tlog.ReadTile(l.nodes, tile, n)
				if err != nil {
					t.Fatal(err)
				}
				h, err := sumdb.HashFromTile(st, data, idx)
				if err != nil || h != l.sumdb[idx] {
					t.Fatalf("size %d: HashFromTile(%s, %d) = %x, %v; want %x", n, st.Path(), idx, h, err, l.sumdb[idx])
				}
			}
		}
	}
}

func TestReadTile(t *testing.T) {
	l := bigLog()
	full, err := tlog.ReadTile(l.nodes, tlog.Tile{Level: 0, Index: 1, Width: 256}, 70000)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 256*tlog.HashSize {
		t.Fatalf("full tile is %d bytes", len(full))
	}
	for i := range 256 {
		if got, want := full[i*32:i*32+32], tlog.LeafHash(l.entries[256+i]); !bytes.Equal(got, want) {
			t.Fatalf("hash %d of tile/0/001 is %x, want leaf hash %x", i, got, want)
		}
	}
	// A partial tile is a prefix of the full one.
	part, err := tlog.ReadTile(l.nodes, tlog.Tile{Level: 0, Index: 1, Width: 10}, 300)
	if err != nil || !bytes.Equal(part, full[:10*32]) {
		t.Fatalf("tile/0/001.p/10 = %x, %v; want the prefix of tile/0/001", part, err)
	}
	// Level 1 holds the roots of full level 0 tiles.
	l1, err := tlog.ReadTile(l.nodes, tlog.Tile{Level: 1, Index: 0, Width: 3}, 70000)
	if err != nil {
		t.Fatal(err)
	}
	if want := l.rootAt(256); !bytes.Equal(l1[:32], want[:]) {
		t.Fatalf("tile/1/000.p/3 starts %x, want the root of the first 256 leaves %x", l1[:32], want)
	}
	if _, err := tlog.ReadTile(l.nodes, tlog.Tile{Level: 0, Index: 274, Width: 1}, 70000); !errors.Is(err, tlog.ErrNoTile) {
		t.Errorf("ReadTile beyond the tree: %v, want ErrNoTile", err)
	}
	if _, err := tlog.ReadTile(l.nodes, tlog.Tile{Index: 0, Width: 1, Entries: true}, 70000); err == nil {
		t.Error("ReadTile read an entry bundle")
	}
	// A size larger than the store holds is the reader's error.
	if _, err := tlog.ReadTile(l.nodes, tlog.Tile{Index: 273, Width: 200}, 80000); !errors.Is(err, errMissing) {
		t.Errorf("ReadTile beyond the store: %v, want the reader's error", err)
	}
}

func TestBundles(t *testing.T) {
	l := bigLog()
	entries := l.entries[273*256 : 273*256+112]
	b, err := tlog.MarshalBundle(entries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tlog.ParseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	tile, err := tlog.ReadTile(l.nodes, tlog.Tile{Index: 273, Width: 112}, 70000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 112 {
		t.Fatalf("bundle has %d entries, want 112", len(got))
	}
	for i, e := range got {
		if !bytes.Equal(tlog.LeafHash(e), tile[i*32:i*32+32]) {
			t.Fatalf("entry %d of the bundle does not hash to its leaf in tile/0/273.p/112", i)
		}
	}

	// Byte-pinned encoding.
	b, err = tlog.MarshalBundle([][]byte{[]byte("ab"), {}, []byte("c")})
	if want := []byte("\x00\x02ab\x00\x00\x00\x01c"); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("MarshalBundle = %q, %v; want %q", b, err, want)
	}
	max := bytes.Repeat([]byte{'x'}, tlog.MaxEntrySize)
	if b, err := tlog.MarshalBundle([][]byte{max}); err != nil || len(b) != 2+tlog.MaxEntrySize || b[0] != 0xff || b[1] != 0xff {
		t.Fatalf("MarshalBundle of a %d-byte entry: %v", tlog.MaxEntrySize, err)
	}

	refused := []struct {
		name    string
		entries [][]byte
	}{
		{"empty bundle", nil},
		{"257 entries", make([][]byte, 257)},
		{"entry too long", [][]byte{append(max, 'x')}},
	}
	for _, tt := range refused {
		if _, err := tlog.MarshalBundle(tt.entries); err == nil {
			t.Errorf("MarshalBundle accepted %s", tt.name)
		}
	}
	ok257, _ := tlog.MarshalBundle(make([][]byte, 256))
	bad := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"one byte", "\x00"},
		{"truncated entry", "\x00\x03ab"},
		{"trailing byte", "\x00\x02ab\x00"},
		{"257 entries", string(ok257) + "\x00\x00"},
	}
	for _, tt := range bad {
		if e, err := tlog.ParseBundle([]byte(tt.data)); err == nil {
			t.Errorf("ParseBundle accepted %s as %q", tt.name, e)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{
		"tile/0/000", "tile/1/x001/x234/067", "tile/1/x001/x234/067.p/1", "tile/0/273.p/112",
		"tile/1/001.p/17", "tile/2/000.p/1", "tile/entries/x001/x234/067.p/112", "tile/63/000",
		"tile/0/x018/x446/x744/x073/x709/x551/615", "tile/0/x000/001", "tile/8/0/000",
	} {
		f.Add(s, uint64(70000))
	}
	f.Fuzz(func(t *testing.T, path string, size uint64) {
		tile, err := tlog.ParseTilePath(path)
		if err != nil {
			return
		}
		if got := tile.Path(); got != path {
			t.Fatalf("ParseTilePath(%q) = %+v, whose path is %q", path, tile, got)
		}
		if err := tile.Check(size); err != nil && !errors.Is(err, tlog.ErrNoTile) {
			t.Fatalf("Check: %v", err)
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	for _, s := range []string{"", "\x00\x00", "\x00\x02ab\x00\x00\x00\x01c", "\x00\x03ab", "\xff\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := tlog.ParseBundle(data)
		if err != nil {
			return
		}
		b, err := tlog.MarshalBundle(entries)
		if err != nil {
			t.Fatalf("ParseBundle accepted what MarshalBundle refuses: %v", err)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("round trip: %q became %q", data, b)
		}
	})
}
