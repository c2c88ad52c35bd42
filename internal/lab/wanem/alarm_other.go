//go:build !linux

package wanem

import "time"

// fdTimer is Linux's timerfd; elsewhere alarms use the Go timer alone.
type fdTimer struct{}

func newFDTimer(func()) *fdTimer   { return nil }
func (*fdTimer) arm(time.Duration) {}
func (*fdTimer) close()            {}
