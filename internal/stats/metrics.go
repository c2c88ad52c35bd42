package stats

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports a Collector to Prometheus. It reads the counters when
// scraped rather than keeping its own, so the packet path pays nothing for
// it. Series are per policy, never per flow: flows come and go by the
// million, policies are few.
type metrics struct{ c *Collector }

var (
	descPackets = prometheus.NewDesc("patronus_stats_packets_total",
		"Packets counted, all policies.", nil, nil)
	descBytes = prometheus.NewDesc("patronus_stats_bytes_total",
		"Bytes counted, all policies.", nil, nil)
	descPolicyPackets = prometheus.NewDesc("patronus_stats_policy_packets_total",
		"Packets counted per policy.", []string{"policy_id"}, nil)
	descPolicyBytes = prometheus.NewDesc("patronus_stats_policy_bytes_total",
		"Bytes counted per policy.", []string{"policy_id"}, nil)
	descPolicyOpened = prometheus.NewDesc("patronus_stats_policy_flows_opened_total",
		"Flows that entered the flow table per policy.", []string{"policy_id"}, nil)
	descPolicyActive = prometheus.NewDesc("patronus_stats_policy_active_flows",
		"Flows in the flow table per policy.", []string{"policy_id"}, nil)
	descFlows = prometheus.NewDesc("patronus_stats_flow_table_flows",
		"Flows in the flow table.", nil, nil)
	descCapacity = prometheus.NewDesc("patronus_stats_flow_table_capacity",
		"Most flows the flow table holds.", nil, nil)
	descSlotBytes = prometheus.NewDesc("patronus_stats_flow_table_bytes",
		"Memory held by the flow table's slot arrays.", nil, nil)
	descEvictions = prometheus.NewDesc("patronus_stats_flow_table_evictions_total",
		"Flows evicted because their shard of the flow table was full.", nil, nil)
	descExpired = prometheus.NewDesc("patronus_stats_flow_table_expired_total",
		"Flows removed by CleanupStaleFlows for being idle.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descBytes, descPolicyPackets, descPolicyBytes,
		descPolicyOpened, descPolicyActive, descFlows, descCapacity, descSlotBytes, descEvictions, descExpired} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Counters are the raw ones,
// which resets do not touch, so Prometheus never sees them fall.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	c := m.c
	var totalPackets, totalBytes uint64
	for _, p := range c.pol.idx.Load().byRef {
		packets, bytes, opened, active := p.raw()
		totalPackets += packets
		totalBytes += bytes
		id := strconv.FormatInt(p.id, 10)
		ch <- prometheus.MustNewConstMetric(descPolicyPackets, prometheus.CounterValue, float64(packets), id)
		ch <- prometheus.MustNewConstMetric(descPolicyBytes, prometheus.CounterValue, float64(bytes), id)
		ch <- prometheus.MustNewConstMetric(descPolicyOpened, prometheus.CounterValue, float64(opened), id)
		ch <- prometheus.MustNewConstMetric(descPolicyActive, prometheus.GaugeValue, float64(active), id)
	}
	ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(totalPackets))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(totalBytes))

	var flows int64
	var slots int
	var evictions, expired uint64
	for i := range c.shards {
		sh := &c.shards[i]
		flows += sh.flows.Load()
		slots += len(sh.tab.Load().slots)
		evictions += sh.evictions.Load()
		expired += sh.expired.Load()
	}
	ch <- prometheus.MustNewConstMetric(descFlows, prometheus.GaugeValue, float64(flows))
	ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, float64(c.Capacity()))
	ch <- prometheus.MustNewConstMetric(descSlotBytes, prometheus.GaugeValue, float64(slots*slotBytes))
	ch <- prometheus.MustNewConstMetric(descEvictions, prometheus.CounterValue, float64(evictions))
	ch <- prometheus.MustNewConstMetric(descExpired, prometheus.CounterValue, float64(expired))
}
