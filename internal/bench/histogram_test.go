package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 127, 128, 129, 255, 256, 1000, time.Millisecond, 1234567, time.Second, time.Hour, 1 << 62} {
		i := bucket(d)
		lo := lower(i)
		if lo > d || (i+1 < 64*subBuckets && lower(i+1) <= d) {
			t.Errorf("%d: bucket %d is [%d, %d)", d, i, lo, lower(i+1))
		}
		if d >= subBuckets && float64(d-lo) > float64(d)/subBuckets {
			t.Errorf("%d: bucket's least latency %d is more than 1/%d off", d, lo, subBuckets)
		}
	}
}

// TestHistogramPercentiles checks the histogram's percentiles against the
// exact ones of the same latencies, recorded singly and by batches.
func TestHistogramPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h, parts [3]histogram
	var all []time.Duration
	for i := range 20000 {
		d := time.Duration(r.ExpFloat64() * float64(50*time.Millisecond))
		n := 1 + r.IntN(100)
		for range n {
			all = append(all, d)
		}
		h[0].add(d, n)
		parts[i%3].add(d, n)
	}
	for i := range parts {
		h[1].merge(&parts[i])
	}
	slices.Sort(all)
	for _, p := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
		want := percentile(all, p)
		for k := range 2 {
			got := h[k].percentile(p)
			if got > want || float64(want-got) > float64(want)/subBuckets {
				t.Errorf("histogram %d: p%v = %v, exact %v", k, p*100, got, want)
			}
		}
	}
	var empty histogram
	if empty.percentile(0.99) != 0 {
		t.Error("an empty histogram has a p99")
	}
}

// percentile is the exact nearest-rank percentile the histogram approximates.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
