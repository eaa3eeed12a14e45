package verify

import (
	"errors"
	"testing"
)

// TestOpenedCache opens one checkpoint many times through a shared
// Opened: the same checkpoint each time, and the cache never makes a
// checkpoint pass under a policy it does not pass under alone (another
// log key), nor a tampered one.
func TestOpenedCache(t *testing.T) {
	vs, ss := network(t, 10, 10, 10, 10)
	signed := signedBy(t, checkpointAt(5, 9, 1), ss[0])
	good := Policy{LogKey: vs[0].NoteKey, Opened: &Opened{}}
	first, err := OpenCheckpoint(signed, good)
	if err != nil {
		t.Fatal(err)
	}
	again, err := OpenCheckpoint(signed, good)
	if err != nil || again != first {
		t.Fatalf("again: %p %v, want the first %p", again, err, first)
	}
	other := good
	other.LogKey = vs[1].NoteKey // the same cache, another key
	if _, err := OpenCheckpoint(signed, other); !errors.Is(err, ErrInvalid) {
		t.Fatalf("under another key: %v", err)
	}
	tampered := append([]byte(nil), signed...)
	tampered[len("net-1")+3] ^= 1
	if _, err := OpenCheckpoint(tampered, good); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered: %v", err)
	}
	for i := range 2 * maxOpened { // full, it starts again: still right
		if _, err := OpenCheckpoint(signedBy(t, checkpointAt(6, uint64(10+i), 2), ss[0]), good); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := OpenCheckpoint(signed, good); err != nil || c.Height != 5 {
		t.Fatalf("after eviction: %+v %v", c, err)
	}
}
