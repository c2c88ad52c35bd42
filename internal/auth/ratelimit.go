package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginLimiter limits login attempts per client address and per user name,
// so neither one client guessing many users nor many clients guessing one
// user get far. Once more than 10,000 limiters are held, those idle for
// ten minutes are forgotten.
type LoginLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	every   rate.Limit
	burst   int
	clients map[string]*entry
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLoginLimiter allows burst attempts at once and then one every
// interval, per client and per user.
func NewLoginLimiter(interval time.Duration, burst int, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{now: now, every: rate.Every(interval), burst: burst, clients: map[string]*entry{}}
}

// Allow reports whether an attempt from client for user may go ahead, and
// if not, how long to wait.
func (l *LoginLimiter) Allow(client, user string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.clients) > 10000 {
		for k, e := range l.clients {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
	}
	var wait time.Duration
	ok := true
	for _, key := range []string{"c:" + client, "u:" + user} {
		e := l.clients[key]
		if e == nil {
			e = &entry{lim: rate.NewLimiter(l.every, l.burst)}
			l.clients[key] = e
		}
		e.seen = now
		r := e.lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			ok = false
			wait = max(wait, d)
		}
	}
	return ok, wait
}
