package smt_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/agora-ledger/agora/internal/smt"
)

// nodes is a NodeReader over a map, standing in for the store.
type nodes map[string][]byte

func (n nodes) GetNode(path []byte) ([]byte, bool, error) {
	b, ok := n[string(path)]
	return b, ok, nil
}

// Example shows a block's writes going into the tree, and a proof made by
// a node and checked by a client that holds only the root.
func Example() {
	store := nodes{}

	// A block's write set, as package ledger gives it: sorted by key,
	// a nil value deleting the key.
	type write struct{ key, value []byte }
	writes := []write{
		{[]byte("notary/anchor/1"), []byte("first")},
		{[]byte("notary/anchor/2"), []byte("second")},
		{[]byte("notary/anchor/3"), nil},
	}
	// The tree wants updates sorted by key hash.
	var ups []smt.Update
	for _, w := range writes {
		u := smt.Update{KeyHash: smt.KeyHash(w.key)}
		if w.value != nil {
			v := smt.ValueHash(w.value)
			u.ValueHash = &v
		}
		ups = append(ups, u)
	}
	slices.SortFunc(ups, func(a, b smt.Update) int { return bytes.Compare(a.KeyHash[:], b.KeyHash[:]) })

	root, nodeWrites, err := smt.Apply(store, ups)
	if err != nil {
		panic(err)
	}
	// The node writes go into the same atomic batch as the block.
	for _, w := range nodeWrites {
		if w.Node == nil {
			delete(store, string(w.Path))
		} else {
			store[string(w.Path)] = w.Node
		}
	}
	fmt.Printf("root %x…\n", root[:8])

	// A node proves a key; the proof travels as bytes.
	p, err := smt.Prove(store, smt.KeyHash([]byte("notary/anchor/2")))
	if err != nil {
		panic(err)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		panic(err)
	}

	// A client checks it against the root, with the key and value it was told.
	q, err := smt.ParseProof(b)
	if err != nil {
		panic(err)
	}
	v := smt.ValueHash([]byte("second"))
	fmt.Println("present:", q.Verify(root, smt.KeyHash([]byte("notary/anchor/2")), &v))
	wrong := smt.ValueHash([]byte("forged"))
	err = q.Verify(root, smt.KeyHash([]byte("notary/anchor/2")), &wrong)
	fmt.Println("forged:", errors.Is(err, smt.ErrInvalidProof))

	// Absence works the same way, with no value.
	p, err = smt.Prove(store, smt.KeyHash([]byte("notary/anchor/3")))
	if err != nil {
		panic(err)
	}
	fmt.Println("absent:", p.Verify(root, smt.KeyHash([]byte("notary/anchor/3")), nil))
	// Output:
	// root 1a6624c43e8eee78…
	// present: <nil>
	// forged: true
	// absent: <nil>
}
