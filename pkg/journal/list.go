package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Summary describes one incident for a list.
type Summary struct {
	// Incident is the incident id.
	Incident string `json:"incident"`
	// App is the application (Inputs["app"] of incident.opened).
	App string `json:"app,omitempty"`
	// Actor opened the incident.
	Actor string `json:"actor,omitempty"`
	// Status is "open", or the Result of incident.closed (ok, failed).
	Status string `json:"status"`
	// Opened is when the first entry was written.
	Opened time.Time `json:"opened,omitzero"`
	// Closed is when incident.closed was written; zero while open.
	Closed time.Time `json:"closed,omitzero"`
	// Entries counts the entries.
	Entries int `json:"entries"`
}

// Summarize returns the Summary of one incident's entries.
func Summarize(incident string, entries []Entry) Summary {
	s := Summary{Incident: incident, Status: "open", Entries: len(entries)}
	for i, e := range entries {
		if i == 0 {
			s.Opened, s.Actor = e.Time, e.Actor
		}
		switch e.Action {
		case ActionIncidentOpened:
			s.Opened, s.Actor = e.Time, e.Actor
			if app, ok := e.Inputs["app"].(string); ok {
				s.App = app
			}
		case ActionIncidentClosed:
			s.Closed = e.Time
			s.Status = e.Result
			if s.Status == "" {
				s.Status = "closed"
			}
		}
	}
	return s
}

// List summarizes every journal in dir (DefaultDir() when empty), newest first.
// A missing directory is an empty list.
func List(dir string) ([]Summary, error) {
	if dir == "" {
		dir = DefaultDir()
	}
	files, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list journals: %w", err)
	}
	var out []Summary
	for _, id := range journalIDs(files) {
		entries, err := readFile(filepath.Join(dir, id+".jsonl"))
		if err != nil {
			return nil, fmt.Errorf("list journals: %w", err)
		}
		out = append(out, Summarize(id, entries))
	}
	sortNewestFirst(out)
	return out, nil
}

func sortNewestFirst(s []Summary) {
	sort.SliceStable(s, func(i, j int) bool {
		if !s[i].Opened.Equal(s[j].Opened) {
			return s[i].Opened.After(s[j].Opened)
		}
		return s[i].Incident > s[j].Incident
	})
}
