package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/crest-analytics/crest/internal/auth"
	"github.com/crest-analytics/crest/internal/meta"
	"github.com/crest-analytics/crest/internal/meta/sqlite"
)

const usersUsage = `Usage:
  crest users create --email E [--admin] [--password-stdin] [--data DIR]
  crest users reset-password --email E [--password-stdin] [--data DIR]

create adds an account to the default organisation (as administrator with
--admin, else as member), creating the default organisation and project
first on an empty data directory. reset-password sets a new password and
logs the account out everywhere.

The password is read from standard input with --password-stdin (first
line), otherwise prompted for twice. The prompt cannot hide what is typed:
prefer --password-stdin in scripts and on shared terminals.
`

// runUsers implements 'crest users'.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runUsersWith(ctx, args, os.Stdin, stdout, stderr)
}

func runUsersWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usersUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: users needs a subcommand", errUsage)
		}
		return flag.ErrHelp
	}
	sub := args[0]
	if sub != "create" && sub != "reset-password" {
		fmt.Fprint(stderr, usersUsage)
		return fmt.Errorf("%w: unknown users subcommand %q", errUsage, sub)
	}
	fs := flag.NewFlagSet("users "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", envOr("CREST_DATA_DIR", "./crest-data"), "data `directory` (CREST_DATA_DIR); the metadata is <data>/meta.db")
	email := fs.String("email", "", "the account's email `address` (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	admin := false
	if sub == "create" {
		fs.BoolVar(&admin, "admin", false, "make the account an administrator of the default organisation")
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usersUsage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if strings.TrimSpace(*email) == "" || !strings.Contains(*email, "@") {
		return fmt.Errorf("%w: --email is required", errUsage)
	}
	pw, err := readPassword(stdin, stderr, *fromStdin)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(pw); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.DefaultParams())
	if err != nil {
		return err
	}

	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(*dataDir, "meta.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "create" {
		return createUser(ctx, st, *email, hash, admin, stdout)
	}
	return resetPassword(ctx, st, *email, hash, stdout)
}

func createUser(ctx context.Context, st meta.Store, email, hash string, admin bool, stdout io.Writer) error {
	p, keys, created, err := st.EnsureDefault(ctx, os.Getenv("CREST_API_KEY"), os.Getenv("CREST_SECRET_KEY"))
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "Created the default project %q (id %d).\n", p.Name, p.ID)
		fmt.Fprintf(stdout, "  API key:    %s\n  Secret key: %s   (shown once; keep it safe)\n", keys.APIKey, keys.SecretKey)
	}
	a, err := st.CreateAccount(ctx, email, hash)
	if errors.Is(err, meta.ErrConflict) {
		return fmt.Errorf("an account with email %s exists; use 'crest users reset-password'", strings.ToLower(email))
	} else if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	role := meta.RoleMember
	if admin {
		role = meta.RoleAdmin
	}
	if err := st.SetMember(ctx, p.OrgID, a.ID, role); err != nil {
		return fmt.Errorf("add to organisation: %w", err)
	}
	if err := st.AddAudit(ctx, meta.AuditEntry{OrgID: p.OrgID, Action: "cli.user_create", Target: fmt.Sprintf("account:%d", a.ID),
		RemoteAddr: "command line", Details: []byte(fmt.Sprintf(`{"role":%q}`, role))}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s (%s of organisation %d).\n", a.Email, role, p.OrgID)
	return nil
}

func resetPassword(ctx context.Context, st meta.Store, email, hash string, stdout io.Writer) error {
	a, err := st.AccountByEmail(ctx, email)
	if errors.Is(err, meta.ErrNotFound) {
		return fmt.Errorf("no account with email %s", strings.ToLower(email))
	} else if err != nil {
		return err
	}
	if err := st.SetPassword(ctx, a.ID, hash); err != nil {
		return err
	}
	if err := st.RevokeSessions(ctx, a.ID, 0); err != nil {
		return err
	}
	ms, err := st.Memberships(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := st.AddAudit(ctx, meta.AuditEntry{OrgID: m.Org.ID, Action: "cli.password_reset",
			Target: fmt.Sprintf("account:%d", a.ID), RemoteAddr: "command line"}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Password of %s reset; its sessions are logged out.\n", a.Email)
	if a.Disabled {
		fmt.Fprintln(stdout, "Note: the account is disabled; an organisation administrator can enable it.")
	}
	return nil
}

// readPassword reads the password from stdin (first line) or prompts
// twice on stderr.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	br := bufio.NewReader(stdin)
	line := func() (string, error) {
		s, err := br.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && s != "") {
			return "", fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(s, "\r\n"), nil
	}
	if fromStdin {
		return line()
	}
	fmt.Fprint(stderr, "Password: ")
	pw, err := line()
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Repeat password: ")
	again, err := line()
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords differ")
	}
	return pw, nil
}
