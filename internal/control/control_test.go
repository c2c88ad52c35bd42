package control

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

func newService(t *testing.T) (*Service, *events.Subscription) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := events.NewBus(nil, "test")
	subCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	sub := bus.Subscribe(subCtx, 1000, nil)
	cfg := DefaultConfig
	cfg.SiteRetention = time.Hour
	svc, err := New(ctx, st, bus, nil, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, sub
}

func drain(sub *events.Subscription) []events.Event {
	var out []events.Event
	for {
		select {
		case e := <-sub.C():
			out = append(out, e)
		default:
			return out
		}
	}
}

var (
	admin    = auth.Principal{Kind: "user", Name: "root", Role: sdwan.RoleAdmin}
	operator = auth.Principal{Kind: "user", Name: "op", Role: sdwan.RoleOperator}
	viewer   = auth.Principal{Kind: "user", Name: "eve", Role: sdwan.RoleViewer}
)

func TestSiteLifecycleAuditsAndPublishes(t *testing.T) {
	svc, sub := newService(t)
	ctx := context.Background()
	a, b := &sdwan.Site{Name: "a"}, &sdwan.Site{Name: "b"}
	for _, s := range []*sdwan.Site{a, b} {
		if err := svc.CreateSite(ctx, admin, s); err != nil {
			t.Fatal(err)
		}
	}
	ea := &sdwan.Endpoint{SiteID: a.ID, Name: "wan1", Address: netip.MustParseAddrPort("127.0.0.1:1000")}
	eb := &sdwan.Endpoint{SiteID: b.ID, Name: "wan1", Address: netip.MustParseAddrPort("127.0.0.1:2000")}
	for _, e := range []*sdwan.Endpoint{ea, eb} {
		if err := svc.CreateEndpoint(ctx, admin, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.CreatePath(ctx, operator, &sdwan.Path{SrcEndpointID: ea.ID, DstEndpointID: eb.ID}); err != nil {
		t.Fatal(err)
	}
	drain(sub)

	res, err := svc.DeleteSite(ctx, admin, a.ID, false)
	if err != nil || res.AuditID == 0 || res.Hard {
		t.Fatalf("soft delete = %+v, %v", res, err)
	}
	evs := drain(sub)
	if len(evs) != 2 || evs[0].Kind != events.SiteSoftDeleted || evs[1].Kind != events.AuditWritten || evs[1].AuditID != res.AuditID {
		t.Errorf("events after soft delete = %+v", evs)
	}
	if _, _, err := svc.RestoreSite(ctx, admin, a.ID); err != nil {
		t.Fatal(err)
	}
	res, err = svc.DeleteSite(ctx, admin, a.ID, true)
	if err != nil || res.Removed.Paths != 1 || res.Removed.Endpoints != 1 {
		t.Fatalf("hard delete = %+v, %v", res, err)
	}
	entries, _, err := svc.Store().Read().AuditLog(ctx, store.AuditFilter{TargetID: a.ID}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" by "+e.Actor)
	}
	want := []string{"site.delete by root", "site.restore by root", "site.soft_delete by root", "site.create by root"}
	if len(actions) != len(want) {
		t.Fatalf("audit = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Errorf("audit[%d] = %q, want %q", i, actions[i], want[i])
		}
	}
}

func TestRolesAreEnforced(t *testing.T) {
	svc, sub := newService(t)
	ctx := context.Background()
	if err := svc.CreateSite(ctx, operator, &sdwan.Site{Name: "x"}); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("operator created a site: %v", err)
	}
	if err := svc.CreatePolicy(ctx, viewer, &sdwan.Policy{Name: "p", Priority: 1}); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("viewer created a policy: %v", err)
	}
	if err := svc.CreatePolicy(ctx, auth.Principal{}, &sdwan.Policy{Name: "p", Priority: 1}); !errors.Is(err, sdwan.ErrUnauthenticated) {
		t.Errorf("anonymous created a policy: %v", err)
	}
	if err := svc.CreatePolicy(ctx, operator, &sdwan.Policy{Name: "p", Priority: 1}); err != nil {
		t.Errorf("operator could not create a policy: %v", err)
	}
	// Refused writes publish nothing but the one that went through.
	if n := len(drain(sub)); n != 2 {
		t.Errorf("published %d events, want 2 (the policy and its audit entry)", n)
	}
}

func TestFailedWritePublishesNothing(t *testing.T) {
	svc, sub := newService(t)
	ctx := context.Background()
	if err := svc.CreatePolicy(ctx, operator, &sdwan.Policy{Name: "p", Priority: 1}); err != nil {
		t.Fatal(err)
	}
	drain(sub)
	err := svc.CreatePolicy(ctx, operator, &sdwan.Policy{Name: "q", Priority: 1})
	if !errors.Is(err, sdwan.ErrConflict) {
		t.Fatalf("duplicate priority: %v", err)
	}
	if evs := drain(sub); len(evs) != 0 {
		t.Errorf("a rolled-back write published %+v", evs)
	}
	_, total, _ := svc.Store().Read().AuditLog(ctx, store.AuditFilter{ActionPrefix: "policy."}, store.Page{})
	if total != 1 {
		t.Errorf("audit has %d policy entries, want 1", total)
	}
}

func TestLoginTokensAndRevocation(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, auth.System, "alice", sdwan.RoleAdmin, "s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "c1", "alice", "wrong-password"); !errors.Is(err, sdwan.ErrUnauthenticated) {
		t.Errorf("wrong password: %v", err)
	}
	sess, err := svc.Login(ctx, "c1", "alice", "s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, sess.AccessToken)
	if err != nil || p.Name != "alice" || p.Role != sdwan.RoleAdmin {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	if _, err := svc.Authenticate(ctx, sess.RenewalToken); err == nil {
		t.Error("renewal token accepted as access token")
	}
	key, err := svc.CreateAPIKey(ctx, p, "ci", sdwan.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := svc.Authenticate(ctx, key.Key)
	if err != nil || kp.Role != sdwan.RoleViewer || kp.Kind != "apikey" {
		t.Fatalf("key principal = %+v, %v", kp, err)
	}
	// A role change revokes the user's tokens at once.
	bob, _ := svc.CreateUser(ctx, auth.System, "bob", sdwan.RoleOperator, "another-password")
	bs, _ := svc.Login(ctx, "c2", "bob", "another-password")
	if err := svc.UpdateUserRole(ctx, p, bob.ID, sdwan.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, bs.AccessToken); err == nil {
		t.Error("token still valid after a role change")
	}
	if _, err := svc.Renew(ctx, bs.RenewalToken); err == nil {
		t.Error("renewal still valid after a role change")
	}
	// Logout revokes.
	if err := svc.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, sess.AccessToken); err == nil {
		t.Error("token valid after logout")
	}
	if err := svc.RevokeAPIKey(ctx, admin, key.Record.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, key.Key); err == nil {
		t.Error("revoked key accepted")
	}
	_ = u
}

func TestLoginIsRateLimited(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	var limited error
	for range 10 {
		if _, err := svc.Login(ctx, "10.9.9.9", "mallory", "guess-guess"); errors.Is(err, ErrRateLimited) {
			limited = err
			break
		}
	}
	if limited == nil {
		t.Fatal("ten rapid failed sign-ins were never limited")
	}
	var rl *RateLimitError
	if !errors.As(limited, &rl) || rl.Wait <= 0 {
		t.Errorf("limit error %v has no wait", limited)
	}
}

func TestSiteCredentialIsScoped(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	a := &sdwan.Site{Name: "a"}
	if err := svc.CreateSite(ctx, admin, a); err != nil {
		t.Fatal(err)
	}
	cred, err := svc.IssueSiteCredential(ctx, admin, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, cred.Key)
	if err != nil || p.Role != sdwan.RoleEdge || p.SiteID != a.ID {
		t.Fatalf("site principal = %+v, %v", p, err)
	}
	if err := svc.CreatePolicy(ctx, p, &sdwan.Policy{Name: "x", Priority: 3}); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("edge created a policy: %v", err)
	}
	if _, err := svc.DeleteSite(ctx, admin, a.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, cred.Key); err == nil {
		t.Error("credential of a deleted site accepted")
	}
}

func TestPurgeExpiredSites(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	now := time.Now()
	svc.now = func() time.Time { return now }
	a := &sdwan.Site{Name: "a"}
	if err := svc.CreateSite(ctx, admin, a); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteSite(ctx, admin, a.ID, false); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.PurgeExpiredSites(ctx); n != 0 || err != nil {
		t.Errorf("purge inside retention removed %d, %v", n, err)
	}
	now = now.Add(2 * time.Hour)
	if n, err := svc.PurgeExpiredSites(ctx); n != 1 || err != nil {
		t.Errorf("purge after retention removed %d, %v; want 1", n, err)
	}
	if _, err := svc.Store().Read().Site(ctx, a.ID); !IsNotFound(err) {
		t.Errorf("purged site still there: %v", err)
	}
}

func TestKeyUseIsRecorded(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, auth.System, "alice", sdwan.RoleAdmin, "s3cret-password"); err != nil {
		t.Fatal(err)
	}
	sess, err := svc.Login(ctx, "c1", "alice", "s3cret-password")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := svc.Authenticate(ctx, sess.AccessToken)
	key, err := svc.CreateAPIKey(ctx, p, "ci", sdwan.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if key.Record.LastUsed != nil {
		t.Fatal("a new key has a last use")
	}
	if _, err := svc.Authenticate(ctx, key.Key); err != nil {
		t.Fatal(err)
	}
	k, err := svc.Store().Read().APIKeyByPrefix(ctx, key.Record.Prefix)
	if err != nil || k.LastUsed == nil {
		t.Errorf("after use the key's last use is %v (%v), want a time", k.LastUsed, err)
	}
}
