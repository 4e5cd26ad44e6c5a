package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"
)

// Defaults for the zero values of SendOptions.
const (
	DefaultURL         = "http://127.0.0.1:8080"
	DefaultConcurrency = 4
	DefaultBatch       = 1000
)

// SendOptions says where and how Send delivers the events.
type SendOptions struct {
	// URL is the server's base URL (events go to URL + "/batch"); a URL
	// that already ends in /batch or /2/httpapi is used as is.
	// Empty means DefaultURL.
	URL string
	// APIKey is the project's API key; required.
	APIKey string
	// Concurrency is the number of requests in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Batch is the number of events per request, at most MaxBatch;
	// 0 means DefaultBatch.
	Batch int
	// Gzip compresses request bodies (Content-Encoding: gzip).
	Gzip bool
	// Progress receives the progress display; nil means none. When it is
	// a terminal the display is redrawn in place.
	Progress io.Writer
}

// Stats is what Send did.
type Stats struct {
	// Events is the number of events the server acknowledged.
	Events int64
	// Requests is the number of acknowledged requests.
	Requests int64
	// Retries is the number of attempts that failed and were repeated.
	Retries int64
	// Bytes is the size of the acknowledged request bodies as sent
	// (compressed when Gzip is set).
	Bytes int64
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
}

// EventsPerSecond is the acknowledged event rate over the whole run.
func (s Stats) EventsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Events) / s.Elapsed.Seconds()
}

// RejectedError is a 4xx answer: the server refused a batch, so resending
// it cannot help. Body is the server's answer (Amplitude's error JSON).
type RejectedError struct {
	Status int
	Body   string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("server rejected the batch: HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// retryPolicy is how failed requests (connection errors, 5xx, 408, 429)
// are repeated: the same body, so the same insert_ids, which the server
// deduplicates.
type retryPolicy struct {
	base, max   time.Duration
	maxAttempts int
}

// defaultRetry rides out a server restart: 12 attempts (as the SDKs make)
// with waits doubling from 100 ms to 10 s, about 50 s in all.
var defaultRetry = retryPolicy{base: 100 * time.Millisecond, max: 10 * time.Second, maxAttempts: 12}

// Send generates the events of gen and posts them to the server's /batch
// endpoint as `crest demo` does, Concurrency requests at a time. Failed
// requests are retried with back-off; a 4xx answer stops the run with a
// *RejectedError. The Stats are valid even when an error is returned.
func Send(ctx context.Context, gen Options, send SendOptions) (Stats, error) {
	return sendWith(ctx, gen, send, defaultRetry)
}

// job is one batch on its way from the generator to a sender.
type job struct {
	events []byte // the JSON array of the batch's events
	n      int
}

type sender struct {
	client   *http.Client
	endpoint string
	apiKey   string
	gzip     bool
	retry    retryPolicy

	events, requests, retries, bytes atomic.Int64
}

func sendWith(ctx context.Context, gen Options, so SendOptions, retry retryPolicy) (Stats, error) {
	start := time.Now()
	gen = gen.withDefaults()
	if err := gen.validate(); err != nil {
		return Stats{}, err
	}
	if so.URL == "" {
		so.URL = DefaultURL
	}
	if so.Concurrency == 0 {
		so.Concurrency = DefaultConcurrency
	}
	if so.Batch == 0 {
		so.Batch = DefaultBatch
	}
	switch {
	case so.APIKey == "":
		return Stats{}, errors.New("an API key is required")
	case so.Concurrency < 0:
		return Stats{}, fmt.Errorf("concurrency must be positive, got %d", so.Concurrency)
	case so.Batch < 0 || so.Batch > MaxBatch:
		return Stats{}, fmt.Errorf("batch must be between 1 and %d, got %d", MaxBatch, so.Batch)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = so.Concurrency
	transport.DisableCompression = true
	defer transport.CloseIdleConnections()
	s := &sender{
		client:   &http.Client{Transport: transport, Timeout: 2 * time.Minute},
		endpoint: batchURL(so.URL),
		apiKey:   so.APIKey,
		gzip:     so.Gzip,
		retry:    retry,
	}

	var prog *progress
	if so.Progress != nil {
		prog = startProgress(so.Progress, int64(gen.Events), &s.events, start)
	}

	// Free job buffers: the generator can run at most this far ahead of
	// the senders, which bounds memory to a few batches per sender.
	free := make(chan *job, 2*so.Concurrency)
	for range cap(free) {
		free <- &job{}
	}
	jobs := make(chan *job, so.Concurrency)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		return Generate(gctx, gen, so.Batch, func(events []json.RawMessage) error {
			var j *job
			select {
			case j = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			b := append(j.events[:0], '[')
			for i, e := range events {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, e...)
			}
			j.events, j.n = append(b, ']'), len(events)
			select {
			case jobs <- j:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for range so.Concurrency {
		g.Go(func() error {
			var body bytes.Buffer
			var zw *gzip.Writer
			for j := range jobs {
				if err := s.buildBody(&body, &zw, j); err != nil {
					return err
				}
				if err := s.post(gctx, body.Bytes()); err != nil {
					return err
				}
				s.events.Add(int64(j.n))
				s.requests.Add(1)
				s.bytes.Add(int64(body.Len()))
				free <- j
			}
			return nil
		})
	}
	err := g.Wait()
	st := Stats{
		Events:   s.events.Load(),
		Requests: s.requests.Load(),
		Retries:  s.retries.Load(),
		Bytes:    s.bytes.Load(),
		Elapsed:  time.Since(start),
	}
	if prog != nil {
		prog.stop()
	}
	return st, err
}

// batchURL turns a server base URL into the /batch endpoint.
func batchURL(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/batch") || strings.HasSuffix(base, "/2/httpapi") {
		return base
	}
	return base + "/batch"
}

// buildBody writes the request body for j: the SDK-shaped envelope, gzipped
// when asked.
func (s *sender) buildBody(body *bytes.Buffer, zw **gzip.Writer, j *job) error {
	var w io.Writer = body
	body.Reset()
	if s.gzip {
		if *zw == nil {
			z, err := gzip.NewWriterLevel(body, gzip.BestSpeed)
			if err != nil {
				return fmt.Errorf("gzip: %w", err)
			}
			*zw = z
		} else {
			(*zw).Reset(body)
		}
		w = *zw
	}
	head := appendStr([]byte(`{"api_key":`), s.apiKey)
	head = append(head, `,"client_upload_time":"`...)
	head = time.Now().UTC().AppendFormat(head, "2006-01-02T15:04:05.000Z")
	head = append(head, `","events":`...)
	if _, err := w.Write(head); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if _, err := w.Write(j.events); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if _, err := w.Write([]byte(`,"options":{}}`)); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if s.gzip {
		if err := (*zw).Close(); err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
	}
	return nil
}

// post sends one body until the server acknowledges it, retrying
// connection errors, 5xx, 408 and 429 with back-off.
func (s *sender) post(ctx context.Context, body []byte) error {
	wait := s.retry.base
	for attempt := 1; ; attempt++ {
		status, answer, err := s.attempt(ctx, body)
		switch {
		case err == nil && status >= 200 && status < 300:
			return nil
		case err == nil && status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
			return &RejectedError{Status: status, Body: answer}
		case err == nil:
			err = fmt.Errorf("HTTP %d: %s", status, strings.TrimSpace(answer))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= s.retry.maxAttempts {
			return fmt.Errorf("send batch: giving up after %d attempts: %w", attempt, err)
		}
		s.retries.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, s.retry.max)
	}
}

// attempt makes one request and returns the status and (the start of) the answer.
func (s *sender) attempt(ctx context.Context, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "*/*")
	if s.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post %s: %w", s.endpoint, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, "", fmt.Errorf("read answer: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // keep the connection reusable
	return resp.StatusCode, string(answer), nil
}
