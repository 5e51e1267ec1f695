package natsbroker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// TestCredsFile: a NATS server in operator mode (decentralised JWT
// authentication, as a managed NATS runs) takes a node that presents a
// user's credentials file with Options.CredsFile, JetStream included,
// and refuses one without it or with a user of an account it does not
// know.
func TestCredsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	operator, opClaims := newOperator(t)
	account := newKey(t, nkeys.CreateAccount)
	accPub, _ := account.PublicKey()
	ac := jwt.NewAccountClaims(accPub)
	ac.Name = "APP"
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	accJWT, err := ac.Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	system := newKey(t, nkeys.CreateAccount)
	sysPub, _ := system.PublicKey()
	sysJWT, err := jwt.NewAccountClaims(sysPub).Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	for pub, j := range map[string]string{accPub: accJWT, sysPub: sysJWT} {
		if err := resolver.Store(pub, j); err != nil {
			t.Fatal(err)
		}
	}
	ns := runNATS(t, &server.Options{
		Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: filepath.Join(dir, "js"),
		TrustedOperators: []*jwt.OperatorClaims{opClaims},
		AccountResolver:  resolver,
		SystemAccount:    sysPub,
	})
	creds := userCreds(t, dir, "app.creds", account)
	stranger := userCreds(t, dir, "stranger.creds", newKey(t, nkeys.CreateAccount))

	for _, tt := range []struct{ name, file string }{{"no credentials", ""}, {"a user of an account the server does not know", stranger}} {
		if b, err := New(Options{URL: ns.ClientURL(), CredsFile: tt.file, ReconnectWait: 10 * time.Millisecond}); err == nil {
			b.Close()
			t.Errorf("%s: connected", tt.name)
		} else if !strings.Contains(strings.ToLower(err.Error()), "authoriz") {
			t.Errorf("%s: %v, want an authorization error", tt.name, err)
		}
	}
	if _, err := New(Options{URL: ns.ClientURL(), CredsFile: filepath.Join(dir, "missing.creds")}); err == nil || !strings.Contains(err.Error(), "missing.creds") {
		t.Errorf("a credentials file that is not there: %v", err)
	}
	b, err := New(Options{URL: ns.ClientURL(), CredsFile: creds})
	if err != nil {
		t.Fatalf("with the credentials: %v", err)
	}
	defer b.Close()
	if st := b.Stats(); !st.Connected || !st.JetStream {
		t.Errorf("with the credentials: %+v", st)
	}
	if p, err := b.Publish(t.Context(), "creds.check", []byte(`1`)); err != nil || p.Seq != 1 {
		t.Errorf("publish with the credentials: %+v, %v", p, err)
	}
}

func newKey(t *testing.T, create func() (nkeys.KeyPair, error)) nkeys.KeyPair {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// newOperator makes an operator key and its self-signed claims.
func newOperator(t *testing.T) (nkeys.KeyPair, *jwt.OperatorClaims) {
	t.Helper()
	kp := newKey(t, nkeys.CreateOperator)
	pub, _ := kp.PublicKey()
	oc := jwt.NewOperatorClaims(pub)
	oc.Name = "test"
	s, err := oc.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := jwt.DecodeOperatorClaims(s)
	if err != nil {
		t.Fatal(err)
	}
	return kp, claims
}

// userCreds writes the credentials file of a new user of account into
// dir/name.
func userCreds(t *testing.T, dir, name string, account nkeys.KeyPair) string {
	t.Helper()
	user := newKey(t, nkeys.CreateUser)
	pub, _ := user.PublicKey()
	uc := jwt.NewUserClaims(pub)
	userJWT, err := uc.Encode(account)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	b, err := jwt.FormatUserConfig(userJWT, seed)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
