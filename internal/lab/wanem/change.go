package wanem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Change is a partial impairment: the fields it sets replace those of the
// current impairment and the others stay. The lab's impair control and
// each scenario step carry one. Its JSON form uses the CLI's units:
//
//	{"reset": true, "delay": "40ms", "jitter": "5ms", "loss": "2%", "evenLoss": true,
//	 "burst": {"p": "1%", "r": "25%", "lossGood": "0%", "lossBad": "100%"},
//	 "rate": "10mbit", "queue": 65536, "reorder": "1%", "duplicate": "0.5%",
//	 "down": true}
//
// A burst whose p and lossGood are both zero can never lose a packet and
// turns bursty loss off.
type Change struct {
	// Reset starts from the zero impairment instead of the current one.
	Reset      bool
	Delay      *time.Duration
	Jitter     *time.Duration
	Loss       *float64
	EvenLoss   *bool
	Burst      *GilbertElliott
	RateBps    *int64
	QueueBytes *int
	Reorder    *float64
	Duplicate  *float64
	Down       *bool
}

// IsEmpty reports whether c changes nothing.
func (c Change) IsEmpty() bool {
	return c == Change{}
}

// ApplyTo returns imp with c's fields applied.
func (c Change) ApplyTo(imp Impairment) Impairment {
	if c.Reset {
		imp = Impairment{}
	}
	if c.Delay != nil {
		imp.Delay = *c.Delay
	}
	if c.Jitter != nil {
		imp.Jitter = *c.Jitter
	}
	if c.Loss != nil {
		imp.Loss = *c.Loss
	}
	if c.EvenLoss != nil {
		imp.EvenLoss = *c.EvenLoss
	}
	if c.Burst != nil {
		if c.Burst.P == 0 && c.Burst.LossGood == 0 {
			imp.Burst = nil
		} else {
			b := *c.Burst
			imp.Burst = &b
		}
	}
	if c.RateBps != nil {
		imp.RateBps = *c.RateBps
	}
	if c.QueueBytes != nil {
		imp.QueueBytes = *c.QueueBytes
	}
	if c.Reorder != nil {
		imp.Reorder = *c.Reorder
	}
	if c.Duplicate != nil {
		imp.Duplicate = *c.Duplicate
	}
	if c.Down != nil {
		imp.Down = *c.Down
	}
	return imp
}

// Validate reports the first field of c that is out of range, naming it.
// Every field is checked on its own, so applying a valid change to a valid
// impairment gives a valid impairment.
func (c Change) Validate() error {
	var probe Impairment
	if c.Delay != nil {
		probe.Delay = *c.Delay
	}
	if c.Jitter != nil {
		probe.Jitter = *c.Jitter
	}
	if c.Loss != nil {
		probe.Loss = *c.Loss
	}
	probe.Burst = c.Burst
	if c.RateBps != nil {
		probe.RateBps = *c.RateBps
	}
	if c.QueueBytes != nil {
		probe.QueueBytes = *c.QueueBytes
	}
	if c.Reorder != nil {
		probe.Reorder = *c.Reorder
	}
	if c.Duplicate != nil {
		probe.Duplicate = *c.Duplicate
	}
	return probe.Validate()
}

// String describes the change in the units of its JSON form.
func (c Change) String() string {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Sprintf("%#v", c)
	}
	return string(b)
}

// scalar is a JSON string or number kept as its text, so that YAML's
// untyped scalars (delay: 40ms, queue: 65536, at: 0) decode the same way as
// JSON strings, and the unit parsers give the error.
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = scalar(str)
		return nil
	}
	// A number, or a value of the wrong kind that the field's parser will
	// refuse with the field's name.
	*s = scalar(b)
	return nil
}

type burstWire struct {
	P        *scalar `json:"p"`
	R        *scalar `json:"r"`
	LossGood *scalar `json:"lossGood"`
	LossBad  *scalar `json:"lossBad"`
}

type changeWire struct {
	Reset     bool       `json:"reset,omitempty"`
	Delay     *scalar    `json:"delay,omitempty"`
	Jitter    *scalar    `json:"jitter,omitempty"`
	Loss      *scalar    `json:"loss,omitempty"`
	EvenLoss  *bool      `json:"evenLoss,omitempty"`
	Burst     *burstWire `json:"burst,omitempty"`
	Rate      *scalar    `json:"rate,omitempty"`
	Queue     *scalar    `json:"queue,omitempty"`
	Reorder   *scalar    `json:"reorder,omitempty"`
	Duplicate *scalar    `json:"duplicate,omitempty"`
	Down      *bool      `json:"down,omitempty"`
}

// UnmarshalJSON reads the form shown on Change, refusing unknown fields and
// naming the field at fault ("loss: \"120%\": want a percentage between 0%
// and 100%").
func (c *Change) UnmarshalJSON(b []byte) error {
	var w changeWire
	if err := decodeStrict(b, &w); err != nil {
		return err
	}
	var out Change
	var err error
	out.Reset = w.Reset
	out.Down = w.Down
	out.EvenLoss = w.EvenLoss
	if out.Delay, err = optional(w.Delay, "delay", ParseDuration); err != nil {
		return err
	}
	if out.Jitter, err = optional(w.Jitter, "jitter", ParseDuration); err != nil {
		return err
	}
	if out.Loss, err = optional(w.Loss, "loss", ParsePercent); err != nil {
		return err
	}
	if out.RateBps, err = optional(w.Rate, "rate", ParseRate); err != nil {
		return err
	}
	if out.QueueBytes, err = optional(w.Queue, "queue", parseQueue); err != nil {
		return err
	}
	if out.Reorder, err = optional(w.Reorder, "reorder", ParsePercent); err != nil {
		return err
	}
	if out.Duplicate, err = optional(w.Duplicate, "duplicate", ParsePercent); err != nil {
		return err
	}
	if bw := w.Burst; bw != nil {
		var ge GilbertElliott
		for _, f := range []struct {
			name string
			s    *scalar
			dst  *float64
		}{{"p", bw.P, &ge.P}, {"r", bw.R, &ge.R}, {"lossGood", bw.LossGood, &ge.LossGood}, {"lossBad", bw.LossBad, &ge.LossBad}} {
			v, err := optional(f.s, "burst."+f.name, ParsePercent)
			if err != nil {
				return err
			}
			if v == nil {
				if f.name == "p" || f.name == "r" || f.name == "lossBad" {
					return fmt.Errorf("burst.%s: missing", f.name)
				}
				continue // lossGood defaults to 0%
			}
			*f.dst = *v
		}
		out.Burst = &ge
	}
	*c = out
	return nil
}

// MarshalJSON writes the form UnmarshalJSON reads.
func (c Change) MarshalJSON() ([]byte, error) {
	var w changeWire
	w.Reset = c.Reset
	w.Down = c.Down
	w.EvenLoss = c.EvenLoss
	text := func(s string) *scalar { v := scalar(s); return &v }
	if c.Delay != nil {
		w.Delay = text(c.Delay.String())
	}
	if c.Jitter != nil {
		w.Jitter = text(c.Jitter.String())
	}
	if c.Loss != nil {
		w.Loss = text(FormatPercent(*c.Loss))
	}
	if c.RateBps != nil {
		w.Rate = text(FormatRate(*c.RateBps))
	}
	if c.QueueBytes != nil {
		w.Queue = text(strconv.Itoa(*c.QueueBytes))
	}
	if c.Reorder != nil {
		w.Reorder = text(FormatPercent(*c.Reorder))
	}
	if c.Duplicate != nil {
		w.Duplicate = text(FormatPercent(*c.Duplicate))
	}
	if b := c.Burst; b != nil {
		w.Burst = &burstWire{
			P: text(FormatPercent(b.P)), R: text(FormatPercent(b.R)),
			LossGood: text(FormatPercent(b.LossGood)), LossBad: text(FormatPercent(b.LossBad)),
		}
	}
	return json.Marshal(w)
}

func parseQueue(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want a queue size in bytes such as 65536", s)
	}
	return n, nil
}

// optional parses s when it is present, prefixing errors with the field
// name.
func optional[T any](s *scalar, field string, parse func(string) (T, error)) (*T, error) {
	if s == nil {
		return nil, nil
	}
	v, err := parse(string(*s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &v, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	if dec.More() {
		return errors.New("unexpected data after the value")
	}
	return nil
}

// cleanJSONError drops encoding/json's Go type names, which mean nothing
// to someone writing a scenario file.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Errorf("%s: want a%s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Errorf("want a%s, not a JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err
}

func jsonKind(goKind string) string {
	switch goKind {
	case "bool":
		return " boolean"
	case "struct", "map":
		return "n object"
	case "slice", "array":
		return " list"
	case "string":
		return " string"
	}
	return " " + goKind
}
