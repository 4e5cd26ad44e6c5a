package config

import (
	"flag"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRegisterDefaultsAndEnv(t *testing.T) {
	t.Setenv("CREST_ADDR", "127.0.0.1:9999")
	t.Setenv("CREST_API_KEY", "from-env-key")
	t.Setenv("CREST_SHUTDOWN_TIMEOUT", "5s")
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Register(fs)
	if err := fs.Parse([]string{"--data", "/tmp/x"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.DataDir != "/tmp/x" || c.APIKey != "from-env-key" || c.ShutdownTimeout != 5*time.Second || c.LogLevel != "info" {
		t.Fatalf("config = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// The /api/2 rate limits default to Amplitude's; 0 disables one.
	if c.API2Concurrent != 5 || c.API2UserConcurrent != 10 || c.API2UserPerHour != 360 || c.API2CostPer5Min != 1000 || c.API2CostPerHour != 108_000 {
		t.Fatalf("rate limits = %+v", c)
	}
	if c.QueryConcurrency != runtime.GOMAXPROCS(0) {
		t.Fatalf("query concurrency %d, want the CPUs", c.QueryConcurrency)
	}
	t.Setenv("CREST_API2_COST_PER_HOUR", "0")
	var c2 Config
	fs2 := flag.NewFlagSet("serve", flag.ContinueOnError)
	c2.Register(fs2)
	if err := fs2.Parse([]string{"--api2-concurrent", "2"}); err != nil || c2.API2Concurrent != 2 || c2.API2CostPerHour != 0 {
		t.Fatalf("rate limit flag/env: %+v %v", c2, err)
	}
	// A flag wins over its environment variable.
	if err := fs.Parse([]string{"--addr", ":7070"}); err != nil || c.Addr != ":7070" {
		t.Fatalf("flag did not win: %q %v", c.Addr, err)
	}
}

func TestValidateNamesTheBadSetting(t *testing.T) {
	good := Config{Addr: ":8080", DataDir: "d", LogLevel: "info", ShutdownTimeout: time.Second}
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.Addr = "nonsense" }, "addr"},
		{func(c *Config) { c.DataDir = "" }, "data"},
		{func(c *Config) { c.LogLevel = "loud" }, "log-level"},
		{func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown-timeout"},
		{func(c *Config) { c.GeoIPDB = "/does/not/exist.mmdb" }, "geoip-db"},
		{func(c *Config) { c.API2CostPer5Min = -1 }, "api2-cost-per-5min"},
		{func(c *Config) { c.QueryConcurrency = -1 }, "query-concurrency"},
	} {
		c := good
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error starting with %q", err, tc.want)
		}
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
}
