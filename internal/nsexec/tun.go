//go:build linux

package nsexec

import "golang.zx2c4.com/wireguard/tun"

// FixedMTU returns d answering MTU with mtu, without asking the kernel. A
// kernel TUN asks by the device's name in the namespace of the calling
// thread, so for a device made in another namespace (by Do) it finds no
// device, or another one of that name.
func FixedMTU(d tun.Device, mtu int) tun.Device { return fixedMTU{d, mtu} }

type fixedMTU struct {
	tun.Device
	mtu int
}

func (d fixedMTU) MTU() (int, error) { return d.mtu, nil }
