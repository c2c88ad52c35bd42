// Package packet extracts the 5-tuple flow key from raw IPv4 and IPv6
// packets as the edge reads them from its TUN device.
//
// It exists apart from the classifier and the statistics collector because
// it is the one piece of the data plane that reads bytes an attacker
// controls, so it is kept small, allocation-free and fuzzed: every packet,
// however truncated or malformed, yields either a key or an error, never a
// panic.
//
// Packet.Decode fills a caller's Packet in place, and ParseFlowKey a
// caller's key: on the packet path a key returned by value costs as much to
// copy as to parse. Both understand IPv4 with options, IPv6 with its
// extension headers (hop-by-hop, routing, destination options, fragment,
// AH and the other headers that share their layout), and TCP, UDP,
// UDP-Lite, SCTP, DCCP, ICMP and ICMPv6 above them. ICMP echo messages use
// the echo identifier as both ports, so a request and its reply form one
// flow in each direction whose keys are each other's Reverse.
//
// A fragmented datagram carries its ports only in its first fragment.
// Decode reports the fragment identity of every fragment, and a FragTable,
// a small fixed-size table from fragment identity to ports, lets the
// caller charge later fragments to the flow of their first fragment when
// the first one arrived earlier. Fragments that arrive before their first
// fragment keep ports 0: the table never buffers packets.
package packet
