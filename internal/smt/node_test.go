package smt

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeNodeRefuses(t *testing.T) {
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	h := bytes.Repeat([]byte{0xab}, 32)
	// leaf returns a leaf whose key hash starts with the given nibbles.
	leaf := func(nibbles ...byte) []byte {
		l := bytes.Repeat([]byte{0x11}, 64)
		for i, n := range nibbles {
			if i%2 == 0 {
				l[i/2] = n<<4 | l[i/2]&0x0f
			} else {
				l[i/2] = l[i/2]&0xf0 | n
			}
		}
		return l
	}
	deep := bytes.Repeat([]byte{1}, maxDepth)
	for _, tt := range []struct {
		name string
		path []byte
		in   []byte
	}{
		{"short", nil, []byte{0, 1, 0}},
		{"no slots", nil, []byte{0, 0, 0, 0}},
		{"leaf bit without present bit", nil, cat([]byte{0x00, 0x01, 0x00, 0x03}, leaf(0), leaf(1))},
		{"truncated", nil, cat([]byte{0x00, 0x03, 0x00, 0x00}, h, h[:31])},
		{"trailing byte", nil, cat([]byte{0x00, 0x03, 0x00, 0x00}, h, h, []byte{0})},
		{"child with the empty hash", nil, cat([]byte{0x00, 0x03, 0x00, 0x00}, h, make([]byte, 32))},
		{"leaf in the wrong slot", nil, cat([]byte{0x00, 0x03, 0x00, 0x03}, leaf(0), leaf(0))},
		{"leaf not under the node", []byte{5}, cat([]byte{0x00, 0x03, 0x00, 0x03}, leaf(5, 0), leaf(6, 1))},
		{"single leaf below the root", []byte{5}, cat([]byte{0x00, 0x01, 0x00, 0x01}, leaf(5, 0))},
		{"child at the last level", deep, cat([]byte{0x00, 0x03, 0x00, 0x00}, h, h)},
		{"path too deep", append(deep, 1), cat([]byte{0x00, 0x03, 0x00, 0x03}, leaf(append(deep, 1, 0)...), leaf(append(deep, 1, 1)...))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeNode(tt.path, tt.in); !errors.Is(err, ErrCorrupt) {
				t.Errorf("decodeNode(%x, %x): %v, want ErrCorrupt", tt.path, tt.in, err)
			}
		})
	}
	// And the forms it accepts: a root with one leaf, a chain node with
	// one child.
	for _, tt := range []struct {
		name string
		path []byte
		in   []byte
	}{
		{"root with one leaf", nil, cat([]byte{0x00, 0x01, 0x00, 0x01}, leaf(0))},
		{"node with one child", []byte{5}, cat([]byte{0x80, 0x00, 0x00, 0x00}, h)},
		{"leaves at the last level", deep, cat([]byte{0x00, 0x03, 0x00, 0x03}, leaf(append(deep, 0)...), leaf(append(deep, 1)...))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := decodeNode(tt.path, tt.in)
			if err != nil {
				t.Fatalf("decodeNode(%x, %x): %v", tt.path, tt.in, err)
			}
			if !bytes.Equal(n.encode(), tt.in) {
				t.Errorf("re-encodes as %x", n.encode())
			}
		})
	}
}
