//go:build linux

// Package nsexec runs code inside a Linux network namespace. A socket or a
// device is created in the namespace of the thread that creates it and
// stays there, whoever uses it afterwards, so entering a namespace only to
// create things is enough: the lab's site LANs and the tests' namespaces
// are built that way.
package nsexec

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Locked runs f on an OS thread of its own and returns the thread to its
// own network namespace afterwards, whatever f switched it to. If the
// thread cannot return, it stays locked and ends with its goroutine, so
// that no other goroutine runs in the wrong namespace.
func Locked(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("nsexec: the thread's namespace: %w", err)
			return
		}
		defer self.Close()
		ferr := f()
		if err := netns.Set(self); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("nsexec: return to the thread's namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Do runs f on a thread switched into the namespace ns.
func Do(ns netns.NsHandle, f func() error) error {
	return Locked(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("nsexec: enter namespace %v: %w", ns, err)
		}
		return f()
	})
}

// DoNamed runs f on a thread switched into the namespace bound under
// name (as ip netns add makes them).
func DoNamed(name string, f func() error) error {
	ns, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("nsexec: namespace %s: %w", name, err)
	}
	defer ns.Close()
	return Do(ns, f)
}
