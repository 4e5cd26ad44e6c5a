// Package route sends each ingested event to the Crest node that owns
// it, so that every device's events pass through one node's pipeline in
// order (docs/scale-out.md). An event is owned by the node that
// rendezvous hashing picks for its device_id (its user_id when it has no
// device_id). A request whose events all belong to this node is served
// as it came; otherwise its events are split by owner, the other nodes'
// parts are forwarded to them, and the request is answered 200 only when
// every part was.
package route

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Header marks a forwarded request; its events are served where they
// arrive, never forwarded again.
const Header = "X-Crest-Routed"

// maxBody bounds the request bodies the router reads (Amplitude's limit
// is 20 MB).
const maxBody = 32 << 20

// Router routes ingestion requests between nodes. It is safe for
// concurrent use.
type Router struct {
	self   string
	nodes  []string          // every node's name, sorted
	peers  map[string]string // node name -> base URL, for the other nodes
	client *http.Client
}

// New returns a Router for the node named self among nodes, a map of
// every node's name (self included) to its base URL, e.g.
// "http://10.0.0.2:8080".
func New(self string, nodes map[string]string, client *http.Client) (*Router, error) {
	if _, ok := nodes[self]; !ok {
		return nil, fmt.Errorf("route: node %q is not among the peers", self)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	r := &Router{self: self, peers: map[string]string{}, client: client}
	for name, u := range nodes {
		r.nodes = append(r.nodes, name)
		if name != self {
			r.peers[name] = strings.TrimRight(u, "/")
		}
	}
	sort.Strings(r.nodes)
	return r, nil
}

// ParsePeers reads "a=http://host:port,b=http://host:port".
func ParsePeers(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, u, ok := strings.Cut(part, "=")
		if !ok || name == "" || u == "" {
			return nil, fmt.Errorf("peers: %q is not name=URL", part)
		}
		if _, err := url.Parse(u); err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		out[name] = u
	}
	return out, nil
}

// Index returns the position of node in the sorted node names: a small
// number unique to each node, used to give nodes disjoint id ranges.
func (r *Router) Index(node string) int {
	return sort.SearchStrings(r.nodes, node)
}

// Owner returns the name of the node owning key (a device_id, or a
// user_id). Rendezvous hashing moves only the keys of a node that joins
// or leaves.
func (r *Router) Owner(key string) string {
	k := hash64(key)
	var best string
	var bestScore uint64
	for _, n := range r.nodes {
		if s := mix(k ^ hash64(n)); best == "" || s > bestScore {
			best, bestScore = n, s
		}
	}
	return best
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// mix is splitmix64's finaliser: FNV alone spreads keys that differ in
// one byte poorly over a few nodes.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Wrap returns h behind the router. Batches (/2/httpapi, /batch) are
// split by event; form uploads (/identify, /groupidentify, the legacy
// root) go whole to the owner of their first item.
func (r *Router) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get(Header) != "" || req.Method != http.MethodPost {
			h.ServeHTTP(w, req)
			return
		}
		body, err := readBody(req)
		if err != nil {
			// Let the handler answer a body it cannot read either.
			h.ServeHTTP(w, req)
			return
		}
		if strings.Contains(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			r.routeForm(w, req, body, h)
			return
		}
		r.routeBatch(w, req, body, h)
	})
}

// readBody returns the request's body, gunzipped, and resets req to
// serve it again (without Content-Encoding).
func readBody(req *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	body := raw
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			req.Body = io.NopCloser(bytes.NewReader(raw))
			return nil, err
		}
		if body, err = io.ReadAll(io.LimitReader(zr, maxBody)); err != nil {
			req.Body = io.NopCloser(bytes.NewReader(raw))
			return nil, err
		}
		req.Header.Del("Content-Encoding")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	return body, nil
}

// eventKey is the routing key of one event.
type eventKey struct {
	DeviceID json.RawMessage `json:"device_id"`
	UserID   json.RawMessage `json:"user_id"`
}

func (k eventKey) key() string {
	var s string
	if json.Unmarshal(k.DeviceID, &s) == nil && s != "" {
		return "d:" + s
	}
	if json.Unmarshal(k.UserID, &s) == nil && s != "" {
		return "u:" + s
	}
	return ""
}

func (r *Router) routeBatch(w http.ResponseWriter, req *http.Request, body []byte, h http.Handler) {
	var top map[string]json.RawMessage
	var events []json.RawMessage
	if json.Unmarshal(body, &top) != nil || json.Unmarshal(top["events"], &events) != nil || len(events) == 0 {
		h.ServeHTTP(w, req) // not a batch: the handler answers it
		return
	}
	parts := map[string][]json.RawMessage{}
	for _, e := range events {
		var k eventKey
		_ = json.Unmarshal(e, &k) // an invalid event stays here and is rejected here
		owner := r.self
		if key := k.key(); key != "" {
			owner = r.Owner(key)
		}
		parts[owner] = append(parts[owner], e)
	}
	if len(parts) == 1 && parts[r.self] != nil {
		h.ServeHTTP(w, req)
		return
	}
	// Other nodes first: if one fails, nothing is stored here and the
	// client's retry sends everything again (insert_id dedups the rest).
	names := make([]string, 0, len(parts))
	for n := range parts {
		if n != r.self {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	ingested := 0
	for _, n := range names {
		top["events"], _ = json.Marshal(parts[n])
		sub, _ := json.Marshal(top)
		code, answer, err := r.forward(req, n, sub)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, fmt.Sprintf(`{"code":503,"error":%q}`, "forward to node "+n+": "+err.Error()))
			return
		}
		if code != http.StatusOK {
			writeJSON(w, code, string(answer))
			return
		}
		ingested += len(parts[n])
	}
	if local := parts[r.self]; local != nil {
		top["events"], _ = json.Marshal(local)
		sub, _ := json.Marshal(top)
		rec := serveLocal(h, req, sub)
		if rec.code != http.StatusOK {
			copyHeader(w.Header(), rec.header)
			w.WriteHeader(rec.code)
			w.Write(rec.body.Bytes()) //nolint:errcheck // the client went away
			return
		}
		ingested += len(local)
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"code":200,"events_ingested":%d,"payload_size_bytes":%d,"server_upload_time":%d}`,
		ingested, len(body), time.Now().UnixMilli()))
}

// routeForm sends a form upload whole to the owner of its first item.
func (r *Router) routeForm(w http.ResponseWriter, req *http.Request, body []byte, h http.Handler) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.ServeHTTP(w, req)
		return
	}
	var items []json.RawMessage
	for _, field := range []string{"identification", "e"} {
		v := form.Get(field)
		if v == "" {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(v), "[") {
			_ = json.Unmarshal([]byte(v), &items)
		} else {
			items = []json.RawMessage{json.RawMessage(v)}
		}
		break
	}
	owner := r.self
	if len(items) > 0 {
		var k eventKey
		if json.Unmarshal(items[0], &k) == nil {
			if key := k.key(); key != "" {
				owner = r.Owner(key)
			}
		}
	}
	if owner == r.self {
		h.ServeHTTP(w, req)
		return
	}
	code, answer, err := r.forward(req, owner, body)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, fmt.Sprintf(`{"code":503,"error":%q}`, "forward to node "+owner+": "+err.Error()))
		return
	}
	w.WriteHeader(code)
	w.Write(answer) //nolint:errcheck // the client went away
}

// forward posts body to the same path on node n.
func (r *Router) forward(req *http.Request, n string, body []byte) (int, []byte, error) {
	out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, r.peers[n]+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for _, k := range []string{"Content-Type", "Authorization", "X-Forwarded-For", "User-Agent"} {
		if v := req.Header.Get(k); v != "" {
			out.Header.Set(k, v)
		}
	}
	out.Header.Set(Header, r.self)
	resp, err := r.client.Do(out)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, answer, nil
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, body) //nolint:errcheck // the client went away
}

// recorder captures a local handler's answer.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func serveLocal(h http.Handler, req *http.Request, body []byte) *recorder {
	sub := req.Clone(req.Context())
	sub.Body = io.NopCloser(bytes.NewReader(body))
	sub.ContentLength = int64(len(body))
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, sub)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return rec
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}
