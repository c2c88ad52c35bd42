//go:build linux

package dataplane

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// udpOffload is a link socket with Linux's UDP segmentation offloads: GSO
// sends a run of equal-sized datagrams to one destination in one sendmsg,
// and GRO hands a run of them from one source up in one recvmsg. WireGuard
// sends a TCP stream's packets as such runs, so the offloads cut the
// system calls, and the kernel's per-datagram work, by up to 64 times —
// the stock wireguard-go bind does the same.
type udpOffload struct {
	c   *net.UDPConn
	gso bool
	gro bool
}

// maxGSOSegments is the kernel's limit on the segments of one GSO send.
const maxGSOSegments = 64

func newUDPOffload(c PacketConn) *udpOffload {
	uc, ok := c.(*net.UDPConn)
	if !ok {
		return nil
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	u := &udpOffload{c: uc}
	err = rc.Control(func(fd uintptr) {
		// UDP_SEGMENT is only probed: it exists since Linux 4.18.
		if _, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT); err == nil {
			u.gso = true
		}
		if unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil {
			u.gro = true
		}
	})
	if err != nil {
		return nil
	}
	return u
}

// send writes bufs to dst, coalescing runs of equal-sized datagrams (the
// last of a run may be shorter) into GSO sends. Coalescing appends into the
// first buffer of a run, which WireGuard allocates with room to spare.
func (u *udpOffload) send(bufs [][]byte, dst netip.AddrPort) error {
	if !u.gso {
		for _, b := range bufs {
			if _, err := u.c.WriteToUDPAddrPort(b, dst); err != nil {
				return err
			}
		}
		return nil
	}
	var oob [32]byte
	for i := 0; i < len(bufs); {
		seg := len(bufs[i])
		run := bufs[i]
		j := i + 1
		for j < len(bufs) && j-i < maxGSOSegments && len(bufs[j]) <= seg &&
			len(run)+len(bufs[j]) <= 65507 && cap(run)-len(run) >= len(bufs[j]) {
			run = append(run, bufs[j]...)
			j++
			if len(bufs[j-1]) < seg {
				break // a shorter datagram ends the run
			}
		}
		var err error
		if j-i > 1 {
			ctl := gsoControl(oob[:0], uint16(seg))
			_, _, err = u.c.WriteMsgUDPAddrPort(run, ctl, dst)
		} else {
			_, err = u.c.WriteToUDPAddrPort(run, dst)
		}
		if err != nil {
			if j-i > 1 && errors.Is(err, unix.EIO) {
				// The device cannot segment (no checksum offload): stop
				// trying and send this run one datagram at a time.
				u.gso = false
				for k := i; k < j; k++ {
					b := run[(k-i)*seg : min((k-i+1)*seg, len(run))]
					if _, err := u.c.WriteToUDPAddrPort(b, dst); err != nil {
						return err
					}
				}
				i = j
				continue
			}
			return err
		}
		i = j
	}
	return nil
}

func gsoControl(b []byte, seg uint16) []byte {
	space := unix.CmsgSpace(2)
	b = b[:space]
	clear(b)
	h := (*unix.Cmsghdr)(unsafePointer(&b[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(b[unix.CmsgLen(0):], seg)
	return b
}

// read reads one datagram, or one GRO run of them, and returns the segment
// size (0 for a single datagram).
func (u *udpOffload) read(b, oob []byte) (n, seg int, src netip.AddrPort, err error) {
	n, oobn, _, src, err := u.c.ReadMsgUDPAddrPort(b, oob)
	if err != nil || oobn == 0 {
		return n, 0, src, err
	}
	rem := oob[:oobn]
	for len(rem) > unix.SizeofCmsghdr {
		h, data, next, perr := unix.ParseOneSocketControlMessage(rem)
		if perr != nil {
			break
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && len(data) >= 2 {
			seg = int(binary.NativeEndian.Uint16(data))
			if seg >= n {
				seg = 0
			}
			break
		}
		rem = next
	}
	return n, seg, src, nil
}
