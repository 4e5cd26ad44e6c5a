package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/api/analytics"
	"github.com/crest-analytics/crest/internal/api/merges"
	"github.com/crest-analytics/crest/internal/api/webapp"
	"github.com/crest-analytics/crest/internal/config"
	"github.com/crest-analytics/crest/internal/ingest"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/pipeline"
	"github.com/crest-analytics/crest/internal/query"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/wal"
	"github.com/crest-analytics/crest/internal/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: crest serve [flags]

Runs Crest: Amplitude-compatible ingestion (/2/httpapi, /batch, /identify,
/groupidentify, legacy /), the APIs and the web app, on the embedded store
in the data directory. On first start the data directory gets a default
organisation and project; its API key and secret key are printed once.
CREST_API_KEY and CREST_SECRET_KEY, when set, become those keys.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	if os.Getenv("GOGC") == "" {
		// Ingestion allocates many short-lived, pointer-rich events; the
		// collector took about a quarter of the decode profile at the
		// default of 100. Set GOGC to override.
		debug.SetGCPercent(400)
	}
	return serve(ctx, &cfg, logger, stdout, nil)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// serve builds every part of the server, runs it until ctx ends, and
// shuts down in reverse: stop HTTP intake, apply what the WAL holds, sync,
// close the stores. When inspect is not nil, serve calls it with the
// built API server instead of listening (for tests of the whole route
// table) and returns its result.
func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger, stdout io.Writer, inspect func(*api.Server) error) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}

	metaStore, err := openMeta(ctx, cfg)
	if err != nil {
		return err
	}
	defer metaStore.Close()
	project, keys, created, err := metaStore.EnsureDefault(ctx, cfg.APIKey, cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("create default project: %w", err)
	}

	store, dialect, err := openStorage(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	log, err := wal.Open(wal.Options{
		Dir: cfg.WALDir(),
		OnCorruption: func(segment string, offset int64, err error) {
			logger.Warn("wal tail truncated", "segment", segment, "offset", offset, "err", err)
		},
	})
	if err != nil {
		return fmt.Errorf("open wal: %w", err)
	}
	defer log.Close()

	pipeOpts, closeShared, err := pipelineOptions(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeShared()
	pipe, err := pipeline.New(ctx, log, store, logger, pipeOpts)
	if err != nil {
		return fmt.Errorf("start pipeline: %w", err)
	}

	enricher, err := newEnricher(cfg)
	if err != nil {
		return err
	}
	defer enricher.Close()
	sink := pipeline.NewSink(log)
	ingester := ingest.NewHandler(projectKeys{metaStore}, sink, logger, ingest.Options{
		TrustedProxyHeader: cfg.TrustedProxyHeader,
		Enricher:           enricher,
	})
	routes := []api.Route{
		{Method: "GET", Path: "/healthz", Rule: api.Public, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeStatus(w, http.StatusOK, "ok")
		})},
		{Method: "GET", Path: "/readyz", Rule: api.Public, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The positions let operators and benchmarks see the pipeline's
			// lag: events are queryable once applied reaches durable.
			code, status := http.StatusOK, "ready"
			if !pipe.Ready() {
				code, status = http.StatusServiceUnavailable, "replaying wal"
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, "{\"status\":%q,\"wal_durable\":%d,\"applied\":%d}\n", status, log.Durable(), pipe.Applied())
		})},
	}
	router, err := newRouter(cfg)
	if err != nil {
		return err
	}
	for _, r := range ingester.Routes() {
		path := r.Path
		if path == "/" {
			path = "/{$}" // the legacy upload is the root path only
		}
		routes = append(routes, api.Route{Method: r.Method, Path: path, Rule: api.IngestKey, Handler: recoverIngest(routeIngest(router, r.Handler), logger)})
	}
	// The read APIs, the web app's own endpoints and the web app itself
	// (its "/" route matches every path no other route takes, except
	// /api/ paths, which stay JSON 404s).
	reads := analytics.New(analytics.Deps{Engine: query.NewEngine(store, dialect), Logger: logger, Limits: analytics.Limits{
		Concurrent: cfg.API2Concurrent, UserConcurrent: cfg.API2UserConcurrent, UserPerHour: cfg.API2UserPerHour,
		CostPer5Min: cfg.API2CostPer5Min, CostPerHour: cfg.API2CostPerHour,
	}, MaxAnalyses: cfg.QueryConcurrency})
	routes = append(routes, reads.Routes()...)
	webApp, err := web.New(web.Options{Version: version, HTTPS: cfg.SecureCookies})
	if err != nil {
		return err
	}
	routes = append(routes, webapp.Routes(webapp.Deps{
		Meta: metaStore, Querier: store, Dialect: dialect, Logger: logger,
		// A dashboard's link starts its charts as the page is sent.
		Page: webApp,
		Prefetch: func(p meta.Project, defs []json.RawMessage) int {
			return reads.Prefetch(query.Project{ID: p.ID, TimeZone: p.TimeZone}, defs)
		},
	})...)
	routes = append(routes, api.Route{Path: "/", Rule: api.Public, Handler: webApp})
	routes = append(routes, merges.Routes(merges.Deps{
		Merger: pipelineMerger{pipe, sink}, Audit: metaStore,
		IsNoMerge: func(err error) bool { return errors.Is(err, pipeline.ErrNoMerge) },
	})...)
	apiServer, err := api.New(api.Deps{
		Meta: metaStore, Logger: logger, ExtraRoutes: routes, SecureCookies: cfg.SecureCookies,
	})
	if err != nil {
		return fmt.Errorf("build api: %w", err)
	}
	if inspect != nil {
		return inspect(apiServer)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           apiServer.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	url := "http://" + displayAddr(ln.Addr().String())
	fmt.Fprintf(stdout, "Crest is listening on %s\n", url)
	if created {
		fmt.Fprintf(stdout, "Created the default project %q (id %d).\n", project.Name, project.ID)
		fmt.Fprintf(stdout, "  API key:    %s\n  Secret key: %s   (shown once; keep it safe)\n", keys.APIKey, keys.SecretKey)
	} else if key := currentAPIKey(ctx, metaStore, project.ID); key != "" {
		// The API key is public by design (browsers send it); printing it
		// on every start saves a trip to the settings page.
		fmt.Fprintf(stdout, "Project %q (id %d)\n  API key:    %s\n", project.Name, project.ID, key)
	}
	logger.Info("crest started", "addr", ln.Addr().String(), "data", cfg.DataDir, "version", version)

	// The pipeline outlives the HTTP server: it is stopped only after
	// intake has stopped, so it applies everything that was acknowledged.
	pipeCtx, stopPipe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPipe()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- pipe.Run(pipeCtx) }()

	g, gctx := errgroup.WithContext(ctx)
	if cfg.PprofAddr != "" {
		startPprof(gctx, g, cfg.PprofAddr, logger)
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case err := <-pipeDone:
			pipeDone <- err
			if err == nil {
				err = errors.New("pipeline stopped")
			}
			return err
		}
	})
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down: stopping intake")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	runErr := g.Wait()

	logger.Info("shutting down: applying pending events")
	stopPipe()
	if err := <-pipeDone; err != nil && runErr == nil {
		runErr = err
	}
	logger.Info("shutdown complete", "applied", pipe.Applied())
	return runErr
}

// pipelineMerger serves the merge API from the pipeline, which owns the
// identity state and writes undos through the WAL.
type pipelineMerger struct {
	p    *pipeline.Pipeline
	sink *pipeline.Sink
}

func (m pipelineMerger) Merges(projectID, amplitudeID int64) []storage.Merge {
	return m.p.Merges(projectID, amplitudeID)
}

func (m pipelineMerger) UndoMerge(ctx context.Context, projectID, from int64) (storage.Merge, error) {
	return m.p.UndoMerge(ctx, m.sink, projectID, from)
}

// recoverIngest turns a panic in an ingestion handler into the answer
// Amplitude's SDKs retry ({"code":500,...}, nothing acknowledged) instead
// of a dropped connection, which the Node SDK would treat as final.
func recoverIngest(h http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				logger.Error("BUG: ingestion handler panicked", "route", r.Method+" "+r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"code":500,"error":"internal error"}`)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// currentAPIKey returns a project's newest active API key, or "".
func currentAPIKey(ctx context.Context, m meta.Store, projectID int64) string {
	keys, err := m.Keys(ctx, projectID)
	if err != nil {
		return ""
	}
	var best meta.Key
	for _, k := range keys {
		if k.Kind == meta.KeyAPI && k.Expires == nil && k.Created.After(best.Created) {
			best = k
		}
	}
	return best.Value
}

// projectKeys adapts the metadata store to what ingestion needs.
type projectKeys struct{ m meta.Store }

func (p projectKeys) ProjectByAPIKey(ctx context.Context, key string) (ingest.Project, bool, error) {
	pr, ok, err := p.m.ProjectByAPIKey(ctx, key)
	if err != nil || !ok {
		return ingest.Project{}, ok, err
	}
	return ingest.Project{ID: pr.ID}, true, nil
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{\"status\":%q}\n", status)
}

// displayAddr turns a listen address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" || strings.HasPrefix(host, "[::") {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
