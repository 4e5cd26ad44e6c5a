package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/crest-analytics/crest/internal/meta"
)

// Cookie and header names.
const (
	// SessionCookie holds the session token (HttpOnly).
	SessionCookie = "crest_session"
	// CSRFCookie holds the CSRF token, readable by the web app's script.
	CSRFCookie = "crest_csrf"
	// CSRFHeader must echo CSRFCookie on state-changing requests.
	CSRFHeader = "X-CSRF-Token"
)

// Defaults of Config.
const (
	DefaultIdleTimeout     = 14 * 24 * time.Hour
	DefaultAbsoluteTimeout = 30 * 24 * time.Hour
	DefaultAccountLimit    = 5
	DefaultAddressLimit    = 20
	DefaultThrottleWindow  = 15 * time.Minute
	// touchInterval limits session writes to one per minute per session.
	touchInterval = time.Minute
)

// Errors returned by Service.
var (
	// ErrInvalidCredentials is returned for a wrong email or password, and
	// for a disabled account (not told apart, on purpose).
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrUnauthenticated is returned when no valid session is presented.
	ErrUnauthenticated = errors.New("not logged in")
	// ErrCSRF is returned when a cookie-authenticated state-changing
	// request lacks a matching CSRF token or comes from another origin.
	ErrCSRF = errors.New("CSRF check failed")
)

// ThrottledError is returned when too many logins failed recently.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins; retry after %s", e.RetryAfter.Round(time.Second))
}

// Config configures a Service. Zero fields take the defaults above.
type Config struct {
	Store meta.Store
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Params hash new passwords (default DefaultParams()).
	Params Params
	// IdleTimeout ends a session unused for this long (default 14 days).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends every session this long after login (default 30 days).
	AbsoluteTimeout time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP requests (set
	// it behind a TLS-terminating proxy). Requests over TLS always get
	// Secure cookies.
	SecureCookies bool
	// AccountLimit and AddressLimit are the failed logins allowed per
	// ThrottleWindow per email and per remote address (defaults 5 and 20
	// per 15 minutes).
	AccountLimit, AddressLimit int
	ThrottleWindow             time.Duration
	// TrustedOrigins are extra origins (scheme://host[:port]) allowed to
	// make cookie-authenticated state-changing requests, besides the
	// request's own host.
	TrustedOrigins []string
}

// Service logs accounts in and out and authenticates sessions. It is
// safe for concurrent use.
type Service struct {
	c         Config
	accounts  *Throttle
	addresses *Throttle

	dummyOnce sync.Once
	dummy     string
	// hashSlots bounds concurrent argon2id computations so a burst of
	// logins cannot take more than maxConcurrentHashes * Params.Memory.
	hashSlots chan struct{}
}

// maxConcurrentHashes bounds password hashing memory (4 x 19 MiB with the
// default parameters).
const maxConcurrentHashes = 4

// NewService returns a Service for c.
func NewService(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Params == (Params{}) {
		c.Params = DefaultParams()
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AbsoluteTimeout <= 0 {
		c.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if c.AccountLimit <= 0 {
		c.AccountLimit = DefaultAccountLimit
	}
	if c.AddressLimit <= 0 {
		c.AddressLimit = DefaultAddressLimit
	}
	if c.ThrottleWindow <= 0 {
		c.ThrottleWindow = DefaultThrottleWindow
	}
	return &Service{
		c:         c,
		accounts:  NewThrottle(c.AccountLimit, c.ThrottleWindow, c.Now),
		addresses: NewThrottle(c.AddressLimit, c.ThrottleWindow, c.Now),
		hashSlots: make(chan struct{}, maxConcurrentHashes),
	}
}

// slot waits for a hashing slot; release it with the returned func.
func (s *Service) slot(ctx context.Context) (func(), error) {
	select {
	case s.hashSlots <- struct{}{}:
		return func() { <-s.hashSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// verify checks a password against a hash within a hashing slot.
func (s *Service) verify(ctx context.Context, hash, pw string) (bool, error) {
	release, err := s.slot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return VerifyPassword(hash, pw)
}

// HashPassword checks pw against the length limits and hashes it with
// the service's parameters.
func (s *Service) HashPassword(ctx context.Context, pw string) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	release, err := s.slot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(pw, s.c.Params)
}

// Login is a successful login: Token goes into SessionCookie, CSRF into
// CSRFCookie. Neither may be logged.
type Login struct {
	Token   string
	CSRF    string
	Session meta.Session
	Account meta.Account
}

// Login checks an email and password from remote address addr and opens
// a session. It returns *ThrottledError when the account or the address
// has too many recent failures, ErrInvalidCredentials otherwise on
// failure.
func (s *Service) Login(ctx context.Context, email, password, addr string) (Login, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	acctKey, addrKey := "account:"+email, "address:"+addr
	var wait time.Duration
	for _, b := range []struct {
		t   *Throttle
		key string
	}{{s.accounts, acctKey}, {s.addresses, addrKey}} {
		if d, blocked := b.t.Blocked(b.key); blocked && d > wait {
			wait = d
		}
	}
	if wait > 0 {
		return Login{}, &ThrottledError{RetryAfter: wait}
	}
	a, err := s.c.Store.AccountByEmail(ctx, email)
	hash := a.PasswordHash
	if errors.Is(err, meta.ErrNotFound) {
		hash = s.dummyHash() // spend the same time as for a real account
	} else if err != nil {
		return Login{}, fmt.Errorf("login: %w", err)
	}
	ok, verr := s.verify(ctx, hash, password)
	if verr != nil {
		return Login{}, fmt.Errorf("login: %w", verr)
	}
	if err != nil || !ok || a.Disabled {
		s.accounts.Fail(acctKey)
		s.addresses.Fail(addrKey)
		return Login{}, ErrInvalidCredentials
	}
	s.accounts.Reset(acctKey)
	return s.openSession(ctx, a, addr)
}

func (s *Service) openSession(ctx context.Context, a meta.Account, addr string) (Login, error) {
	token, err := NewToken()
	if err != nil {
		return Login{}, err
	}
	now := s.c.Now()
	sess, err := s.c.Store.CreateSession(ctx, meta.Session{
		AccountID: a.ID, TokenHash: meta.HashSecret(token),
		Created: now, LastSeen: now, Expires: now.Add(s.c.AbsoluteTimeout), LastAddress: addr,
	})
	if err != nil {
		return Login{}, fmt.Errorf("create session: %w", err)
	}
	return Login{Token: token, CSRF: CSRFToken(token), Session: sess, Account: a}, nil
}

// OpenSession opens a session for an account that has just been
// authenticated another way (first-run setup, sign-up by invitation).
func (s *Service) OpenSession(ctx context.Context, a meta.Account, addr string) (Login, error) {
	return s.openSession(ctx, a, addr)
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := HashPassword("crest-dummy-password", s.c.Params)
		if err != nil {
			panic("BUG: hash dummy password: " + err.Error())
		}
		s.dummy = h
	})
	return s.dummy
}

// Authenticate resolves a session token to its account and session,
// refreshing the idle timer. It returns ErrUnauthenticated for a
// missing, unknown, revoked or expired session or a disabled account.
func (s *Service) Authenticate(ctx context.Context, token, addr string) (meta.Account, meta.Session, error) {
	if token == "" {
		return meta.Account{}, meta.Session{}, ErrUnauthenticated
	}
	sess, err := s.c.Store.SessionByTokenHash(ctx, meta.HashSecret(token))
	if errors.Is(err, meta.ErrNotFound) {
		return meta.Account{}, meta.Session{}, ErrUnauthenticated
	} else if err != nil {
		return meta.Account{}, meta.Session{}, fmt.Errorf("load session: %w", err)
	}
	now := s.c.Now()
	if sess.Revoked || !now.Before(sess.Expires) || !now.Before(sess.LastSeen.Add(s.c.IdleTimeout)) {
		return meta.Account{}, meta.Session{}, ErrUnauthenticated
	}
	a, err := s.c.Store.Account(ctx, sess.AccountID)
	if errors.Is(err, meta.ErrNotFound) || a.Disabled {
		return meta.Account{}, meta.Session{}, ErrUnauthenticated
	} else if err != nil {
		return meta.Account{}, meta.Session{}, fmt.Errorf("load account: %w", err)
	}
	if now.Sub(sess.LastSeen) >= touchInterval || sess.LastAddress != addr {
		if err := s.c.Store.TouchSession(ctx, sess.ID, now, addr); err != nil {
			return meta.Account{}, meta.Session{}, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeen, sess.LastAddress = now, addr
	}
	return a, sess, nil
}

// Logout revokes the session.
func (s *Service) Logout(ctx context.Context, sess meta.Session) error {
	return s.c.Store.RevokeSession(ctx, sess.AccountID, sess.ID)
}

// ChangePassword checks the current password, stores the new one and
// revokes every other session of the account.
func (s *Service) ChangePassword(ctx context.Context, a meta.Account, current meta.Session, oldPW, newPW string) error {
	ok, err := s.verify(ctx, a.PasswordHash, oldPW)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return ErrInvalidCredentials
	}
	return s.SetPassword(ctx, a.ID, current.ID, newPW)
}

// SetPassword stores a new password for the account and revokes its
// sessions except keepSession (0 revokes all).
func (s *Service) SetPassword(ctx context.Context, accountID, keepSession int64, pw string) error {
	h, err := s.HashPassword(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.c.Store.SetPassword(ctx, accountID, h); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.c.Store.RevokeSessions(ctx, accountID, keepSession); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// NewToken returns 32 random bytes, base64url-encoded without padding.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// SessionToken returns the session token the request carries, if any.
func SessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// SetCookies writes the session and CSRF cookies of a login.
func (s *Service) SetCookies(w http.ResponseWriter, r *http.Request, l Login) {
	secure := s.c.SecureCookies || r.TLS != nil
	maxAge := int(s.c.AbsoluteTimeout / time.Second)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: l.Token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: l.CSRF, Path: "/", MaxAge: maxAge,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}

// ClearCookies deletes the session and CSRF cookies.
func (s *Service) ClearCookies(w http.ResponseWriter, r *http.Request) {
	secure := s.c.SecureCookies || r.TLS != nil
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == SessionCookie, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}
