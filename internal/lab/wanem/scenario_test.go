package wanem

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestParseScenario(t *testing.T) {
	want := &Scenario{
		Name:   "brownout",
		Repeat: time.Minute,
		Steps: []Step{
			{At: 0, Link: "site-1/wan1", Dir: Both, Set: Change{Delay: ptr(40 * time.Millisecond), Jitter: ptr(5 * time.Millisecond), Loss: ptr(0.02)}},
			{At: 5 * time.Second, Link: "site-1/wan2", Dir: OutOnly, Set: Change{RateBps: ptr(int64(10_000_000)), QueueBytes: ptr(32768)}},
			{At: 10 * time.Second, Link: "site-2/wan1", Dir: InOnly, Set: Change{Burst: &GilbertElliott{P: 0.01, R: 0.25, LossBad: 1}, Reorder: ptr(0.01), Duplicate: ptr(0.005)}},
			{At: 20 * time.Second, Link: "site-1/wan1", Dir: Both, Set: Change{Down: ptr(true)}},
			{At: 30 * time.Second, Link: "site-1/wan1", Dir: Both, Set: Change{Reset: true}},
		},
	}
	jsonDoc := `{"name": "brownout", "repeat": "60s", "steps": [
		{"at": "20s", "link": "site-1/wan1", "set": {"down": true}},
		{"at": "30s", "link": "site-1/wan1", "dir": "both", "set": {"reset": true}},
		{"at": "0", "link": "site-1/wan1", "set": {"delay": "40ms", "jitter": "5ms", "loss": "2%"}},
		{"at": "5s", "link": "site-1/wan2", "dir": "out", "set": {"rate": "10mbit", "queue": 32768}},
		{"at": "10s", "link": "site-2/wan1", "dir": "in", "set": {"burst": {"p": "1%", "r": "25%", "lossBad": "100%"}, "reorder": "1%", "duplicate": "0.5%"}}
	]}`
	yamlDoc := `
name: brownout
repeat: 60s
steps:
  - at: 20s
    link: site-1/wan1
    set: {down: true}
  - at: 30s
    link: site-1/wan1
    dir: both
    set:
      reset: true
  - at: 0
    link: site-1/wan1
    set: {delay: 40ms, jitter: 5ms, loss: 2%}
  - at: 5s
    link: site-1/wan2
    dir: out
    set: {rate: 10mbit, queue: 32768}
  - at: 10s
    link: site-2/wan1
    dir: in
    set:
      burst: {p: 1%, r: 25%, lossBad: 100%}
      reorder: 1%
      duplicate: 0.5%
`
	for name, doc := range map[string]string{"json": jsonDoc, "yaml": yamlDoc} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseScenario([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scenario (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"site-1/wan1", "site-1/wan2", "site-2/wan1"}, want.Links()); diff != "" {
		t.Errorf("Links (-want +got):\n%s", diff)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	step := func(s string) string { return `{"steps": [` + s + `]}` }
	tests := []struct {
		name, doc, wantErr string
	}{
		{"empty", "  ", "scenario: empty"},
		{"no steps", `{"name": "x"}`, "scenario: steps: no steps"},
		{"not an object", `[1, 2]`, "scenario:"},
		{"unknown top field", `{"stpes": []}`, "scenario: stpes: unknown field"},
		{"trailing data", `{"steps": []} {}`, "unexpected data"},
		{"bad repeat", `{"repeat": "1 minute", "steps": []}`, "scenario: repeat:"},
		{"missing at", step(`{"link": "a/b", "set": {"down": true}}`), "steps[0].at: missing"},
		{"bad at", step(`{"at": "5", "link": "a/b", "set": {"down": true}}`), `steps[0].at: "5": want a duration`},
		{"negative at", step(`{"at": "-5s", "link": "a/b", "set": {"down": true}}`), "steps[0].at:"},
		{"missing link", step(`{"at": "1s", "set": {"down": true}}`), "steps[0].link: missing"},
		{"bad dir", step(`{"at": "1s", "link": "a/b", "dir": "up", "set": {"down": true}}`), "steps[0].dir:"},
		{"missing set", step(`{"at": "1s", "link": "a/b"}`), "steps[0].set: missing"},
		{"empty set", step(`{"at": "1s", "link": "a/b", "set": {}}`), "steps[0].set: changes nothing"},
		{"unknown step field", step(`{"at": "1s", "link": "a/b", "sett": {}}`), "steps[0].sett: unknown field"},
		{"unknown set field", step(`{"at": "1s", "link": "a/b", "set": {"dely": "4ms"}}`), "steps[0].set.dely: unknown field"},
		{"loss over 100%", step(`{"at": "1s", "link": "a/b", "set": {"loss": "120%"}}`), `steps[0].set.loss: "120%": want a percentage between 0% and 100%`},
		{"loss as a number", step(`{"at": "1s", "link": "a/b", "set": {"loss": 2}}`), `steps[0].set.loss: "2": want a percentage such as 2%`},
		{"delay as a bool", step(`{"at": "1s", "link": "a/b", "set": {"delay": true}}`), `steps[0].set.delay: "true": want a duration`},
		{"bad rate", step(`{"at": "1s", "link": "a/b", "set": {"rate": "10mbps"}}`), "steps[0].set.rate:"},
		{"bad queue", step(`{"at": "1s", "link": "a/b", "set": {"queue": "-1"}}`), "steps[0].set.queue:"},
		{"down as a string", step(`{"at": "1s", "link": "a/b", "set": {"down": "yes"}}`), "steps[0].set.down: want a boolean"},
		{"set not an object", step(`{"at": "1s", "link": "a/b", "set": [1]}`), "steps[0].set: want an object, not a JSON array"},
		{"step not an object", step(`1`), "steps[0]: want an object"},
		{"link not a string", step(`{"at": "1s", "link": 5, "set": {"down": true}}`), "steps[0].link: want a string, not a JSON number"},
		{"burst without r", step(`{"at": "1s", "link": "a/b", "set": {"burst": {"p": "1%", "lossBad": "100%"}}}`), "steps[0].set.burst.r: missing"},
		{"burst bad p", step(`{"at": "1s", "link": "a/b", "set": {"burst": {"p": "x", "r": "1%", "lossBad": "100%"}}}`), "steps[0].set.burst.p:"},
		{"second step", step(`{"at": "1s", "link": "a/b", "set": {"down": true}}, {"at": "2s", "link": "a/b", "set": {"jitter": "-1ms"}}`), "steps[1].set.jitter:"},
		{"step after repeat", `{"repeat": "10s", "steps": [{"at": "10s", "link": "a/b", "set": {"down": true}}]}`, "steps[0].at: 10s is not before repeat 10s"},
		{"bad yaml", "steps:\n  - at: [\n", "scenario: yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestChangeJSONRoundTrip(t *testing.T) {
	tests := []Change{
		{Delay: ptr(40 * time.Millisecond), Loss: ptr(0.02), EvenLoss: ptr(true)},
		{Reset: true, Down: ptr(false)},
		{Jitter: ptr(5 * time.Millisecond), RateBps: ptr(int64(1_500_000)), QueueBytes: ptr(1000), Reorder: ptr(0.1), Duplicate: ptr(0.001)},
		{Burst: &GilbertElliott{P: 0.01, R: 0.3, LossGood: 0.001, LossBad: 0.9}},
	}
	for _, c := range tests {
		t.Run(c.String(), func(t *testing.T) {
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var got Change
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if diff := cmp.Diff(c, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", b, diff)
			}
		})
	}
}

func TestChangeApplyTo(t *testing.T) {
	cur := Impairment{Delay: time.Second, Loss: 0.5, Burst: &GilbertElliott{P: 0.1, R: 0.1, LossBad: 1}}
	tests := []struct {
		name string
		c    Change
		want Impairment
	}{
		{"keeps what is unset", Change{Jitter: ptr(time.Millisecond)}, Impairment{Delay: time.Second, Jitter: time.Millisecond, Loss: 0.5, Burst: cur.Burst}},
		{"reset then set", Change{Reset: true, Down: ptr(true)}, Impairment{Down: true}},
		{"burst off", Change{Burst: &GilbertElliott{R: 1, LossBad: 1}}, Impairment{Delay: time.Second, Loss: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.c.ApplyTo(cur)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExampleScenariosParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.scenario.*")
	if len(files) == 0 {
		t.Fatal("no example scenarios in testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseScenario(b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func FuzzParseScenario(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.scenario.*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"steps": [{"at": "1s", "link": "a/b", "set": {"loss": "2%", "burst": {"p": "1%", "r": "2%", "lossBad": "50%"}}}]}`))
	f.Add([]byte("steps:\n  - {at: 0, link: x, set: {down: true}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(data)
		if err != nil {
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("ParseScenario accepted an invalid scenario: %v", err)
		}
		for i, st := range sc.Steps {
			if i > 0 && st.At < sc.Steps[i-1].At {
				t.Fatalf("steps out of order at %d", i)
			}
			// Every accepted change applies to a valid impairment.
			if err := st.Set.ApplyTo(Impairment{}).Validate(); err != nil {
				t.Fatalf("step %d makes an invalid impairment: %v", i, err)
			}
			// And survives its own JSON form.
			b, err := json.Marshal(st.Set)
			if err != nil {
				t.Fatal(err)
			}
			var back Change
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("step %d: %s does not read back: %v", i, b, err)
			}
		}
	})
}
