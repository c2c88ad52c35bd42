package wanem

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// maxScenarioSteps bounds a scenario, which is read from a file or an API
// request; a timeline longer than this is a mistake, not a plan.
const maxScenarioSteps = 10000

// Scenario is a timeline of impairment changes that the lab plays against
// its links. Its JSON form (YAML with the same fields is read too):
//
//	{"name": "brownout",
//	 "repeat": "60s",
//	 "steps": [
//	   {"at": "5s",  "link": "site-1/wan1", "dir": "both", "set": {"delay": "40ms", "loss": "2%"}},
//	   {"at": "20s", "link": "site-1/wan1", "set": {"down": true}},
//	   {"at": "30s", "link": "site-1/wan1", "set": {"reset": true}}]}
//
// "at" is the offset from the start of the play; "dir" is both (the
// default), out or in; "set" is a [Change]; "repeat", when given, plays the
// timeline again every repeat, and every step must then come before it.
type Scenario struct {
	Name   string
	Repeat time.Duration
	Steps  []Step // sorted by At; steps at the same time keep file order
}

// Step is one change of a scenario.
type Step struct {
	At   time.Duration
	Link string
	Dir  Directions
	Set  Change
}

type scenarioWire struct {
	Name   string            `json:"name"`
	Repeat *scalar           `json:"repeat"`
	Steps  []json.RawMessage `json:"steps"`
}

type stepWire struct {
	At   *scalar         `json:"at"`
	Link string          `json:"link"`
	Dir  string          `json:"dir"`
	Set  json.RawMessage `json:"set"`
}

// ParseScenario reads a scenario from JSON or YAML (a document whose first
// non-blank character is '{' is JSON) and validates it. Errors name the
// step and field at fault: `steps[2].set.loss: "120%": want a percentage
// between 0% and 100%`.
func ParseScenario(data []byte) (*Scenario, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("scenario: empty")
	}
	if trimmed[0] != '{' {
		j, err := yaml.YAMLToJSON(trimmed)
		if err != nil {
			return nil, fmt.Errorf("scenario: yaml: %w", err)
		}
		trimmed = j
	}
	var w scenarioWire
	if err := decodeStrict(trimmed, &w); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fmt.Errorf("scenario: %s: unknown field", strings.Trim(name, `"`))
		}
		return nil, fmt.Errorf("scenario: %w", err)
	}
	sc := &Scenario{Name: w.Name}
	if w.Repeat != nil {
		d, err := ParseDuration(string(*w.Repeat))
		if err != nil {
			return nil, fmt.Errorf("scenario: repeat: %w", err)
		}
		sc.Repeat = d
	}
	if len(w.Steps) == 0 {
		return nil, errors.New("scenario: steps: no steps")
	}
	if len(w.Steps) > maxScenarioSteps {
		return nil, fmt.Errorf("scenario: steps: %d steps, at most %d", len(w.Steps), maxScenarioSteps)
	}
	for i, raw := range w.Steps {
		st, err := parseStep(raw)
		if err != nil {
			return nil, fmt.Errorf("scenario: %w", at(fmt.Sprintf("steps[%d]", i), err))
		}
		sc.Steps = append(sc.Steps, st)
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(sc.Steps, func(a, b Step) int { return cmp.Compare(a.At, b.At) })
	return sc, nil
}

// fieldError is an error at a path inside a scenario ("steps[2].set.loss").
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// at prefixes the path of err with parent: at("steps[2]", "set.loss: ...")
// reads "steps[2].set.loss: ...". Errors that name no field get parent as
// their path.
func at(parent string, err error) error {
	if fe, ok := err.(*fieldError); ok {
		return &fieldError{path: parent + "." + fe.path, err: fe.err}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &fieldError{path: parent + "." + strings.Trim(name, `"`), err: errors.New("unknown field")}
	}
	if i := strings.Index(msg, ": "); i > 0 && !strings.ContainsAny(msg[:i], " \"") {
		return &fieldError{path: parent + "." + msg[:i], err: errors.New(msg[i+2:])}
	}
	return &fieldError{path: parent, err: errors.New(strings.TrimPrefix(msg, "json: "))}
}

func parseStep(raw json.RawMessage) (Step, error) {
	var w stepWire
	if err := decodeStrict(raw, &w); err != nil {
		return Step{}, err
	}
	var st Step
	if w.At == nil {
		return Step{}, errors.New("at: missing")
	}
	d, err := ParseDuration(string(*w.At))
	if err != nil {
		return Step{}, fmt.Errorf("at: %w", err)
	}
	st.At = d
	st.Link = strings.TrimSpace(w.Link)
	if st.Link == "" {
		return Step{}, errors.New("link: missing")
	}
	if st.Dir, err = ParseDirections(w.Dir); err != nil {
		return Step{}, fmt.Errorf("dir: %w", err)
	}
	if len(w.Set) == 0 {
		return Step{}, errors.New("set: missing")
	}
	if err := json.Unmarshal(w.Set, &st.Set); err != nil {
		return Step{}, at("set", cleanJSONError(err))
	}
	return st, nil
}

// Validate checks what ParseScenario cannot see step by step: that every
// step changes something, that every change is in range, and that the
// steps fit in the repeat period.
func (sc *Scenario) Validate() error {
	if len(sc.Steps) == 0 {
		return errors.New("scenario: steps: no steps")
	}
	for i, st := range sc.Steps {
		if st.Link == "" {
			return fmt.Errorf("scenario: steps[%d].link: missing", i)
		}
		if st.At < 0 {
			return fmt.Errorf("scenario: steps[%d].at: %v is negative", i, st.At)
		}
		if st.Set.IsEmpty() {
			return fmt.Errorf("scenario: steps[%d].set: changes nothing", i)
		}
		if err := st.Set.Validate(); err != nil {
			return fmt.Errorf("scenario: steps[%d].set.%w", i, err)
		}
		if sc.Repeat > 0 && st.At >= sc.Repeat {
			return fmt.Errorf("scenario: steps[%d].at: %v is not before repeat %v", i, st.At, sc.Repeat)
		}
	}
	return nil
}

// Links returns the names of the links the scenario changes, sorted.
func (sc *Scenario) Links() []string {
	var names []string
	for _, st := range sc.Steps {
		names = append(names, st.Link)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
