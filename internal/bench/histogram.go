package bench

import (
	"math/bits"
	"time"
)

// subBuckets is how many buckets split each power of two of nanoseconds:
// a recorded latency is kept within 1/subBuckets (under 0.8%) of its
// value.
const subBuckets = 128

// histogram counts latencies in log-linear buckets, so that a run of any
// length keeps the same memory (64 KiB) however many transactions it
// records. Latencies under subBuckets ns are kept exactly.
type histogram struct {
	counts [64 * subBuckets]uint64
	n      uint64
}

// bucket is the index of the bucket d falls in.
func bucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 8 // v>>e has 8 bits: 128 to 255
	return (e+1)*subBuckets + int(v>>e) - subBuckets
}

// lower is the least latency of bucket i.
func lower(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(i)
	}
	e := i/subBuckets - 1
	return time.Duration(uint64(i%subBuckets+subBuckets) << e)
}

// add records n transactions of latency d.
func (h *histogram) add(d time.Duration, n int) {
	if n <= 0 {
		return
	}
	h.counts[bucket(d)] += uint64(n)
	h.n += uint64(n)
}

// merge adds o's counts to h's.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// percentile is the latency below which a share p of the recorded ones
// fall (the nearest rank), as its bucket's least latency; 0 if none.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(min(max(int64(p*float64(h.n)+0.5), 1), int64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return lower(i)
		}
	}
	return lower(len(h.counts) - 1)
}
