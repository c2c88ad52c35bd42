// Package stats counts the traffic of every routing policy: packets, bytes
// and flows, where the edge's classifier decides, on the real packets.
//
// The counting sits on the packet path, so it is built to cost tens of
// nanoseconds and to scale across cores: the Collector's flow table is
// sharded by key hash, a packet of a known flow is looked up without a lock
// and counted with two atomic adds on a per-policy counter striped across
// cache lines, and the clock it stamps flows with is a coarse tick
// advanced by Run rather than a clock read per packet. The table's memory
// is bounded: at capacity, each shard evicts its longest-idle flows.
//
// The package also carries the figures to the controller. A Reporter on
// the edge turns the Collector's cumulative counters into per-policy
// deltas, numbered per edge, re-sending a report until it is
// acknowledged; an Aggregator on the controller applies each edge's
// reports exactly once to live per-policy and per-site totals. Persisting
// snapshots and serving them is the store's and the API's business; this
// package hands them rows (Collector.Snapshot) and totals.
package stats
