package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mapReader is a Reader over a plain map: the committed state the overlay
// sits on in these tests.
type mapReader map[string][]byte

func (m mapReader) Get(k []byte) ([]byte, bool, error) {
	v, ok := m[string(k)]
	return v, ok, nil
}

func (m mapReader) Iterate(start, end []byte, fn func(k, v []byte) (bool, error)) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k < string(start) || (end != nil && k >= string(end)) {
			continue
		}
		if more, err := fn([]byte(k), m[k]); err != nil || !more {
			return err
		}
	}
	return nil
}

// model is the naive meaning of a stack of overlays: a map from key to
// value, with the writes applied in order.
type model map[string][]byte

func (m model) apply(k string, v []byte) {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
}

func (m model) clone() model {
	c := model{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

type kvPair struct{ K, V string }

// scan lists the model's pairs in [start, end) in order, at most limit of
// them (all if limit < 0).
func (m model) scan(start, end []byte, limit int) []kvPair {
	var keys []string
	for k := range m {
		if k >= string(start) && (end == nil || k < string(end)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if limit >= 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := []kvPair{}
	for _, k := range keys {
		out = append(out, kvPair{k, string(m[k])})
	}
	return out
}

func collect(t *testing.T, r StateReader, start, end []byte, limit int) []kvPair {
	t.Helper()
	out := []kvPair{}
	err := r.Iterate(start, end, func(k, v []byte) (bool, error) {
		if limit >= 0 && len(out) >= limit {
			t.Fatalf("Iterate called fn after it returned false")
		}
		out = append(out, kvPair{string(k), string(v)})
		return limit < 0 || len(out) < limit, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// randKey draws from a small key space so that sets, deletes and parent
// keys collide often; "" and "\xff" keys exercise the bounds.
func randKey(r *rand.Rand) string {
	keys := []string{"", "a", "aa", "ab", "b", "ba", "bb", "c", "ca", "d", "e", "\xff", "\xff\xff"}
	return keys[r.IntN(len(keys))]
}

func randBound(r *rand.Rand) []byte {
	if r.IntN(4) == 0 {
		return nil
	}
	return []byte(randKey(r))
}

// TestOverlayModel drives a block overlay and a transaction overlay above
// it with random operations, and after each checks Get and Iterate (with
// random bounds and early stops) against the naive model, including that
// a discarded transaction overlay leaves nothing behind and a merged one
// leaves exactly its writes.
func TestOverlayModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		base := mapReader{}
		for range r.IntN(8) {
			base[randKey(r)] = []byte(fmt.Sprintf("base%d", r.IntN(100)))
		}
		blkModel := model{}
		for k, v := range base {
			blkModel[k] = v
		}
		blk := newOverlay(base)
		var txo *overlay
		var txModel model
		for step := range 60 {
			where := fmt.Sprintf("round %d step %d", round, step)
			// The overlay under test: the transaction overlay while one
			// is open, else the block overlay.
			cur, curModel := blk, blkModel
			if txo != nil {
				cur, curModel = txo, txModel
			}
			switch op := r.IntN(10); {
			case op < 4:
				k := randKey(r)
				v := []byte(fmt.Sprintf("v%d", r.IntN(1000)))
				if r.IntN(8) == 0 {
					v = []byte{} // an empty value exists; it is not a delete
				}
				cur.set([]byte(k), v)
				curModel.apply(k, v)
			case op < 6:
				k := randKey(r)
				cur.set([]byte(k), nil)
				curModel.apply(k, nil)
			case op == 6 && txo == nil:
				txo, txModel = newOverlay(blk), blkModel.clone()
			case op == 7 && txo != nil:
				if r.IntN(2) == 0 {
					txo.mergeInto(blk)
					blkModel = txModel
				}
				txo, txModel = nil, nil // else discarded: a failed transaction
			}
			cur, curModel = blk, blkModel
			if txo != nil {
				cur, curModel = txo, txModel
			}
			for _, k := range []string{randKey(r), randKey(r)} {
				v, ok, err := cur.Get([]byte(k))
				want, wantOK := curModel[k]
				if err != nil || ok != wantOK || !bytes.Equal(v, want) {
					t.Fatalf("%s: Get(%q) = %q, %v, %v; want %q, %v", where, k, v, ok, err, want, wantOK)
				}
			}
			start, end := randBound(r), randBound(r)
			limit := -1
			if r.IntN(3) == 0 {
				limit = 1 + r.IntN(4)
			}
			if diff := cmp.Diff(curModel.scan(start, end, limit), collect(t, cur, start, end, limit)); diff != "" {
				t.Fatalf("%s: Iterate(%q, %q, limit %d) (-model +overlay):\n%s", where, start, end, limit, diff)
			}
		}
		// sorted lists exactly the block's net writes, in key order.
		writes := blk.sorted()
		if !slices.IsSortedFunc(writes, func(a, b Write) int { return bytes.Compare(a.Key, b.Key) }) {
			t.Fatalf("round %d: sorted() is not in key order", round)
		}
		after := model{}
		for k, v := range base {
			after[k] = v
		}
		for _, w := range writes {
			after.apply(string(w.Key), w.Value)
		}
		if diff := cmp.Diff(blkModel, after); diff != "" {
			t.Fatalf("round %d: base + sorted() writes differ from the model (-model +applied):\n%s", round, diff)
		}
	}
}

func TestOverlayIterate(t *testing.T) {
	base := mapReader{"a": []byte("1"), "b": []byte("2"), "c": []byte("3"), "e": []byte("5")}
	o := newOverlay(base)
	o.set([]byte("b"), nil)          // delete shadows the parent
	o.set([]byte("c"), []byte("33")) // overwrite
	o.set([]byte("d"), []byte("4"))  // new key between parent keys
	o.set([]byte("f"), []byte{})     // new key after the parent's last, empty value
	o.set([]byte("0"), nil)          // delete of a key that never existed
	all := []kvPair{{"a", "1"}, {"c", "33"}, {"d", "4"}, {"e", "5"}, {"f", ""}}
	tests := []struct {
		name       string
		start, end string
		nilEnd     bool
		limit      int
		want       []kvPair
	}{
		{name: "all", nilEnd: true, limit: -1, want: all},
		{name: "stop after one", nilEnd: true, limit: 1, want: all[:1]},
		{name: "stop on an overlay key", nilEnd: true, limit: 3, want: all[:3]},
		{name: "stop on a parent key after overlay keys", nilEnd: true, limit: 4, want: all[:4]},
		{name: "end excludes", start: "b", end: "e", limit: -1, want: []kvPair{{"c", "33"}, {"d", "4"}}},
		{name: "start includes", start: "c", nilEnd: true, limit: -1, want: all[1:]},
		{name: "empty range", start: "c", end: "c", limit: -1, want: []kvPair{}},
		{name: "only deleted key", start: "b", end: "c", limit: -1, want: []kvPair{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var end []byte
			if !tt.nilEnd {
				end = []byte(tt.end)
			}
			if diff := cmp.Diff(tt.want, collect(t, o, []byte(tt.start), end, tt.limit)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("error stops", func(t *testing.T) {
		boom := errors.New("boom")
		for _, at := range []string{"a", "c", "d", "f"} { // parent key, overwritten, overlay-only, trailing overlay key
			calls := 0
			err := o.Iterate(nil, nil, func(k, _ []byte) (bool, error) {
				calls++
				if string(k) == at {
					return true, boom
				}
				return true, nil
			})
			if !errors.Is(err, boom) {
				t.Errorf("error at %q: Iterate() = %v, want boom", at, err)
			}
			want := slices.IndexFunc(all, func(p kvPair) bool { return p.K == at }) + 1
			if calls != want {
				t.Errorf("error at %q: fn called %d times, want %d", at, calls, want)
			}
		}
	})
}

func TestKV(t *testing.T) {
	base := mapReader{"notary/a": []byte("1"), "notary/b": []byte("2"), "notaryx/c": []byte("3"), "other/a": []byte("4")}
	o := newOverlay(base)
	kv := &KV{o: o, prefix: []byte("notary/")}
	kv.Set([]byte("c"), nil) // nil is stored as empty, not as a delete
	kv.Delete([]byte("a"))
	var got []kvPair
	err := kv.Iterate(nil, func(k, v []byte) (bool, error) {
		got = append(got, kvPair{string(k), string(v)})
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]kvPair{{"b", "2"}, {"c", ""}}, got); diff != "" {
		t.Errorf("Iterate (-want +got):\n%s", diff)
	}
	if v, ok, _ := kv.Get([]byte("c")); !ok || v == nil || len(v) != 0 {
		t.Errorf("Get(c) = %q, %v; want an empty value", v, ok)
	}
	if diff := cmp.Diff([]Write{{Key: []byte("notary/a")}, {Key: []byte("notary/c"), Value: []byte{}}}, o.sorted()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	// Set copies the value: the caller may reuse its buffer.
	buf := []byte("x")
	kv.Set([]byte("d"), buf)
	buf[0] = 'y'
	if v, _, _ := kv.Get([]byte("d")); string(v) != "x" {
		t.Errorf("Set kept the caller's buffer: %q", v)
	}

	ro := NewReadView(base, "notary", nil)
	for name, f := range map[string]func(){
		"Set":    func() { ro.Set([]byte("a"), []byte("1")) },
		"Delete": func() { ro.Delete([]byte("a")) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on a read-only view did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []byte
	}{
		{name: "simple", in: "notary/", want: []byte("notary0")},
		{name: "trailing 0xff", in: "a\xff", want: []byte("b")},
		{name: "all 0xff", in: "\xff\xff", want: nil},
		{name: "empty", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := prefixEnd([]byte(tt.in)); !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("prefixEnd(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// brokenReader fails to iterate, as a store with a failing disk would.
type brokenReader struct{ mapReader }

func (brokenReader) Iterate([]byte, []byte, func(k, v []byte) (bool, error)) error {
	return errors.New("i/o error")
}

// TestOverlayIterateStorageError checks that a failure of the state under
// an overlay is reported as ErrStorage, which stops the block, as Get
// reports it, while an error of the caller's own passes through
// unchanged, which a module may return as a transaction failure.
func TestOverlayIterateStorageError(t *testing.T) {
	blk := newOverlay(brokenReader{})
	txo := newOverlay(blk)
	for name, o := range map[string]*overlay{"block overlay": blk, "transaction overlay": txo} {
		err := o.Iterate(nil, nil, func(k, v []byte) (bool, error) { return true, nil })
		if !errors.Is(err, ErrStorage) {
			t.Errorf("%s: Iterate() = %v, want ErrStorage", name, err)
		}
	}
	mine := fmt.Errorf("%w: rule", ErrInvalid)
	o := newOverlay(mapReader{"a": []byte("1")})
	if err := o.Iterate(nil, nil, func(k, v []byte) (bool, error) { return true, mine }); err != mine {
		t.Errorf("Iterate() = %v, want the callback's own error", err)
	}
	o.set([]byte("0"), []byte("x")) // fn now fails on an overlay key first
	if err := o.Iterate(nil, nil, func(k, v []byte) (bool, error) { return true, mine }); err != mine {
		t.Errorf("Iterate() = %v, want the callback's own error", err)
	}
}
