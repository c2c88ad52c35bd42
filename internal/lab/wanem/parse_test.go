package wanem

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "40ms", want: 40 * time.Millisecond},
		{in: " 1.5s ", want: 1500 * time.Millisecond},
		{in: "0", want: 0},
		{in: "250us", want: 250 * time.Microsecond},
		{in: "-5ms", wantErr: "negative"},
		{in: "40", wantErr: "want a duration"},
		{in: "", wantErr: "want a duration"},
		{in: "fast", wantErr: "want a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			checkParse(t, got, tt.want, err, tt.wantErr)
		})
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{in: "2%", want: 0.02},
		{in: "0%", want: 0},
		{in: "100%", want: 1},
		{in: " 0.5 % ", want: 0.005},
		{in: "1e1%", want: 0.1},
		{in: "2", wantErr: "want a percentage such as 2%"},
		{in: "0.02", wantErr: "want a percentage such as 2%"},
		{in: "%", wantErr: "want a percentage"},
		{in: "120%", wantErr: "between 0% and 100%"},
		{in: "-1%", wantErr: "between 0% and 100%"},
		{in: "NaN%", wantErr: "want a percentage"},
		{in: "Inf%", wantErr: "want a percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePercent(tt.in)
			checkParse(t, got, tt.want, err, tt.wantErr)
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "10mbit", want: 10_000_000},
		{in: "10Mbit/s", want: 10_000_000},
		{in: "1.5gbit", want: 1_500_000_000},
		{in: "64kbit", want: 64_000},
		{in: "300bit", want: 300},
		{in: "2tbit", want: 2_000_000_000_000},
		{in: "0", want: 0},
		{in: "unlimited", want: 0},
		{in: "none", want: 0},
		{in: "0mbit", want: 0},
		{in: "10", wantErr: "want a rate such as 10mbit"},
		{in: "10mbps", wantErr: "want a rate such as 10mbit"},
		{in: "mbit", wantErr: "want a rate"},
		{in: "-1mbit", wantErr: "negative"},
		{in: "0.1bit", wantErr: "below 1 bit/s"},
		{in: "1e10tbit", wantErr: "too large"},
		{in: "1001tbit", wantErr: "too large"},
		{in: "1000tbit", want: MaxRateBps},
		{in: "NaNmbit", wantErr: "want a rate"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			checkParse(t, got, tt.want, err, tt.wantErr)
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, bps := range []int64{0, 1, 999, 1000, 1500, 64_000, 10_000_000, 1_234_567, 2_000_000_000_000, MaxRateBps} {
		s := FormatRate(bps)
		got, err := ParseRate(s)
		if err != nil || got != bps {
			t.Errorf("ParseRate(FormatRate(%d) = %q) = %d, %v", bps, s, got, err)
		}
	}
	for _, p := range []float64{0, 0.01, 0.02, 0.05, 0.2, 1, 1e-9} {
		s := FormatPercent(p)
		got, err := ParsePercent(s)
		if err != nil || math.Abs(got-p) > 1e-12 {
			t.Errorf("ParsePercent(FormatPercent(%v) = %q) = %v, %v", p, s, got, err)
		}
	}
}

func checkParse[T comparable](t *testing.T, got, want T, err error, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("got %v, err %v; want error containing %q", got, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10mbit", "1.5gbit/s", "0", "unlimited", "64kbit", "1e3bit", "-1mbit", "9.3e18bit", "0x10mbit"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bps, err := ParseRate(s)
		if err != nil {
			return
		}
		if bps < 0 {
			t.Fatalf("ParseRate(%q) = %d, negative", s, bps)
		}
		again, err := ParseRate(FormatRate(bps))
		if err != nil || again != bps {
			t.Fatalf("ParseRate(%q) = %d, which formats as %q and reads back as %d, %v", s, bps, FormatRate(bps), again, err)
		}
	})
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"2%", "0%", "100%", "0.5 %", "1e-3%", "120%", "2", "NaN%", "-0%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePercent(s)
		if err != nil {
			return
		}
		if checkProbability(p) != nil {
			t.Fatalf("ParsePercent(%q) = %v, not a probability", s, p)
		}
		again, err := ParsePercent(FormatPercent(p))
		if err != nil || math.Abs(again-p) > 1e-9 {
			t.Fatalf("ParsePercent(%q) = %v, reads back as %v, %v", s, p, again, err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"40ms", "0", "1.5s", "-1s", "1h2m", "9999999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
	})
}
