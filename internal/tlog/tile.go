package tlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/compact"
)

// Tile geometry, from C2SP tlog-tiles.
const (
	TileHeight   = 8   // levels of the tree a tile spans
	TileWidth    = 256 // hashes (or entries) in a full tile
	MaxTileLevel = 63  // the highest level a tile path may name
)

// MaxEntrySize is the largest entry an entry bundle can carry: entries are
// prefixed by a big-endian uint16 length.
const MaxEntrySize = 1<<16 - 1

// ErrNoTile means a tile does not exist at the tree size asked about: it
// starts beyond the tree, or is wider than the hashes the tree has there.
// An HTTP server answers 404.
var ErrNoTile = errors.New("tlog: no such tile")

// Tile names a C2SP tlog-tiles resource: a hash tile, or, if Entries is
// set, an entry bundle.
//
// Hash tile N at level L holds the hashes of tree nodes
// (8·L, 256·N) … (8·L, 256·N + Width − 1): at level 0, leaf hashes; at
// level L, the roots of full tiles of level L−1. Entry bundle N holds the
// entries of leaves 256·N … 256·N + Width − 1.
type Tile struct {
	Level   int    // L, 0 to MaxTileLevel; 0 for an entry bundle
	Index   uint64 // N
	Width   int    // W, 1 to TileWidth; TileWidth is a full tile
	Entries bool   // an entry bundle, tile/entries/<N>
}

// Path returns the tile's path relative to the log's prefix, such as
// "tile/1/x001/234.p/5" or "tile/entries/000". t must be valid (see
// ParseTilePath for the ranges).
func (t Tile) Path() string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.Entries {
		b.WriteString("entries/")
	} else {
		b.WriteString(strconv.Itoa(t.Level))
		b.WriteByte('/')
	}
	b.WriteString(formatTileIndex(t.Index))
	if t.Width != TileWidth {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(t.Width))
	}
	return b.String()
}

func (t Tile) String() string { return t.Path() }

// formatTileIndex encodes n in 3-digit path elements, all but the last
// prefixed with "x": 1234067 is "x001/x234/067".
func formatTileIndex(n uint64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}

// ParseTilePath parses a tile's path relative to the log's prefix, such
// as "tile/0/x001/234.p/5". It accepts only the canonical path, the one
// Path returns: no leading zeroes in the level or width, no redundant
// "x000" elements, a width from 1 to 255 after ".p/" (a full tile has no
// suffix), and a level from 0 to 63.
func ParseTilePath(path string) (Tile, error) {
	t, err := parseTilePath(path)
	if err != nil {
		return Tile{}, fmt.Errorf("tlog: bad tile path %q: %w", path, err)
	}
	return t, nil
}

func parseTilePath(path string) (Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return Tile{}, errors.New("does not start with tile/")
	}
	var t Tile
	kind, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Tile{}, errors.New("no tile index")
	}
	if kind == "entries" {
		t.Entries = true
	} else {
		l, err := parseDecimal(kind, MaxTileLevel)
		if err != nil {
			return Tile{}, fmt.Errorf("level: %w", err)
		}
		t.Level = int(l)
	}
	t.Width = TileWidth
	if index, width, ok := strings.Cut(rest, ".p/"); ok {
		w, err := parseDecimal(width, TileWidth-1)
		if err != nil || w == 0 {
			return Tile{}, errors.New("partial tile width must be 1 to 255")
		}
		t.Width, rest = int(w), index
	}
	n, err := parseTileIndex(rest)
	if err != nil {
		return Tile{}, fmt.Errorf("index: %w", err)
	}
	t.Index = n
	return t, nil
}

// parseDecimal parses a decimal with no sign and no leading zeroes, at
// most max.
func parseDecimal(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 1 && s[0] == '0' || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a canonical decimal", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, fmt.Errorf("%q is out of range (at most %d)", s, max)
	}
	return v, nil
}

func parseTileIndex(s string) (uint64, error) {
	elems := strings.Split(s, "/")
	var n uint64
	for i, e := range elems {
		last := i == len(elems)-1
		if !last {
			var ok bool
			if e, ok = strings.CutPrefix(e, "x"); !ok {
				return 0, fmt.Errorf("element %d must start with x", i)
			}
		}
		if len(e) != 3 || strings.TrimLeft(e, "0123456789") != "" {
			return 0, fmt.Errorf("element %d must be three digits", i)
		}
		if i == 0 && !last && e == "000" {
			return 0, errors.New("leading x000 element")
		}
		d, _ := strconv.ParseUint(e, 10, 64)
		if n > (1<<64-1-d)/1000 {
			return 0, errors.New("overflows 64 bits")
		}
		n = n*1000 + d
	}
	return n, nil
}

// hashesAt returns how many node hashes level 8·L of a tree of size leaves
// has: the number of perfect subtrees of 256^L leaves.
func hashesAt(level int, size uint64) uint64 {
	shift := uint(TileHeight * level)
	if shift >= 64 {
		return 0
	}
	return size >> shift
}

// Check returns nil if t exists in the tree of size leaves, and an error
// wrapping ErrNoTile if it does not. A partial tile narrower than the
// hashes available exists: it is the tile a smaller tree had, and its
// hashes are still the same. A server serving entry bundles checks them
// with Check before reading the entries.
func (t Tile) Check(size uint64) error {
	if t.Level < 0 || t.Level > MaxTileLevel || t.Width < 1 || t.Width > TileWidth || t.Entries && t.Level != 0 {
		return fmt.Errorf("%w: invalid tile %+v", ErrNoTile, t)
	}
	avail := hashesAt(t.Level, size)
	if t.Index >= avail/TileWidth+1 || avail-t.Index*TileWidth < uint64(t.Width) {
		return fmt.Errorf("%w: %s in a tree of size %d", ErrNoTile, t.Path(), size)
	}
	return nil
}

// ReadTile returns the data of hash tile t in the tree of size leaves: its
// Width hashes, concatenated. The error wraps ErrNoTile if the tile does
// not exist at that size.
func ReadTile(r HashReader, t Tile, size uint64) ([]byte, error) {
	if t.Entries {
		return nil, fmt.Errorf("tlog: ReadTile reads hash tiles, not entry bundles (%s)", t.Path())
	}
	if err := t.Check(size); err != nil {
		return nil, err
	}
	ids := make([]compact.NodeID, t.Width)
	for i := range ids {
		ids[i] = compact.NewNodeID(uint(TileHeight*t.Level), t.Index*TileWidth+uint64(i))
	}
	hashes, err := readHashes(r, ids)
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, len(hashes)*HashSize)
	for _, h := range hashes {
		data = append(data, h...)
	}
	return data, nil
}

// MarshalBundle encodes entries as a C2SP tlog-tiles entry bundle: each
// entry prefixed by its length as a big-endian uint16. It refuses an empty
// bundle, more than TileWidth entries, and entries longer than
// MaxEntrySize.
func MarshalBundle(entries [][]byte) ([]byte, error) {
	if len(entries) == 0 || len(entries) > TileWidth {
		return nil, fmt.Errorf("tlog: an entry bundle holds 1 to %d entries, not %d", TileWidth, len(entries))
	}
	n := 0
	for i, e := range entries {
		if len(e) > MaxEntrySize {
			return nil, fmt.Errorf("tlog: entry %d is %d bytes, an entry bundle holds at most %d", i, len(e), MaxEntrySize)
		}
		n += 2 + len(e)
	}
	b := make([]byte, 0, n)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

// ParseBundle decodes a C2SP tlog-tiles entry bundle. It refuses a
// truncated entry, trailing bytes, an empty bundle and more than
// TileWidth entries. The entries alias data. The caller checks that the
// number of entries is the width of the tile it asked for, and that each
// entry hashes to its leaf.
func ParseBundle(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(entries) == TileWidth {
			return nil, fmt.Errorf("tlog: entry bundle has more than %d entries", TileWidth)
		}
		if len(data) < 2 {
			return nil, fmt.Errorf("tlog: entry bundle: truncated length of entry %d", len(entries))
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data)-2 < n {
			return nil, fmt.Errorf("tlog: entry bundle: entry %d is %d bytes, only %d left", len(entries), n, len(data)-2)
		}
		entries = append(entries, data[2:2+n:2+n])
		data = data[2+n:]
	}
	if len(entries) == 0 {
		return nil, errors.New("tlog: empty entry bundle")
	}
	return entries, nil
}
