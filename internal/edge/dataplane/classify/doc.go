// Package classify decides, for each packet the site sends, which routing
// policy it falls under, which remote site it goes to, and — through a flow
// table — which path carries it.
//
// It sits on the packet path of the edge, so it is built to cost tens of
// nanoseconds whatever the number of policies. A linear walk over 1,000
// policies is far too slow for a new flow, so Compile turns the policies into
// a bit-vector classifier (Lakshman and Stiliadis, SIGCOMM 1998): along each
// field of the 5-tuple the value space is cut into elementary intervals, and
// each interval carries the set of policies that field allows, as a bitmap in
// priority order. A lookup finds one interval per field (a table index for
// protocol and ports, a DIR-16-8-8 table for IPv4 addresses, a short binary
// search for IPv6 ones), ANDs the bitmaps word by word and stops at the
// first set bit: the highest-priority policy that matches every field, the
// same answer as sdwan.Match.Matches taken in priority order. Protocol and
// ports are crossed at compile time, one bitmap per (protocol class,
// destination port interval, source port interval), so a lookup ANDs three
// bitmaps rather than five. The destination intervals also carry the remote
// site whose prefixes cover them (longest prefix wins), so routing costs
// nothing extra.
//
// Decisions are per flow and sticky: the FlowTable remembers each 5-tuple's
// policy and path, and a packet of a known flow costs one hash and one bucket
// probe. A flow keeps its path while the path stays eligible for its policy;
// the engine publishes a new Table when policies or path states change, and
// flows re-check lazily, on their next packet, so a failover touches no
// flow that does not send.
package classify
