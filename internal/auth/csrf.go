package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// CSRFToken derives the CSRF token of a session token: a keyed hash that
// only a holder of the session token can compute, so the server keeps no
// extra state and a token planted by another site cannot match.
func CSRFToken(sessionToken string) string {
	h := sha256.Sum256([]byte("crest-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// SafeMethod reports whether m does not change state (GET, HEAD, OPTIONS).
func SafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// CheckCSRF verifies a cookie-authenticated state-changing request: the
// X-CSRF-Token header must equal the crest_csrf cookie and the token
// derived from the session, and the request must come from the same
// origin (or a trusted one) when the browser says where it comes from.
func (s *Service) CheckCSRF(r *http.Request, sessionToken string) error {
	if !s.sameOrigin(r) {
		return ErrCSRF
	}
	want := []byte(CSRFToken(sessionToken))
	header := []byte(r.Header.Get(CSRFHeader))
	c, err := r.Cookie(CSRFCookie)
	if err != nil {
		return ErrCSRF
	}
	if subtle.ConstantTimeCompare(header, want)&subtle.ConstantTimeCompare([]byte(c.Value), want) != 1 {
		return ErrCSRF
	}
	return nil
}

func (s *Service) sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return true // not a browser, or a privacy setting: the token check still applies
		}
		u, err := url.Parse(ref)
		if err != nil {
			return false
		}
		origin = u.Scheme + "://" + u.Host
	}
	if origin == "null" {
		return false
	}
	for _, t := range s.c.TrustedOrigins {
		if strings.EqualFold(strings.TrimSuffix(t, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}
