//go:build !linux

package route

import (
	"errors"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// Netlink returns a Kernel that fails: only Linux has netlink.
func Netlink(_ *netlink.Handle, _ string) Kernel { return unsupported{} }

var errUnsupported = errors.New("route: configuring the device needs Linux")

type unsupported struct{}

func (unsupported) Up(int) error                    { return errUnsupported }
func (unsupported) Addrs() ([]netip.Prefix, error)  { return nil, errUnsupported }
func (unsupported) AddAddr(netip.Prefix) error      { return errUnsupported }
func (unsupported) DelAddr(netip.Prefix) error      { return errUnsupported }
func (unsupported) Routes() ([]netip.Prefix, error) { return nil, errUnsupported }
func (unsupported) AddRoute(netip.Prefix) error     { return errUnsupported }
func (unsupported) DelRoute(netip.Prefix) error     { return errUnsupported }
