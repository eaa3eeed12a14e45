package cli

import "testing"

// TestSetProven fills an answer's destination from the proven answer
// only when the types match, a value or a pointer to one.
func TestSetProven(t *testing.T) {
	type answer struct{ N int }
	var out answer
	if !setProven(&out, &answer{N: 7}) || out.N != 7 {
		t.Fatalf("from a pointer: %v", out)
	}
	if !setProven(&out, answer{N: 8}) || out.N != 8 {
		t.Fatalf("from a value: %v", out)
	}
	var other struct{ N int }
	if setProven(&other, &answer{N: 9}) || other.N != 0 {
		t.Fatalf("another type was set: %v", other)
	}
	if setProven(&out, (*answer)(nil)) || setProven(&out, nil) || setProven(out, answer{}) {
		t.Fatal("a nil answer or a destination that is not a pointer was set")
	}
}
