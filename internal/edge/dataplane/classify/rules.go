package classify

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"unsafe"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// NoPolicy is the policy index Lookup returns when no policy matches.
const NoPolicy = -1

// NoPeer is the peer index Lookup returns when no remote site's prefixes
// cover the destination.
const NoPeer = -1

// Rules are policies and remote sites' prefixes compiled for lookup. They
// are immutable and safe for concurrent use.
//
// No bitmap has a bit set past the last policy, so the first set bit of an
// AND is always a policy index.
type Rules struct {
	policies []sdwan.Policy // enabled policies, in priority order
	ids      []int64        // policy ID by index, with 0 for NoPolicy last
	fps      []uint32       // fingerprint of each policy and its action, likewise
	words    uint32         // bitmap length in 64-bit words

	ports portDims
	dst4  addrDim4
	src4  addrDim4
	dst6  addrDim6
	src6  addrDim6
	sets  []uint64 // every distinct bitmap, words long each
}

// portDims looks up the protocol and both ports. When their cross product
// is small, as it is when policies name a few protocols and source ports,
// it holds one bitmap per (protocol class, destination port interval,
// source port interval), already ANDed, so that a lookup ANDs three
// bitmaps (ports, destination, source) rather than five.
type portDims struct {
	// class numbers the protocols by the set of policies they allow.
	class   [256]uint8
	dst     portDim
	src     portDim
	crossed []uint32 // (class*dst.n+dst interval)*src.n+src interval -> bitmap offset, or nil
	// Without the cross product, a bitmap offset per protocol class and
	// per port interval, ANDed at lookup.
	proto, dstSets, srcSets []uint32
}

// crossLimits bound the cross product of protocol classes and port
// intervals: its entries, and the bytes of its distinct bitmaps. Beyond
// them (hundreds of protocols or port ranges along both ports), the
// bitmaps would cost more memory than ANDing them at lookup costs time.
type crossLimits struct{ entries, bytes int }

var defaultCrossLimits = crossLimits{entries: 1 << 16, bytes: 4 << 20}

// portDim maps a port to its elementary interval. The table holds 16-bit
// interval numbers so that it takes 128 KiB of cache rather than 256.
type portDim struct {
	idx []uint16 // 65536 entries, or nil when no policy names this port
	n   uint32   // number of intervals
}

func (d *portDim) interval(p uint16) uint32 {
	if d.idx == nil {
		return 0
	}
	return uint32(d.idx[p])
}

// addrDim4 is the elementary intervals of the IPv4 space along one address
// field, found through a DIR-16-8-8 table (Gupta, Lin and McKeown,
// INFOCOM 1998): the top 16 bits index a table whose entry is either the
// interval (no interval starts inside that /16) or a block of 256 entries
// for the next 8 bits, and so on. A lookup is one to three dependent
// loads whatever the number of prefixes.
type addrDim4 struct {
	starts []uint32
	iv     []ival   // per interval
	l1     []uint32 // 65536 entries
	blocks []uint32 // blocks of 256 entries
}

// ival is what a lookup needs of an address interval, side by side so
// that it costs one cache miss.
type ival struct {
	set  uint32 // bitmap offset
	peer int32  // routed peer (destination field only)
}

const dirBlock = 1 << 31 // entry flag: the rest is a block number

func (d *addrDim4) find(a uint32) int {
	e := d.l1[a>>16]
	if e&dirBlock != 0 {
		e = d.blocks[(e&^dirBlock)<<8|(a>>8)&0xff]
		if e&dirBlock != 0 {
			e = d.blocks[(e&^dirBlock)<<8|a&0xff]
		}
	}
	return int(e)
}

// interval returns the interval holding a, by binary search.
func (d *addrDim4) interval(a uint32) uint32 {
	i, found := slices.BinarySearch(d.starts, a)
	if !found {
		i--
	}
	return uint32(i)
}

// fill builds the entry for the addresses from base spanning 1<<shift.
func (d *addrDim4) fill(base uint32, shift uint) uint32 {
	last := base + (uint32(1)<<shift - 1)
	lo, hi := d.interval(base), d.interval(last)
	if lo == hi || shift == 0 {
		return lo
	}
	blk := uint32(len(d.blocks) >> 8)
	d.blocks = append(d.blocks, make([]uint32, 256)...)
	sub := shift - 8
	for j := range uint32(256) {
		e := d.fill(base+j<<sub, sub)
		d.blocks[blk<<8|j] = e
	}
	return blk | dirBlock
}

// addrDim6 is the same for IPv6, without the hint table: IPv6 policies are
// rarer and their prefixes fewer.
type addrDim6 struct {
	starts [][2]uint64
	iv     []ival
}

func (d *addrDim6) find(a [2]uint64) int {
	i, _ := slices.BinarySearchFunc(d.starts, a, cmp128)
	// BinarySearchFunc returns the insertion point; the interval holding
	// a starts at or before it.
	if i == len(d.starts) || d.starts[i] != a {
		i--
	}
	return i
}

func cmp128(x, y [2]uint64) int {
	if c := cmp.Compare(x[0], y[0]); c != 0 {
		return c
	}
	return cmp.Compare(x[1], y[1])
}

// Compile compiles the enabled policies (ordered by priority; disabled ones
// are left out) and the prefixes of each peer (by peer index) into Rules.
func Compile(policies []sdwan.Policy, peers [][]netip.Prefix) (*Rules, error) {
	return compile(policies, peers, defaultCrossLimits)
}

// compile is Compile with the bounds on the protocol and ports' cross
// product as a parameter, for tests of the lookup without it.
func compile(policies []sdwan.Policy, peers [][]netip.Prefix, cross crossLimits) (*Rules, error) {
	ps := make([]sdwan.Policy, 0, len(policies))
	for _, p := range policies {
		if p.Enabled {
			ps = append(ps, p)
		}
	}
	slices.SortStableFunc(ps, func(a, b sdwan.Policy) int { return cmp.Compare(a.Priority, b.Priority) })
	for i := 1; i < len(ps); i++ {
		if ps[i].Priority == ps[i-1].Priority {
			return nil, fmt.Errorf("classify: policies %d and %d share priority %d", ps[i-1].ID, ps[i].ID, ps[i].Priority)
		}
	}
	r := &Rules{policies: ps, words: uint32(max(1, (len(ps)+63)/64))}
	r.ids = make([]int64, len(ps)+1)
	r.fps = make([]uint32, len(ps)+1)
	for i, p := range ps {
		r.ids[i], r.fps[i] = p.ID, fingerprint(p.ID, p.Action)
	}
	b := &builder{r: r, index: map[string]uint32{}, cross: cross}
	r.ports = b.portDims()
	dstOf := func(m *sdwan.Match) []netip.Prefix { return m.DstPrefixes }
	srcOf := func(m *sdwan.Match) []netip.Prefix { return m.SrcPrefixes }
	r.dst4 = b.addr4(dstOf, peers)
	r.src4 = b.addr4(srcOf, nil)
	r.dst6 = b.addr6(dstOf, peers)
	r.src6 = b.addr6(srcOf, nil)
	r.sets = b.sets
	return r, nil
}

// Policies returns the compiled (enabled) policies in priority order; the
// policy index Lookup returns points into it. The caller must not modify it.
func (r *Rules) Policies() []sdwan.Policy { return r.policies }

// index maps NoPolicy to the index after the last policy.
func (r *Rules) index(pol int) int {
	if pol == NoPolicy {
		return len(r.policies)
	}
	return pol
}

// Lookup returns the index of the first policy matching k (NoPolicy if none
// does) and the peer whose prefixes hold k's destination (NoPeer if none).
// It does not allocate.
func (r *Rules) Lookup(k *sdwan.FlowKey) (policy, peer int) {
	d := &r.ports
	c := uint32(d.class[k.Proto])
	di, si := d.dst.interval(k.DstPort), d.src.interval(k.SrcPort)
	var dst, src ival
	if isV4Mapped(&k.Dst) {
		dst = r.dst4.iv[r.dst4.find(binary.BigEndian.Uint32(k.Dst[12:]))]
	} else {
		dst = r.dst6.iv[r.dst6.find(split128(&k.Dst))]
	}
	if isV4Mapped(&k.Src) {
		src = r.src4.iv[r.src4.find(binary.BigEndian.Uint32(k.Src[12:]))]
	} else {
		src = r.src6.iv[r.src6.find(split128(&k.Src))]
	}
	if d.crossed != nil {
		return r.first3(d.crossed[(c*d.dst.n+di)*d.src.n+si], dst.set, src.set), int(dst.peer)
	}
	return r.first5(d.proto[c], d.dstSets[di], d.srcSets[si], dst.set, src.set), int(dst.peer)
}

// first3 returns the first bit set in all three bitmaps at offsets a, b
// and c, or NoPolicy. It is the common case, and has its own loop so that
// the compiler can keep the bitmaps in registers and drop bounds checks.
func (r *Rules) first3(a, b, c uint32) int {
	w := r.words
	x, y, z := r.sets[a:a+w], r.sets[b:b+w], r.sets[c:c+w]
	y, z = y[:len(x)], z[:len(x)]
	for j := range x {
		if v := x[j] & y[j] & z[j]; v != 0 {
			return j*64 + bits.TrailingZeros64(v)
		}
	}
	return NoPolicy
}

// first5 is first3 for five bitmaps, when protocol and ports are not
// crossed.
func (r *Rules) first5(a, b, c, d, e uint32) int {
	w := r.words
	x, y, z, u, v := r.sets[a:a+w], r.sets[b:b+w], r.sets[c:c+w], r.sets[d:d+w], r.sets[e:e+w]
	y, z, u, v = y[:len(x)], z[:len(x)], u[:len(x)], v[:len(x)]
	for j := range x {
		if m := x[j] & y[j] & z[j] & u[j] & v[j]; m != 0 {
			return j*64 + bits.TrailingZeros64(m)
		}
	}
	return NoPolicy
}

var v4Prefix = [12]byte{10: 0xff, 11: 0xff}

func isV4Mapped(a *[16]byte) bool { return [12]byte(a[:12]) == v4Prefix }

func split128(a *[16]byte) [2]uint64 {
	return [2]uint64{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])}
}

// fingerprint hashes a policy's identity and what it does, so that a flow
// can tell whether the decision it was made under still holds after the
// policies are replaced.
func fingerprint(id int64, a sdwan.Action) uint32 {
	h := fnv.New32a()
	_, _ = fmt.Fprintf(h, "%d|%s|%g|%g|%g|%s|%s", id, a.Kind, a.SLA.MaxLatencyMs, a.SLA.MaxJitterMs, a.SLA.MaxLossPct, a.Preference, a.Link)
	return h.Sum32()
}

// builder interns bitmaps while Compile builds the dimensions.
type builder struct {
	r     *Rules
	sets  []uint64
	index map[string]uint32
	cross crossLimits
}

func (b *builder) newSet() []uint64 { return make([]uint64, b.r.words) }

func setBit(s []uint64, i int) { s[i/64] |= 1 << (i % 64) }

// setKey returns bitmap s's bytes as a string that shares s's memory, and
// so changes with it: a map key to look up with, cloned to be stored.
func setKey(s []uint64) string { return unsafe.String((*byte)(unsafe.Pointer(&s[0])), len(s)*8) }

// intern returns the offset of bitmap s in b.sets, adding it if new.
func (b *builder) intern(s []uint64) uint32 {
	key := setKey(s)
	if off, ok := b.index[key]; ok {
		return off
	}
	off := uint32(len(b.sets))
	b.sets = append(b.sets, s...)
	b.index[strings.Clone(key)] = off
	return off
}

// interval is an address range [lo, hi] of one family, as 128-bit numbers
// (IPv4 in the low 32 bits).
type span struct{ lo, hi [2]uint64 }

func prefixSpan(p netip.Prefix) span {
	p = p.Masked()
	a := p.Addr()
	var lo [2]uint64
	var hostBits int
	if a.Is4() {
		v := a.As4()
		lo = [2]uint64{0, uint64(binary.BigEndian.Uint32(v[:]))}
		hostBits = 32 - p.Bits()
	} else {
		v := a.As16()
		lo = split128(&v)
		hostBits = 128 - p.Bits()
	}
	hi := lo
	switch {
	case hostBits >= 64:
		hi[1] = ^uint64(0)
		hi[0] |= (uint64(1) << (hostBits - 64)) - 1
		if hostBits == 128 {
			hi[0] = ^uint64(0)
		}
	case hostBits > 0:
		hi[1] |= (uint64(1) << hostBits) - 1
	}
	return span{lo, hi}
}

func next128(x [2]uint64) ([2]uint64, bool) {
	lo, c := bits.Add64(x[1], 1, 0)
	hi, c2 := bits.Add64(x[0], 0, c)
	return [2]uint64{hi, lo}, c2 != 0
}

// addrIntervals cuts one family's space (v4 or v6) by the prefixes of the
// policies (field) and of the peers, and returns each interval's start,
// bitmap offset and routed peer.
func (b *builder) addrIntervals(v4 bool, field func(*sdwan.Match) []netip.Prefix, peers [][]netip.Prefix) (starts [][2]uint64, iv []ival) {
	ps := b.r.policies
	fam := func(p netip.Prefix) bool { return p.Addr().Is4() == v4 }
	cuts := [][2]uint64{{0, 0}}
	add := func(p netip.Prefix) {
		sp := prefixSpan(p)
		cuts = append(cuts, sp.lo)
		if n, wrapped := next128(sp.hi); !wrapped && (!v4 || n[1] <= 0xffffffff) {
			cuts = append(cuts, n)
		}
	}
	for i := range ps {
		for _, p := range field(&ps[i].Match) {
			if fam(p) {
				add(p)
			}
		}
	}
	for _, pp := range peers {
		for _, p := range pp {
			if fam(p) {
				add(p)
			}
		}
	}
	slices.SortFunc(cuts, cmp128)
	cuts = slices.Compact(cuts)
	n := len(cuts)
	// Each policy's bits, painted over the intervals its prefixes cover.
	perInterval := make([][]uint64, n)
	for c := range perInterval {
		perInterval[c] = b.newSet()
	}
	find := func(a [2]uint64) int {
		i, found := slices.BinarySearchFunc(cuts, a, cmp128)
		if !found {
			i--
		}
		return i
	}
	for i := range ps {
		pfx := field(&ps[i].Match)
		if len(pfx) == 0 {
			for c := range perInterval {
				setBit(perInterval[c], i)
			}
			continue
		}
		for _, p := range pfx {
			if !fam(p) {
				continue
			}
			sp := prefixSpan(p)
			for c := find(sp.lo); c < n && cmp128(cuts[c], sp.hi) <= 0; c++ {
				setBit(perInterval[c], i)
			}
		}
	}
	iv = make([]ival, n)
	for c := range perInterval {
		iv[c].set = b.intern(perInterval[c])
	}
	// Routing: paint peers' prefixes from the shortest to the longest, so
	// the longest prefix holding an interval wins.
	for c := range iv {
		iv[c].peer = NoPeer
	}
	type route struct {
		p    netip.Prefix
		peer int32
	}
	var routes []route
	for pi, pp := range peers {
		for _, p := range pp {
			if fam(p) {
				routes = append(routes, route{p, int32(pi)})
			}
		}
	}
	slices.SortStableFunc(routes, func(a, b route) int { return cmp.Compare(a.p.Bits(), b.p.Bits()) })
	for _, rt := range routes {
		sp := prefixSpan(rt.p)
		for c := find(sp.lo); c < n && cmp128(cuts[c], sp.hi) <= 0; c++ {
			iv[c].peer = rt.peer
		}
	}
	return cuts, iv
}

func (b *builder) addr4(field func(*sdwan.Match) []netip.Prefix, peers [][]netip.Prefix) addrDim4 {
	cuts, iv := b.addrIntervals(true, field, peers)
	d := addrDim4{starts: make([]uint32, len(cuts)), iv: iv, l1: make([]uint32, 65536)}
	for i, c := range cuts {
		d.starts[i] = uint32(c[1])
	}
	for x := range uint32(65536) {
		d.l1[x] = d.fill(x<<16, 16)
	}
	return d
}

func (b *builder) addr6(field func(*sdwan.Match) []netip.Prefix, peers [][]netip.Prefix) addrDim6 {
	cuts, iv := b.addrIntervals(false, field, peers)
	return addrDim6{starts: cuts, iv: iv}
}
