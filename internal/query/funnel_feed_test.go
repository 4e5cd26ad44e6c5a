package query

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The fed path's partition and bucket sort must order every bucket
// exactly as a plain sort would, for dense, sparse and tiny buckets.
func TestPartitionAndSortFed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users int64 // uids drawn from [0, users)
		n     int
		shift uint
	}{
		{"dense", 5000, 200000, 20},
		{"sparse", 1 << 40, 50000, 12},
		{"tiny", 3, 40, 30},
		{"one user", 1, 1000, 8},
		{"empty", 10, 0, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.n)))
			var chunks [][]int64
			var want []int64
			for len(want) < tc.n {
				c := make([]int64, min(1+r.IntN(2048), tc.n-len(want)))
				for i := range c {
					c[i] = r.Int64N(tc.users)<<tc.shift | r.Int64N(1<<tc.shift)
				}
				chunks = append(chunks, c)
				want = append(want, c...)
			}
			all, counts := partitionFed(chunks, tc.shift)
			if len(all) != len(want) || counts[fedBuckets] != len(want) {
				t.Fatalf("partition holds %d values (counts end %d), want %d", len(all), counts[fedBuckets], len(want))
			}
			var tmp []int64
			var cnt []int32
			var got []int64
			for b := range fedBuckets {
				xs := all[counts[b]:counts[b+1]]
				for _, x := range xs {
					if int((x>>tc.shift)&(fedBuckets-1)) != b {
						t.Fatalf("value %d (uid %d) in bucket %d", x, x>>tc.shift, b)
					}
				}
				tmp, cnt = sortFedBucket(xs, tc.shift, tmp, cnt)
				if !slices.IsSorted(xs) {
					t.Fatalf("bucket %d not sorted", b)
				}
				got = append(got, xs...)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatal("the buckets do not hold exactly the fed values")
			}
		})
	}
}

// median's selection must agree with a sort on every shape of input.
func TestMedianSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shapes := map[string]func(i, n int) int64{
		"random":     func(i, n int) int64 { return r.Int64N(1000) },
		"sorted":     func(i, n int) int64 { return int64(i) },
		"reversed":   func(i, n int) int64 { return int64(n - i) },
		"equal":      func(i, n int) int64 { return 7 },
		"two values": func(i, n int) int64 { return int64(i % 2) },
		"organ pipe": func(i, n int) int64 { return int64(min(i, n-i)) },
	}
	for name, gen := range shapes {
		for _, n := range []int{1, 2, 3, 16, 17, 18, 100, 101, 5000, 5001} {
			xs := make([]int64, n)
			for i := range xs {
				xs[i] = gen(i, n)
			}
			orig := slices.Clone(xs)
			s := slices.Clone(xs)
			slices.Sort(s)
			want := float64(s[n/2])
			if n%2 == 0 {
				want = (float64(s[n/2-1]) + float64(s[n/2])) / 2
			}
			if got := median(xs); got != want {
				t.Errorf("%s, %d values: median %v, want %v", name, n, got, want)
			}
			for _, k := range []int{0, n / 3, n - 1} {
				ys := slices.Clone(orig)
				nthElement(ys, k)
				if ys[k] != s[k] || slices.Max(ys[:k+1]) != ys[k] || slices.Min(ys[k:]) != ys[k] {
					t.Errorf("%s, %d values: element %d is %d, want %d with no larger before and no smaller after", name, n, k, ys[k], s[k])
				}
			}
		}
	}
}
