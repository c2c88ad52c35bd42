package classify

import (
	"slices"
	"strings"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// portDims builds the protocol and port dimensions, crossed when the
// limits allow.
func (b *builder) portDims() portDims {
	var d portDims
	protos := b.protoClasses(&d.class)
	var dsts, srcs [][]uint64
	d.dst, dsts = b.ports(func(m *sdwan.Match) []sdwan.PortRange { return m.DstPorts })
	d.src, srcs = b.ports(func(m *sdwan.Match) []sdwan.PortRange { return m.SrcPorts })
	if d.crossed = b.crossed(protos, dsts, srcs); d.crossed != nil {
		return d
	}
	internAll := func(sets [][]uint64) []uint32 {
		offs := make([]uint32, len(sets))
		for i, s := range sets {
			offs[i] = b.intern(s)
		}
		return offs
	}
	d.proto, d.dstSets, d.srcSets = internAll(protos), internAll(dsts), internAll(srcs)
	return d
}

// crossed returns the offset of the AND of every protocol class's, every
// destination port interval's and every source port interval's bitmaps, in
// that order, or nil if the product is past b's limits.
func (b *builder) crossed(protos, dsts, srcs [][]uint64) []uint32 {
	n := len(protos) * len(dsts) * len(srcs)
	if n > b.cross.entries {
		return nil
	}
	// Collect the distinct bitmaps apart from b, which must not keep any
	// should the product prove too large.
	var distinct [][]uint64
	seen := map[string]uint32{}
	idx := make([]uint32, 0, n)
	s := b.newSet()
	key := setKey(s) // s's bytes, as they change
	for _, p := range protos {
		for _, ds := range dsts {
			for _, ss := range srcs {
				for j := range s {
					s[j] = p[j] & ds[j] & ss[j]
				}
				i, ok := seen[key]
				if !ok {
					if (len(distinct)+1)*len(key) > b.cross.bytes {
						return nil
					}
					i = uint32(len(distinct))
					seen[strings.Clone(key)] = i
					distinct = append(distinct, slices.Clone(s))
				}
				idx = append(idx, i)
			}
		}
	}
	offs := make([]uint32, len(distinct))
	for i, s := range distinct {
		offs[i] = b.intern(s)
	}
	for i, x := range idx {
		idx[i] = offs[x]
	}
	return idx
}

// protoClasses numbers the protocols by the set of policies they allow (a
// policy allows its protocol, or every protocol), writing each protocol's
// class to class, and returns each class's bitmap.
func (b *builder) protoClasses(class *[256]uint8) [][]uint64 {
	var sets [][]uint64
	seen := map[string]uint8{}
	for proto := range 256 {
		s := b.newSet()
		for i, p := range b.r.policies {
			if p.Match.Protocol == 0 || int(p.Match.Protocol) == proto {
				setBit(s, i)
			}
		}
		key := setKey(s)
		c, ok := seen[key]
		if !ok {
			// At most 256 classes, numbered 0 to 255.
			c = uint8(len(sets))
			seen[strings.Clone(key)] = c
			sets = append(sets, s)
		}
		class[proto] = c
	}
	return sets
}

// ports cuts the port space by the ranges field picks into elementary
// intervals, and returns the dimension and each interval's bitmap: the
// policies whose ranges hold it, and those that name no range.
func (b *builder) ports(field func(*sdwan.Match) []sdwan.PortRange) (portDim, [][]uint64) {
	ps := b.r.policies
	cuts := []int{0, 65536}
	for i := range ps {
		for _, pr := range field(&ps[i].Match) {
			cuts = append(cuts, int(pr.Lo), int(pr.Hi)+1)
		}
	}
	if len(cuts) == 2 {
		// No policy names this port: one interval, which every policy allows.
		all := b.newSet()
		for i := range ps {
			setBit(all, i)
		}
		return portDim{n: 1}, [][]uint64{all}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	// At most 65536 intervals, numbered 0 to 65535.
	idx := make([]uint16, 65536)
	sets := make([][]uint64, 0, len(cuts)-1)
	for c := 0; c+1 < len(cuts); c++ {
		lo, hi := cuts[c], cuts[c+1]
		s := b.newSet()
		for i := range ps {
			rs := field(&ps[i].Match)
			if len(rs) == 0 || slices.ContainsFunc(rs, func(pr sdwan.PortRange) bool { return pr.Contains(uint16(lo)) }) {
				setBit(s, i)
			}
		}
		for p := lo; p < hi; p++ {
			idx[p] = uint16(c)
		}
		sets = append(sets, s)
	}
	return portDim{idx: idx, n: uint32(len(sets))}, sets
}
