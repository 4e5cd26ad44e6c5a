package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/crest-analytics/crest/internal/demo"
)

// runDemo is `crest demo`: it generates the demo music app's events and
// sends them to a running Crest through /batch.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", envOr("CREST_URL", demo.DefaultURL), "Crest base URL; events go to <url>/batch (env CREST_URL)")
	apiKey := fs.String("api-key", os.Getenv("CREST_API_KEY"), "the project's API key (env CREST_API_KEY; required)")
	events := fs.Int("events", demo.DefaultEvents, "number of events to send")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same users, ids and events")
	concurrency := fs.Int("concurrency", demo.DefaultConcurrency, "requests in flight")
	batch := fs.Int("batch", demo.DefaultBatch, fmt.Sprintf("events per request (at most %d)", demo.MaxBatch))
	days := fs.Int("days", demo.DefaultDays, "days of history, ending now")
	gz := fs.Bool("gzip", true, "gzip request bodies (--gzip=false to send plain JSON)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: crest demo --api-key KEY [flags]

Generates the music-player app of Amplitude's documentation (users on web,
iOS and Android devices, anonymous use then login, sessions, searches,
plays, playlists, trials, subscriptions and purchases, with weekly
seasonality and churn) over the last --days days and sends it to a running
Crest through its /batch API. The same --seed gives the same data.
Failed requests are retried with the same insert_ids; a 4xx answer stops
the run. See docs/demo.md.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *apiKey == "":
		return fmt.Errorf("%w: demo needs the project's API key: --api-key or CREST_API_KEY", errUsage)
	case *events < 1:
		return fmt.Errorf("%w: --events must be at least 1", errUsage)
	case *concurrency < 1:
		return fmt.Errorf("%w: --concurrency must be at least 1", errUsage)
	case *batch < 1 || *batch > demo.MaxBatch:
		return fmt.Errorf("%w: --batch must be between 1 and %d", errUsage, demo.MaxBatch)
	case *days < 1:
		return fmt.Errorf("%w: --days must be at least 1", errUsage)
	}

	fmt.Fprintf(stderr, "crest demo: sending %s events (seed %d, %d days) to %s\n", demo.Thousands(int64(*events)), *seed, *days, *url)
	st, err := demo.Send(ctx,
		demo.Options{Events: *events, Seed: *seed, Days: *days, Now: time.Now()},
		demo.SendOptions{URL: *url, APIKey: *apiKey, Concurrency: *concurrency, Batch: *batch, Gzip: *gz, Progress: stderr})
	if err != nil {
		return fmt.Errorf("demo stopped after %s events: %w", demo.Thousands(st.Events), err)
	}
	fmt.Fprintf(stdout, "sent %s events in %s (%s events/s)\n",
		demo.Thousands(st.Events), st.Elapsed.Round(10*time.Millisecond), demo.Thousands(int64(st.EventsPerSecond())))
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
