package client

import (
	"slices"
	"testing"
)

func TestCandidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		listed []edgeNode
		seeds  []string
		want   []string
	}{
		{"no list: the seeds", nil, []string{"http://a", "http://b"}, []string{"http://a", "http://b"}},
		{"listed first, then seeds not listed", []edgeNode{{URL: "http://c"}, {URL: "http://a"}}, []string{"http://a", "http://b"}, []string{"http://c", "http://a", "http://b"}},
		{"listed without a URL: only its seed", []edgeNode{{Node: "a"}}, []string{"http://a"}, []string{"http://a"}},
		{"duplicates once", []edgeNode{{URL: "http://c"}, {URL: "http://c"}}, []string{"http://c"}, []string{"http://c"}},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range candidates(tt.listed, tt.seeds) {
			got = append(got, n.URL)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: candidates = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	type out struct {
		url      string
		draining bool
	}
	tests := []struct {
		name    string
		results []probeResult
		listed  []edgeNode
		want    []out
	}{
		{"nothing to merge",
			[]probeResult{{URL: "http://a"}, {URL: "http://b"}}, nil,
			[]out{{"http://a", false}, {"http://b", false}}},
		{"one node at two URLs: the first kept",
			[]probeResult{{URL: "http://public", ID: "n1"}, {URL: "http://seed", ID: "n1"}, {URL: "http://b", ID: "n2"}}, nil,
			[]out{{"http://public", false}, {"http://b", false}}},
		{"draining by id, though listed without a URL",
			[]probeResult{{URL: "http://seed", ID: "n1"}, {URL: "http://b", ID: "n2"}}, []edgeNode{{Node: "n1", Draining: true}, {Node: "n2", URL: "http://b"}},
			[]out{{"http://seed", true}, {"http://b", false}}},
		{"a duplicate's draining carries over",
			[]probeResult{{URL: "http://public", ID: "n1"}, {URL: "http://seed", ID: "n1", Draining: true}}, nil,
			[]out{{"http://public", true}}},
		{"no id: never merged",
			[]probeResult{{URL: "http://a"}, {URL: "http://b"}}, []edgeNode{{Node: "x", Draining: true}},
			[]out{{"http://a", false}, {"http://b", false}}},
	}
	for _, tt := range tests {
		var got []out
		for _, r := range merge(tt.results, tt.listed) {
			got = append(got, out{r.URL, r.Draining})
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: merge = %v, want %v", tt.name, got, tt.want)
		}
	}
}
