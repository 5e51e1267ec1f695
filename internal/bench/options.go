package bench

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds on one run, so a typo cannot start an unbounded load.
const (
	// MaxConns is the most connections one run opens. One process holds
	// at most its open-file limit anyway (often 20,000 here).
	MaxConns = 100_000
	// MaxDuration bounds the measured window and the warmup, each.
	MaxDuration = time.Hour
	// MaxInflight bounds --inflight, the messages pipelined on one
	// connection.
	MaxInflight = 1000
	// MaxSize bounds --size, the payload of one message in bytes.
	MaxSize = 16 << 20
	// MaxRate bounds --rate, publications per second for fanout.
	MaxRate = 1_000_000
	// MaxChannels bounds --channels of pub.
	MaxChannels = 10_000_000
)

// Command is a subcommand of wsgate bench.
type Command uint8

const (
	CmdConns    Command = iota + 1 // hold idle connections
	CmdEcho                        // echo load with verification
	CmdCall                        // calls on /ws
	CmdFanout                      // subscribers and a publisher on /ws
	CmdPub                         // publishers on /ws, over many channels
	CmdFailover                    // Go clients moving off a node that dies or drains
)

// String returns the subcommand's name as typed ("echo") or "Command(N)".
func (c Command) String() string {
	switch c {
	case CmdConns:
		return "conns"
	case CmdEcho:
		return "echo"
	case CmdCall:
		return "call"
	case CmdFanout:
		return "fanout"
	case CmdPub:
		return "pub"
	case CmdFailover:
		return "failover"
	}
	return fmt.Sprintf("Command(%d)", uint8(c))
}

// parseCommand maps a typed name to a Command.
func parseCommand(s string) (Command, bool) {
	for _, c := range commands {
		if c.String() == s {
			return c, true
		}
	}
	return 0, false
}

// Options are the settings of one run, after flag parsing and checks.
type Options struct {
	Cmd Command

	// Common to every subcommand.
	URL         string        // --url as given: one ws:// target, or several separated by commas
	URLs        []string      // URL split by check; connection i goes to URLs[i % len(URLs)]
	Conns       int           // connections (subscribers for fanout)
	Duration    time.Duration // measured window (hold time for conns)
	Warmup      time.Duration // load before the window; conns: settle time before it
	JSON        bool          // one JSON object on stdout instead of text
	ServerPIDs  []int         // --server-pid: the servers behind URLs, in order; none: no server statistics
	AllowRemote bool          // accept targets outside 127.0.0.0/8 and ::1
	Quiet       bool          // no progress line on stderr
	Deflate     bool          // offer permessage-deflate and compress what is sent

	DialConcurrency int           // handshakes in flight during the storm
	DialTimeout     time.Duration // one TCP connect plus handshake
	SourceIPs       int           // spread over 127.0.0.1..127.0.0.N; 0 or 1: no binding

	// conns: connection counts at which to pause, let the server settle
	// for --warmup and sample it, before going on to Conns; ascending,
	// each below Conns.
	Steps []int

	// echo and call.
	Inflight int // messages or calls in flight per connection
	// WriteEach writes every message with a write of its own, as a
	// browser does, instead of the messages due at once in one write.
	WriteEach bool

	// echo.
	Size    int     // payload bytes
	Payload Payload // what the messages carry (--payload; --text is --payload text)

	// call.
	Method string          // method name
	Args   json.RawMessage // raw JSON args; nil sends none
	// MissRatio is the fraction of calls, 0 to 1, whose args get a unique
	// "nonce" member so that they miss the cache. Args must be an object
	// (or none) when it is above 0.
	MissRatio float64
	// MetricsURL is where the target's cache counters are read, before
	// and after the window; "" derives http://HOST:PORT/metrics from URL.
	MetricsURL string

	// fanout.
	Channel string // channel the subscribers join (pub: the channels' prefix)
	// pub.
	Channels int     // channels the publications are spread over, in turn
	Rate     float64 // publications per second
	APIKey   string  // publish through POST /api/publish with this key; empty: pub on /ws

	// fanout's drop mode, on when DropEvery is above 0: the subscribers
	// are Go clients whose network is cut for DropFor every DropEvery,
	// both spread by the fraction DropJitter; BackoffMax is their
	// Options.BackoffMax (0: the client's default).
	DropEvery  time.Duration
	DropFor    time.Duration
	DropJitter float64
	BackoffMax time.Duration

	// failover. URLs are the seeds of the Go clients, as base URLs
	// (http://HOST:PORT; a ws:// URL and a /ws path are accepted).
	// ReadyFile, when set, is written with the base URL of the node
	// holding the most clients once every client receives publications:
	// the sign for a script to kill or drain that node.
	ReadyFile string
}

// defaults per subcommand: URL path and connection count.
func defaultURL(c Command) string {
	if c == CmdFailover {
		return "http://127.0.0.1:8080"
	}
	if c == CmdCall || c == CmdFanout || c == CmdPub {
		return "ws://127.0.0.1:8080/ws"
	}
	return "ws://127.0.0.1:8080/echo"
}

func defaultConns(c Command) int {
	switch c {
	case CmdConns, CmdFanout, CmdFailover:
		return 1000
	}
	return 100
}

// usage is the head of wsgate bench --help; the flags follow it.
const usage = `Usage: wsgate bench <conns|echo|call|fanout|pub|failover> [flags]
       wsgate bench SUB --help   the flags of one subcommand only

Load for any WebSocket server on this machine (loopback only unless
--allow-remote). Every run: connect, warm up, measure for --duration, report.

  conns   open and hold --conns idle connections; handshakes/s of the storm,
          with --server-pid the server's RSS growth per connection (also
          at each of --steps on the way)
  echo    --conns connections × messages of --size bytes to an echo endpoint,
          closed loop or --inflight K pipelined; every reply is verified
  call    {"id":n,"call":--method,"args":--args} on wsgate's /ws; error codes,
          and the server's cache hit ratio from its /metrics; --miss-ratio F
          sends a fraction F of calls with a unique "nonce" in args to miss
  fanout  --conns subscribers on --channel, a publisher at --rate per second
          (POST /api/publish with --api-key, else pub on /ws); delivery latency.
          --drop-every D --drop-for F: Go clients whose connections are reset
          (RST) every D (±20 %) and kept off for F; delivered %, duplicates,
          out of order, gaps, replay and catch-up p50/p99
  pub     --conns publishers, --inflight K pubs each, spread over --channels
          channels PREFIX.0…N-1 in turn; publications acknowledged per second
          (each numbered and stored by the broker) and the acknowledgement time
  failover --conns Go clients (package client, default options, --url the
          seeds) subscribe to --channel, a Go client publishes at --rate;
          kill or drain a node meanwhile: clients moved, first disconnect to
          each one's new connection and resumed delivery (p50/p99/max),
          publications lost, duplicated or out of order, clients per node
          before and after
`

// commands are the subcommands in the order help lists them.
var commands = []Command{CmdConns, CmdEcho, CmdCall, CmdFanout, CmdPub, CmdFailover}

// usageError is a mistake in the arguments, such as an unknown flag or
// subcommand: the command line shows it with a pointer to the help of
// HelpCommand, which lists what is accepted.
type usageError struct {
	err  error
	help string // "wsgate bench" or "wsgate bench echo"
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// HelpCommand is the command whose --help lists what was mistyped.
func (e *usageError) HelpCommand() string { return e.help }

// flagError turns an error of FlagSet.Parse into a usageError that reads
// as the rest of the package's errors do.
func flagError(err error, help string) error {
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		err = fmt.Errorf("unknown flag --%s", name)
	}
	return &usageError{err: fmt.Errorf("bench: %w", err), help: help}
}

// printHelp writes wsgate bench --help to w: the subcommands, the flags
// they all take, then each one's own flags.
func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintf(w, "\nFlags of every subcommand:\n")
	common := flag.NewFlagSet("", flag.ContinueOnError)
	common.SetOutput(w)
	addCommonFlags(common, CmdEcho, &Options{})
	common.PrintDefaults()
	for _, c := range commands {
		own := flag.NewFlagSet("", flag.ContinueOnError)
		own.SetOutput(w)
		addCommandFlags(own, c, &Options{}, &rawFlags{})
		fmt.Fprintf(w, "\nFlags of %s only:\n", c)
		own.PrintDefaults()
	}
}

// parseArgs parses "wsgate bench" arguments: a subcommand, then flags.
// It returns flag.ErrHelp after printing help to stdout when asked.
func parseArgs(args []string, stdout io.Writer) (Options, error) {
	if len(args) == 0 {
		return Options{}, &usageError{err: errors.New("bench: missing subcommand: conns, echo, call, fanout, pub or failover"), help: "wsgate bench"}
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		printHelp(stdout)
		return Options{}, flag.ErrHelp
	}
	cmd, ok := parseCommand(args[0])
	if !ok {
		return Options{}, &usageError{err: fmt.Errorf("bench: unknown subcommand %q: want conns, echo, call, fanout, pub or failover", args[0]), help: "wsgate bench"}
	}
	o := Options{Cmd: cmd}
	var raw rawFlags
	fs := flag.NewFlagSet("wsgate bench "+cmd.String(), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, help is printed below
	addCommonFlags(fs, cmd, &o)
	addCommandFlags(fs, cmd, &o, &raw)
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage: wsgate bench %s [flags]\n\nFlags:\n", cmd)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return o, err
	} else if err != nil {
		return o, flagError(err, fs.Name())
	}
	if fs.NArg() > 0 {
		return o, &usageError{err: fmt.Errorf("bench: unexpected argument %q", fs.Arg(0)), help: fs.Name()}
	}
	if raw.args != "" {
		if !json.Valid([]byte(raw.args)) {
			return o, fmt.Errorf("bench: --args %q is not valid JSON", raw.args)
		}
		o.Args = json.RawMessage(raw.args)
	}
	if raw.steps != "" {
		for _, f := range strings.Split(raw.steps, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return o, fmt.Errorf("bench: --steps %q: want counts like 1000,10000", raw.steps)
			}
			o.Steps = append(o.Steps, n)
		}
	}
	return o, o.check()
}

// rawFlags are flag values checked and converted after parsing.
type rawFlags struct {
	args  string // call --args
	steps string // conns --steps
}

// addCommonFlags registers the flags every subcommand takes; cmd picks
// the defaults of --url and --conns.
func addCommonFlags(fs *flag.FlagSet, cmd Command, o *Options) {
	fs.StringVar(&o.URL, "url", defaultURL(cmd), "target WebSocket URL, or several separated by commas (connections are spread over them in turn; fanout's publisher uses the first); conns and echo default to ws://127.0.0.1:8080/echo, call, fanout and pub to ws://127.0.0.1:8080/ws; failover takes base URLs of nodes, the Go clients' seeds, default http://127.0.0.1:8080")
	fs.IntVar(&o.Conns, "conns", defaultConns(cmd), "connections (fanout: subscribers; pub: publishers); echo, call and pub default to 100, conns, fanout and failover to 1000")
	duration := 10 * time.Second
	if cmd == CmdFailover {
		duration = time.Minute // an operator's time to kill or drain a node
	}
	fs.DurationVar(&o.Duration, "duration", duration, "measured window (conns: how long to hold; failover: the longest wait, from the moment every client receives publications, ended 3 s after every client that lost its connection has resumed)")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "load before the measured window (conns: settle time)")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object on stdout instead of the text summary")
	fs.Func("server-pid", "report this process's CPU (user+sys) and RSS from /proc; several, separated by commas, are the servers behind --url's targets, in order (CPU per message on each: its share of the connections)", func(v string) error {
		o.ServerPIDs = o.ServerPIDs[:0]
		for _, f := range strings.Split(v, ",") {
			pid, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || pid < 1 {
				return fmt.Errorf("want process ids, not %q", f)
			}
			o.ServerPIDs = append(o.ServerPIDs, pid)
		}
		return nil
	})
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow targets outside the loopback range")
	fs.BoolVar(&o.Quiet, "quiet", false, "no progress line on stderr")
	fs.BoolVar(&o.Deflate, "deflate", false, "offer permessage-deflate (RFC 7692), send messages compressed and fail when the server declines")
	fs.IntVar(&o.DialConcurrency, "dial-concurrency", 64, "handshakes in flight while connecting")
	fs.DurationVar(&o.DialTimeout, "dial-timeout", 10*time.Second, "timeout of one connect and handshake")
	fs.IntVar(&o.SourceIPs, "source-ips", 8, "spread connections over source addresses 127.0.0.1..127.0.0.N (127.x targets)")
}

// addCommandFlags registers the flags of cmd alone.
func addCommandFlags(fs *flag.FlagSet, cmd Command, o *Options, raw *rawFlags) {
	const writeEach = "write each message with its own system call, as browsers do (default: the messages due at once go out in one write)"
	switch cmd {
	case CmdConns:
		fs.StringVar(&raw.steps, "steps", "", "comma-separated connection counts below --conns at which to settle and sample the server on the way (e.g. 1000,10000)")
	case CmdEcho:
		fs.IntVar(&o.Inflight, "inflight", 1, "messages in flight per connection (1: closed loop)")
		fs.BoolVar(&o.WriteEach, "write-each", false, writeEach)
		fs.IntVar(&o.Size, "size", 64, "payload bytes per message")
		fs.Var(&o.Payload, "payload", "message bodies: binary (random bytes), text (random ASCII) or json (compressible JSON records of exactly --size bytes, changing with every message; sent as text)")
		fs.BoolFunc("text", "same as --payload text", o.Payload.setText)
	case CmdCall:
		fs.IntVar(&o.Inflight, "inflight", 1, "calls in flight per connection (1: closed loop)")
		fs.BoolVar(&o.WriteEach, "write-each", false, writeEach)
		fs.StringVar(&o.Method, "method", "market.symbols", "method to call")
		fs.StringVar(&raw.args, "args", "", "call args as a JSON value (empty: none)")
		fs.Float64Var(&o.MissRatio, "miss-ratio", 0, "fraction of calls (0 to 1) sent with a unique \"nonce\" in args, so that they miss the cache")
		fs.StringVar(&o.MetricsURL, "metrics", "", "the target's Prometheus /metrics, read for the cache hit ratio (default: http://HOST:PORT/metrics of --url)")
	case CmdFanout:
		fs.StringVar(&o.Channel, "channel", "bench", "channel to subscribe and publish on")
		fs.Float64Var(&o.Rate, "rate", 100, "publications per second")
		fs.StringVar(&o.APIKey, "api-key", "", "publish through POST /api/publish with this key (empty: pub on /ws)")
		fs.IntVar(&o.Size, "size", 0, "extra padding bytes in each publication's data")
		fs.DurationVar(&o.DropEvery, "drop-every", 0, "drop mode: the subscribers become Go clients (package client) whose TCP connections are reset (RST, no Close frame) this often, each on a schedule of its own, and whose dials are refused for --drop-for; they resume with since by themselves. Publications carry their number; the report gives delivered %, duplicates, out of order, gaps and replay times, and the run fails on a loss no gap explains (0: off)")
		fs.DurationVar(&o.DropFor, "drop-for", 2*time.Second, "drop mode: how long each drop lasts (below --drop-every)")
		fs.Float64Var(&o.DropJitter, "drop-jitter", 0.2, "drop mode: --drop-every and --drop-for each spread by up to this fraction either way, and each subscriber's first drop at a random point of the first --drop-every; 0: every subscriber drops at once, --drop-every after the start, and comes back together")
		fs.DurationVar(&o.BackoffMax, "backoff-max", 0, "drop mode: the Go clients' Options.BackoffMax, the longest wait between reconnection attempts (0: the client's default, 5s)")
	case CmdPub:
		fs.IntVar(&o.Inflight, "inflight", 8, "pubs in flight per connection")
		fs.BoolVar(&o.WriteEach, "write-each", false, writeEach)
		fs.StringVar(&o.Channel, "channel", "bench", "prefix of the channels: PREFIX.0 to PREFIX.N-1")
		fs.IntVar(&o.Channels, "channels", 1, "channels the publications are spread over, in turn")
		fs.IntVar(&o.Size, "size", 0, "padding bytes in each publication's data")
	case CmdFailover:
		fs.StringVar(&o.Channel, "channel", "failover", "channel to subscribe and publish on")
		fs.Float64Var(&o.Rate, "rate", 100, "publications per second, each carrying its number")
		fs.StringVar(&o.APIKey, "api-key", "", "publish through POST /api/publish with this key, on a seed other than the node most clients chose, moving to the next seed when it fails (empty: a Go client of its own publishes, and moves as the others do)")
		fs.StringVar(&o.ReadyFile, "ready-file", "", "once every client receives publications, write the base URL of the node holding the most clients to this file (a script's sign to kill or drain it)")
	}
}

// check validates o's ranges and the target URL.
func (o *Options) check() error {
	o.URLs = strings.Split(o.URL, ",")
	for i, raw := range o.URLs {
		u, err := url.Parse(raw)
		if o.Cmd == CmdFailover {
			// Seeds of the Go client: base URLs of nodes. The client
			// adds /ws itself, so a /ws given as for the other
			// subcommands is dropped.
			if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") || u.Hostname() == "" {
				return fmt.Errorf("bench: --url %q: want http://host:port, or several separated by commas", raw)
			}
			u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ws")
			o.URLs[i] = u.String()
			continue
		}
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Hostname() == "" {
			return fmt.Errorf("bench: --url %q: want ws://host:port/path, or several separated by commas", raw)
		}
	}
	switch {
	case o.Conns < 1 || o.Conns > MaxConns:
		return fmt.Errorf("bench: --conns %d: want 1 to %d", o.Conns, MaxConns)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("bench: --duration %v: want more than 0 and at most %v", o.Duration, MaxDuration)
	case o.Warmup < 0 || o.Warmup > MaxDuration:
		return fmt.Errorf("bench: --warmup %v: want 0 to %v", o.Warmup, MaxDuration)
	case len(o.ServerPIDs) > 1 && len(o.ServerPIDs) != len(o.URLs):
		return fmt.Errorf("bench: --server-pid lists %d processes for %d targets: give one, or one per target", len(o.ServerPIDs), len(o.URLs))
	case o.DialConcurrency < 1 || o.DialConcurrency > 10_000:
		return fmt.Errorf("bench: --dial-concurrency %d: want 1 to 10000", o.DialConcurrency)
	case o.DialTimeout <= 0:
		return fmt.Errorf("bench: --dial-timeout %v: want more than 0", o.DialTimeout)
	case o.SourceIPs < 0 || o.SourceIPs > 254:
		return fmt.Errorf("bench: --source-ips %d: want 0 to 254", o.SourceIPs)
	}
	if o.Cmd == CmdEcho || o.Cmd == CmdCall || o.Cmd == CmdPub {
		if o.Inflight < 1 || o.Inflight > MaxInflight {
			return fmt.Errorf("bench: --inflight %d: want 1 to %d", o.Inflight, MaxInflight)
		}
	}
	for i, n := range o.Steps {
		if n < 1 || n >= o.Conns || (i > 0 && n <= o.Steps[i-1]) {
			return fmt.Errorf("bench: --steps %v: want ascending counts below --conns %d", o.Steps, o.Conns)
		}
	}
	switch o.Cmd {
	case CmdEcho:
		if o.Size < 0 || o.Size > MaxSize {
			return fmt.Errorf("bench: --size %d: want 0 to %d bytes", o.Size, MaxSize)
		}
		if err := o.checkPayload(); err != nil {
			return err
		}
	case CmdCall:
		if o.Method == "" || strings.ContainsAny(o.Method, "\"\\") {
			return fmt.Errorf("bench: --method %q: want a method name", o.Method)
		}
		if !(o.MissRatio >= 0 && o.MissRatio <= 1) {
			return fmt.Errorf("bench: --miss-ratio %v: want 0 to 1", o.MissRatio)
		}
		if a := strings.TrimSpace(string(o.Args)); o.MissRatio > 0 && a != "" && a[0] != '{' {
			return fmt.Errorf("bench: --miss-ratio needs --args to be a JSON object (it adds a \"nonce\" member), not %s", a)
		}
		if o.MetricsURL == "" {
			o.MetricsURL = defaultMetricsURL(o.URLs[0])
		} else if u, err := url.Parse(o.MetricsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench: --metrics %q: want http://host:port/path", o.MetricsURL)
		}
	case CmdFanout:
		if o.Channel == "" || strings.ContainsAny(o.Channel, "\"\\") {
			return fmt.Errorf("bench: --channel %q: want a channel name", o.Channel)
		}
		if !(o.Rate > 0 && o.Rate <= MaxRate) {
			return fmt.Errorf("bench: --rate %v: want more than 0 and at most %d per second", o.Rate, MaxRate)
		}
		if o.Size < 0 || o.Size > MaxSize {
			return fmt.Errorf("bench: --size %d: want 0 to %d bytes", o.Size, MaxSize)
		}
		if err := o.checkDrop(); err != nil {
			return err
		}
	case CmdFailover:
		if o.Channel == "" {
			return fmt.Errorf("bench: --channel %q: want a channel name", o.Channel)
		}
		if !(o.Rate > 0 && o.Rate <= MaxRate) {
			return fmt.Errorf("bench: --rate %v: want more than 0 and at most %d per second", o.Rate, MaxRate)
		}
		if len(o.ServerPIDs) > 0 || o.Deflate {
			return errors.New("bench: failover takes neither --server-pid nor --deflate (its Go clients offer compression by default)")
		}
	case CmdPub:
		if o.Channel == "" || strings.ContainsAny(o.Channel, "\"\\") {
			return fmt.Errorf("bench: --channel %q: want a channel name", o.Channel)
		}
		if o.Channels < 1 || o.Channels > MaxChannels {
			return fmt.Errorf("bench: --channels %d: want 1 to %d", o.Channels, MaxChannels)
		}
		if o.Size < 0 || o.Size > MaxSize {
			return fmt.Errorf("bench: --size %d: want 0 to %d bytes", o.Size, MaxSize)
		}
	}
	return nil
}

// checkDrop validates fanout's drop mode flags.
func (o *Options) checkDrop() error {
	if o.DropEvery == 0 {
		return nil
	}
	switch {
	case o.DropEvery < 0 || o.DropEvery > MaxDuration:
		return fmt.Errorf("bench: --drop-every %v: want more than 0 and at most %v", o.DropEvery, MaxDuration)
	case o.DropFor <= 0 || o.DropFor >= o.DropEvery:
		return fmt.Errorf("bench: --drop-for %v: want more than 0 and less than --drop-every %v", o.DropFor, o.DropEvery)
	case !(o.DropJitter >= 0 && o.DropJitter <= 0.5):
		return fmt.Errorf("bench: --drop-jitter %v: want 0 to 0.5", o.DropJitter)
	case o.BackoffMax < 0:
		return fmt.Errorf("bench: --backoff-max %v: want 0 or more", o.BackoffMax)
	case o.Size > 0 || len(o.ServerPIDs) > 0 || o.Deflate:
		return errors.New("bench: fanout's drop mode takes neither --size, --server-pid nor --deflate (its publications are {\"n\":N}; its Go clients offer compression by default)")
	}
	for _, u := range o.URLs {
		if p, err := url.Parse(u); err != nil || (p.Path != "" && p.Path != "/" && p.Path != "/ws") {
			return fmt.Errorf("bench: --url %q: drop mode's Go clients connect to a node's /ws; give ws://host:port/ws", u)
		}
	}
	return nil
}
