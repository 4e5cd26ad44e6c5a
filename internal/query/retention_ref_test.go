package query

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refRetention computes a user's retained intervals per cohort day from
// raw times, pair by pair: rolling days compare hours (floored), weeks
// and months 7- and 30-day blocks of days, calendar mode calendar days.
func refRetention(starts, returns []int64, from, to int64, mode string, calendar bool, iv Interval, nInt int) map[int64][]bool {
	out := map[int64][]bool{}
	hour := func(t int64) int64 { return floorDiv(t, 3_600_000) }
	day := func(t int64) int64 { return floorDiv(t, 86_400_000) }
	block := map[Interval]int64{Day: 1, Week: 7, Month: 30}[iv]
	for _, s := range starts {
		if s < from || s >= to {
			continue
		}
		c := day(s)
		if out[c] == nil {
			out[c] = make([]bool, nInt)
		}
		maxN := int64(-1)
		for _, r := range returns {
			var n int64
			switch {
			case calendar:
				n = day(r) - day(s)
			case iv == Day:
				if hour(r) < hour(s) {
					continue
				}
				n = (hour(r) - hour(s)) / 24
			default:
				if day(r) < day(s) {
					continue
				}
				n = (day(r) - day(s)) / block
			}
			if n < 0 {
				continue
			}
			maxN = max(maxN, n)
			if n < int64(nInt) && mode == ModeNDay {
				out[c][n] = true
			}
		}
		if mode == ModeUnbounded {
			for n := int64(0); n <= maxN && n < int64(nInt); n++ {
				out[c][n] = true
			}
		}
	}
	return out
}

func TestRetentionKernelRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	const charts, users = 40, 300
	base := refBase // a Monday in UTC; daily cohorts are days
	for ci := 0; ci < charts; ci++ {
		mode := []string{ModeNDay, ModeUnbounded}[r.IntN(2)]
		calendar := r.IntN(2) == 0
		iv := Day
		if !calendar && r.IntN(3) == 0 {
			iv = Week
		}
		nc, nInt := 5, 1+r.IntN(10)
		if iv == Week {
			nc = 1 // one weekly cohort of 7 days starting at base
		}
		cohortDays := nc
		if iv == Week {
			cohortDays = 7
		}
		rt := &Retention{Mode: mode, Calendar: calendar, Interval: iv, Return: []RetentionEvent{{}}}
		k := &retKernel{r: rt, nInt: nInt, ncol: nInt, block: map[Interval]int32{Day: 1, Week: 7}[iv]}
		for n := 0; n < nInt; n++ {
			k.colOf = append(k.colOf, n)
		}
		for d := 0; d < cohortDays; d++ {
			k.cohortOf = append(k.cohortOf, int32(d*nc/cohortDays))
		}
		for d := 0; d < 400; d++ {
			k.bucketOf = append(k.bucketOf, int32(d))
		}
		acc := k.newAcc(nc)
		want := make([][]int64, nc)
		wantSize := make([]int64, nc)
		for c := range want {
			want[c] = make([]int64, nInt)
		}
		set := make([]bool, nInt+nInt)
		from, to := base, base+int64(cohortDays)*86_400_000
		for ui := 0; ui < users; ui++ {
			var starts, returns []int64
			for i := r.IntN(4); i > 0; i-- {
				starts = append(starts, base+r.Int64N(int64(cohortDays+1)*86_400_000))
			}
			for i := r.IntN(6); i > 0; i-- {
				returns = append(returns, base+r.Int64N(int64(cohortDays+nInt*int(k.block)+1)*86_400_000))
			}
			ref := refRetention(starts, returns, from, to, mode, calendar, iv, nInt)
			byCohort := map[int32][]bool{}
			for d, cells := range ref {
				c := k.cohortOf[d-floorDiv(base, 86_400_000)]
				if byCohort[c] == nil {
					byCohort[c] = make([]bool, nInt)
				}
				for n, ok := range cells {
					byCohort[c][n] = byCohort[c][n] || ok
				}
			}
			for c, cells := range byCohort {
				wantSize[c]++
				for n, ok := range cells {
					if ok {
						want[c][n]++
					}
				}
			}
			// The statement's reduction: per day, the hour masks.
			days := map[int32]*dayRec{}
			rec := func(ts int64, start bool) {
				d := int32(floorDiv(ts-base, 86_400_000))
				h := uint32(1) << uint(floorDiv(ts, 3_600_000)%24)
				if days[d] == nil {
					days[d] = &dayRec{d: d}
				}
				if start {
					days[d].s |= h
				} else {
					days[d].r |= h
				}
			}
			for _, s := range starts {
				if s < to {
					rec(s, true)
				}
			}
			for _, x := range returns {
				rec(x, false)
			}
			var recs []dayRec
			for _, d := range days {
				recs = append(recs, *d)
			}
			slices.SortFunc(recs, func(a, b dayRec) int { return int(a.d - b.d) })
			k.fold(recs, acc, set)
		}
		for c := range want {
			if acc.size[c] != wantSize[c] || !slices.Equal(acc.ret[c], want[c]) {
				t.Fatalf("chart %d (%s calendar=%v %s, %d intervals) cohort %d: size %d cells %v, reference %d %v",
					ci, mode, calendar, iv, nInt, c, acc.size[c], acc.ret[c], wantSize[c], want[c])
			}
		}
	}
}
