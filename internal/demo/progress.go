package demo

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Redraw intervals: a terminal gets a live bar; a log file or pipe gets a
// line every few seconds so it stays readable.
const (
	ttyInterval  = 200 * time.Millisecond
	lineInterval = 5 * time.Second
	barWidth     = 30
)

// progress draws the events sent so far, the share of the total, the rate
// and the time left, until stop is called.
type progress struct {
	w     io.Writer
	tty   bool
	total int64
	sent  *atomic.Int64
	start time.Time

	done chan struct{}
	wg   sync.WaitGroup
}

func startProgress(w io.Writer, total int64, sent *atomic.Int64, start time.Time) *progress {
	p := &progress{w: w, tty: isTerminal(w), total: total, sent: sent, start: start, done: make(chan struct{})}
	interval := lineInterval
	if p.tty {
		interval = ttyInterval
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw(false)
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// stop draws the final state and ends the display.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.draw(true)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) draw(final bool) {
	line := renderProgress(p.sent.Load(), p.total, time.Since(p.start), p.tty)
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// renderProgress formats one progress line, with a bar when bar is set.
func renderProgress(sent, total int64, elapsed time.Duration, bar bool) string {
	var sb strings.Builder
	frac := 0.0
	if total > 0 {
		frac = min(float64(sent)/float64(total), 1)
	}
	if bar {
		filled := int(frac * barWidth)
		sb.WriteByte('[')
		sb.WriteString(strings.Repeat("#", filled))
		sb.WriteString(strings.Repeat("-", barWidth-filled))
		sb.WriteString("] ")
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(sent) / s
	}
	fmt.Fprintf(&sb, "%s / %s events (%.1f%%)  %s events/s", Thousands(sent), Thousands(total), 100*frac, Thousands(int64(rate)))
	if rate > 0 && sent < total {
		eta := time.Duration(float64(total-sent) / rate * float64(time.Second))
		fmt.Fprintf(&sb, "  ETA %s", eta.Round(time.Second))
	}
	return sb.String()
}

// Thousands formats n with commas between groups of three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
