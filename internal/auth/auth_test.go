package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
)

// testParams make hashing cheap in tests; production uses DefaultParams.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T) (*Service, *clock, meta.Account) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), sqlite.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := NewService(Config{Store: st, Now: c.now, Params: testParams})
	h, err := s.HashPassword(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateAccount(t.Context(), "ann@example.com", h)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, a
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("s3cret pass", testParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{{"s3cret pass", true}, {"s3cret pasS", false}, {"", false}} {
		if got, err := VerifyPassword(h, c.pw); err != nil || got != c.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", c.pw, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=1,t=0,p=1$AA$AA", "$argon2id$v=19$m=64,t=1,p=1$!!$AA"} {
		if _, err := VerifyPassword(bad, "x"); !errors.Is(err, ErrBadHash) {
			t.Errorf("VerifyPassword(%q) err = %v; want ErrBadHash", bad, err)
		}
	}
	d := DefaultParams()
	if d.Memory < 19*1024 || d.Time < 2 {
		t.Errorf("DefaultParams %+v below OWASP minimum", d)
	}
}

func TestSessionExpiry(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []time.Duration // activity after each step
		want  error
	}{
		{"fresh", []time.Duration{time.Hour}, nil},
		{"idle timeout", []time.Duration{DefaultIdleTimeout}, ErrUnauthenticated},
		{"kept alive until absolute timeout", []time.Duration{13 * 24 * time.Hour, 13 * 24 * time.Hour, 4*24*time.Hour - time.Second}, nil},
		{"absolute timeout", []time.Duration{13 * 24 * time.Hour, 13 * 24 * time.Hour, 4 * 24 * time.Hour}, ErrUnauthenticated},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, clk, _ := newService(t)
			l, err := s.Login(t.Context(), "Ann@Example.com", "correct horse", "10.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			var got error
			for _, d := range c.steps {
				clk.t = clk.t.Add(d)
				_, _, got = s.Authenticate(t.Context(), l.Token, "10.0.0.1")
			}
			if !errors.Is(got, c.want) && got != c.want {
				t.Errorf("Authenticate = %v; want %v", got, c.want)
			}
		})
	}
}

func TestSessionRevocation(t *testing.T) {
	s, _, a := newService(t)
	ctx := t.Context()
	login := func() Login {
		l, err := s.Login(ctx, "ann@example.com", "correct horse", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	valid := func(l Login, want bool) {
		t.Helper()
		_, _, err := s.Authenticate(ctx, l.Token, "10.0.0.1")
		if (err == nil) != want {
			t.Errorf("session %d valid = %v; want %v", l.Session.ID, err == nil, want)
		}
	}
	l1, l2, l3 := login(), login(), login()
	if err := s.Logout(ctx, l1.Session); err != nil {
		t.Fatal(err)
	}
	valid(l1, false)
	valid(l2, true)
	if err := s.ChangePassword(ctx, a, l2.Session, "wrong", "new password 1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("change with wrong password = %v", err)
	}
	a, _, _ = s.Authenticate(ctx, l2.Token, "")
	if err := s.ChangePassword(ctx, a, l2.Session, "correct horse", "new password 1"); err != nil {
		t.Fatal(err)
	}
	valid(l2, true)
	valid(l3, false)
	if _, err := s.Login(ctx, "ann@example.com", "correct horse", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if _, _, err := s.Authenticate(ctx, "", ""); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("empty token accepted")
	}
}

func TestLoginThrottle(t *testing.T) {
	s, clk, _ := newService(t)
	ctx := t.Context()
	for i := range DefaultAccountLimit {
		if _, err := s.Login(ctx, "ann@example.com", "wrong", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := s.Login(ctx, "ann@example.com", "correct horse", "10.0.0.2")
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != DefaultThrottleWindow {
		t.Fatalf("6th login = %v; want throttled for %v", err, DefaultThrottleWindow)
	}
	clk.t = clk.t.Add(DefaultThrottleWindow)
	if _, err := s.Login(ctx, "ann@example.com", "correct horse", "10.0.0.2"); err != nil {
		t.Fatalf("after window: %v", err)
	}

	// Per address: many accounts from one address.
	for i := range DefaultAddressLimit {
		s.Login(ctx, "nobody"+string(rune('a'+i))+"@example.com", "x", "10.9.9.9")
	}
	if _, err := s.Login(ctx, "ann@example.com", "correct horse", "10.9.9.9"); !errors.As(err, &te) {
		t.Fatalf("address not throttled: %v", err)
	}
}

func TestCSRF(t *testing.T) {
	s, _, _ := newService(t)
	l, err := s.Login(t.Context(), "ann@example.com", "correct horse", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	req := func(header, cookie, origin string) *http.Request {
		r := httptest.NewRequest("POST", "http://crest.test/api/v1/logout", nil)
		if header != "" {
			r.Header.Set(CSRFHeader, header)
		}
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: cookie})
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	for _, c := range []struct {
		name                   string
		header, cookie, origin string
		ok                     bool
	}{
		{"matching", l.CSRF, l.CSRF, "http://crest.test", true},
		{"no origin header", l.CSRF, l.CSRF, "", true},
		{"missing header", "", l.CSRF, "http://crest.test", false},
		{"missing cookie", l.CSRF, "", "http://crest.test", false},
		{"planted pair", "abc", "abc", "http://crest.test", false},
		{"other origin", l.CSRF, l.CSRF, "http://evil.test", false},
		{"null origin", l.CSRF, l.CSRF, "null", false},
	} {
		err := s.CheckCSRF(req(c.header, c.cookie, c.origin), l.Token)
		if (err == nil) != c.ok {
			t.Errorf("%s: CheckCSRF = %v; want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestCookies(t *testing.T) {
	s, _, _ := newService(t)
	l := Login{Token: "tok", CSRF: CSRFToken("tok")}
	for _, tls := range []bool{false, true} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "http://crest.test/", nil)
		if tls {
			r = httptest.NewRequest("POST", "https://crest.test/", nil)
		}
		s.SetCookies(w, r, l)
		for _, c := range w.Result().Cookies() {
			if c.Secure != tls || c.SameSite != http.SameSiteLaxMode || c.HttpOnly != (c.Name == SessionCookie) {
				t.Errorf("tls=%v cookie %s: secure=%v samesite=%v httponly=%v", tls, c.Name, c.Secure, c.SameSite, c.HttpOnly)
			}
		}
	}
}

func BenchmarkHashPasswordDefault(b *testing.B) {
	b.ReportAllocs()
	p := DefaultParams()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery", p); err != nil {
			b.Fatal(err)
		}
	}
}
