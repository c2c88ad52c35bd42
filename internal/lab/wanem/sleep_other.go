//go:build !linux

package wanem

import "time"

// sleepPrecisely falls back to time.Sleep where nanosleep is not at hand;
// the lab runs on Linux.
func sleepPrecisely(d time.Duration) { time.Sleep(d) }
