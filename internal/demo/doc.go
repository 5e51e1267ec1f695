// Package demo is the backend wsgate runs when it is given no --backend: a
// small fake market that shows every part of the wire contract.
//
//   - market.symbols: the symbols on offer, ["ACME","GLOBEX",…].
//   - market.history {"symbol":"ACME","points":N}: N one-minute candles
//     (default 500, at most 5,000). The answer is deterministic and
//     deliberately expensive, tens of milliseconds of CPU for the default
//     size, so the response cache has something to save.
//   - demo.stats: the answering node's id and region and a few of its
//     counters (connections, calls, cache hits and misses, bytes before and
//     after compression), for the demo page's panels. Not cached.
//   - channel "ticks": {"symbol":"ACME","price":123.45,"ts":unix_ms}, one
//     per symbol a few times a second (RunTicks). In a cluster one node
//     publishes them: the live one with the smallest id that is not
//     draining.
//
// The package is an ordinary user of the public wsgate API and reaches into
// nothing else.
package demo
