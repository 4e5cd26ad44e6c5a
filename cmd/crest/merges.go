package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const mergesUsage = `Usage:
  crest merges list <amplitude_id>   list the identity merges into or from a user
  crest merges undo <amplitude_id>   undo the merge of an anonymous id: it becomes
                                     its own user again at query time (audited)

Talks to a running server with the project's API key and secret key.

Flags:
`

// runMerges implements `crest merges`.
func runMerges(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merges", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", envOr("CREST_URL", "http://127.0.0.1:8080"), "server `URL` (CREST_URL)")
	apiKey := fs.String("api-key", os.Getenv("CREST_API_KEY"), "the project's API `key` (CREST_API_KEY)")
	secretKey := fs.String("secret-key", os.Getenv("CREST_SECRET_KEY"), "the project's secret `key` (CREST_SECRET_KEY)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), mergesUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: merges needs list or undo", errUsage)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	sub := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: merges %s needs one amplitude id", errUsage, sub)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: %q is not an amplitude id", errUsage, fs.Arg(0))
	}
	if *apiKey == "" || *secretKey == "" {
		return fmt.Errorf("%w: --api-key and --secret-key (or CREST_API_KEY and CREST_SECRET_KEY) are required", errUsage)
	}
	var method, path string
	switch sub {
	case "list":
		method, path = "GET", fmt.Sprintf("/api/v1/merges/%d", id)
	case "undo":
		method, path = "POST", fmt.Sprintf("/api/v1/merges/%d/undo", id)
	default:
		fs.Usage()
		return fmt.Errorf("%w: unknown merges command %q", errUsage, sub)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(*url, "/")+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(*apiKey, *secretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the server: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("server answered %d: %s", resp.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("server answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	type merge struct {
		From     int64  `json:"from_amplitude_id"`
		Into     int64  `json:"into_amplitude_id"`
		Time     int64  `json:"time"`
		DeviceID string `json:"device_id"`
		Undone   bool   `json:"undone"`
	}
	var out struct {
		Merges []merge `json:"merges"`
		Merge  *merge  `json:"merge"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if out.Merge != nil {
		out.Merges = append(out.Merges, *out.Merge)
	}
	if len(out.Merges) == 0 {
		fmt.Fprintf(stdout, "amplitude id %d has no merges\n", id)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FROM\tINTO\tWHEN (UTC)\tDEVICE\tSTATE")
	for _, m := range out.Merges {
		state := "merged"
		if m.Undone {
			state = "undone"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", m.From, m.Into, time.UnixMilli(m.Time).UTC().Format(time.DateTime), m.DeviceID, state)
	}
	return tw.Flush()
}
