package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wsgate/wsgate/client"
)

// nodesUsage is wsgate nodes --help's head; the flags follow it.
const nodesUsage = `Usage: wsgate nodes [flags] URL [URL…]

Finds the nodes of the cluster the URLs (seeds: base URLs of nodes) belong
to and times each one as the Go client does before it connects: GET
/edge/nodes from the seeds, then GET /edge/ping on every node, several
times in parallel. Prints the nodes in the order a client here would try
them (node, region, url, median round trip, connections, draining) and the
node it would choose.

Flags:
`

// nodesReport is wsgate nodes --json's output.
type nodesReport struct {
	Nodes  []nodeRow `json:"nodes"`
	Choice string    `json:"choice"` // the chosen node's id (its URL when it has none); "" when none
}

// nodeRow is one node of nodesReport.
type nodeRow struct {
	Node     string   `json:"node"`
	Region   string   `json:"region"`
	URL      string   `json:"url"`
	RTTMS    *float64 `json:"rtt_ms"` // null when no probe answered
	Conns    int      `json:"conns"`
	Draining bool     `json:"draining"`
}

// runNodes is "wsgate nodes …". args follow the word "nodes".
func runNodes(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("wsgate nodes", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, `print one JSON object: {"nodes":[{"node","region","url","rtt_ms","conns","draining"}…],"choice":"<node id>"}`)
	probes := fs.Int("probes", 3, "probes per node")
	timeout := fs.Duration("timeout", 5*time.Second, "how long the probes may take in all")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, nodesUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	} else if err != nil {
		return &usageError{err: fmt.Errorf("wsgate nodes: %w", flagErrorText(err)), help: "wsgate nodes"}
	}
	if fs.NArg() == 0 {
		return &usageError{err: errors.New("wsgate nodes: want at least one URL of a node"), help: "wsgate nodes"}
	}
	if *probes < 1 || *timeout <= 0 {
		return &usageError{err: errors.New("wsgate nodes: --probes and --timeout must be above 0"), help: "wsgate nodes"}
	}
	nodes, choice, err := client.Survey(ctx, fs.Args(), client.Options{Probes: *probes, ProbeTimeout: *timeout})
	if err != nil {
		return fmt.Errorf("wsgate nodes: %w", err)
	}
	rep := nodesReport{Nodes: make([]nodeRow, 0, len(nodes))}
	for _, n := range nodes {
		row := nodeRow{Node: n.ID, Region: n.Region, URL: n.URL, Conns: n.Conns, Draining: n.Draining}
		if n.Answered {
			ms := math.Round(float64(n.RTT)/float64(time.Microsecond)) / 1000
			row.RTTMS = &ms
		}
		if n.URL == choice {
			rep.Choice = n.ID
			if rep.Choice == "" {
				rep.Choice = n.URL
			}
		}
		rep.Nodes = append(rep.Nodes, row)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(rep)
	}
	return writeNodesTable(stdout, rep)
}

// writeNodesTable prints rep for a person.
func writeNodesTable(w io.Writer, rep nodesReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tREGION\tURL\tRTT\tCONNS\tDRAINING")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, n := range rep.Nodes {
		rtt := "no answer"
		if n.RTTMS != nil {
			rtt = fmt.Sprintf("%.1f ms", *n.RTTMS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%v\n", dash(n.Node), dash(n.Region), n.URL, rtt, n.Conns, n.Draining)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Choice == "" {
		_, err := fmt.Fprintln(w, "\nno node answered: a client here would try them in this order")
		return err
	}
	_, err := fmt.Fprintf(w, "\na client here would connect to %s\n", rep.Choice)
	return err
}

// flagErrorText rewords an error of FlagSet.Parse as wsgate's errors read.
func flagErrorText(err error) error {
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		return fmt.Errorf("unknown flag --%s", name)
	}
	return err
}
