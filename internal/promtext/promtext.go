// Package promtext reads the samples of a Prometheus text exposition
// (what /metrics serves): the load tool reads wsgate's cache counters
// with it, and tests read the server's metrics. It reads values only:
// comments (HELP, TYPE) are skipped and timestamps ignored.
package promtext

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxLine bounds one line of the exposition, in bytes.
const maxLine = 1 << 20

// Parse returns every sample of r by its name and labels as printed, such
// as `wsgate_frames_sent_total{encoding="deflate"}`. A sample line whose
// value is not a number is an error.
func Parse(r io.Reader) (map[string]float64, error) {
	samples := make(map[string]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := cutSample(line)
		if !ok {
			return nil, fmt.Errorf("promtext: line %d: no value: %q", n, line)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("promtext: line %d: %s: bad value %q", n, name, value)
		}
		samples[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("promtext: %w", err)
	}
	return samples, nil
}

// cutSample splits a sample line into its name with labels and its
// value, dropping a timestamp. Label values may hold spaces: the name
// ends at the '}' closing its labels.
func cutSample(line string) (name, value string, ok bool) {
	end := strings.IndexAny(line, "{ \t")
	if end < 0 {
		return "", "", false
	}
	if line[end] == '{' {
		close := strings.LastIndexByte(line, '}')
		if close < end {
			return "", "", false
		}
		end = close + 1
	}
	fields := strings.Fields(line[end:])
	if len(fields) == 0 || len(fields) > 2 {
		return "", "", false
	}
	return line[:end], fields[0], true
}
