package stats

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c, _ := newTest(t, Config{Capacity: 64, Registerer: reg})
	for i := range 70 { // 64 fit; then each new flow past 64 evicts 64/16
		c.RecordPacket(int64(1+i%2), flow(i), 100)
	}
	c.ResetPolicy(1) // resets do not show: Prometheus counters never fall

	// Which flows were evicted depends on the hash key; their sum does not.
	a1, a2 := c.ActiveFlowCount(1), c.ActiveFlowCount(2)
	if a1+a2 != 62 {
		t.Errorf("active flows %d + %d, want 62", a1, a2)
	}
	want := fmt.Sprintf(`
# HELP patronus_stats_bytes_total Bytes counted, all policies.
# TYPE patronus_stats_bytes_total counter
patronus_stats_bytes_total 7000
# HELP patronus_stats_flow_table_capacity Most flows the flow table holds.
# TYPE patronus_stats_flow_table_capacity gauge
patronus_stats_flow_table_capacity 64
# HELP patronus_stats_flow_table_evictions_total Flows evicted because their shard of the flow table was full.
# TYPE patronus_stats_flow_table_evictions_total counter
patronus_stats_flow_table_evictions_total 8
# HELP patronus_stats_flow_table_flows Flows in the flow table.
# TYPE patronus_stats_flow_table_flows gauge
patronus_stats_flow_table_flows 62
# HELP patronus_stats_packets_total Packets counted, all policies.
# TYPE patronus_stats_packets_total counter
patronus_stats_packets_total 70
# HELP patronus_stats_policy_active_flows Flows in the flow table per policy.
# TYPE patronus_stats_policy_active_flows gauge
patronus_stats_policy_active_flows{policy_id="1"} %d
patronus_stats_policy_active_flows{policy_id="2"} %d
# HELP patronus_stats_policy_packets_total Packets counted per policy.
# TYPE patronus_stats_policy_packets_total counter
patronus_stats_policy_packets_total{policy_id="1"} 35
patronus_stats_policy_packets_total{policy_id="2"} 35
`, a1, a2)
	names := []string{"patronus_stats_bytes_total", "patronus_stats_flow_table_capacity",
		"patronus_stats_flow_table_evictions_total", "patronus_stats_flow_table_flows",
		"patronus_stats_packets_total", "patronus_stats_policy_active_flows", "patronus_stats_policy_packets_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 2*4+7 {
		t.Errorf("gathered %d series, %v; want 15", n, err)
	}
	// Registering a second collector's metrics on the same registry fails.
	if _, err := New(Config{Capacity: 64, Registerer: reg}); err == nil {
		t.Error("duplicate registration succeeded")
	}
}
