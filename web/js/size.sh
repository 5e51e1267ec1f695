#!/usr/bin/env bash
# size.sh prints the size of wsgate.js next to two other real-time clients
# as a browser would load them: each library's browser ESM entry bundled
# with everything it imports (export * from it), minified by esbuild, then
# gzip -9. The versions are pinned so the table can be reproduced; esbuild
# is this package's pinned devDependency (run npm ci first). The other
# libraries are fetched from npm into a temporary directory.
set -euo pipefail
cd "$(dirname "$0")"

CENTRIFUGE=5.8.0
SOCKETIO=4.8.4

esbuild=node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "size.sh: run npm ci in web/js first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --no-package-lock --silent \
	"centrifuge@$CENTRIFUGE" "socket.io-client@$SOCKETIO" >"$tmp/npm.log" 2>&1; then
	echo "size.sh: fetching centrifuge and socket.io-client from npm failed:" >&2
	cat "$tmp/npm.log" >&2
	exit 1
fi

# measure NAME VERSION SPECIFIER: bundles a module holding
# "export * from SPECIFIER" (resolved from the temporary directory) and
# prints a table row.
measure() {
	echo "export * from '$3';" >"$tmp/entry-$1.js"
	"$esbuild" "$tmp/entry-$1.js" --bundle --minify --format=esm --platform=browser \
		--log-level=warning --outfile="$tmp/out-$1.js"
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "$(wc -c <"$tmp/out-$1.js")" "$(gzip -9c "$tmp/out-$1.js" | wc -c)"
}

echo "| library | version | minified bytes | minified + gzip -9 bytes |"
echo "|---|---|---|---|"
measure wsgate.js "$(node -p 'require("./package.json").version')" "$PWD/wsgate.js"
measure centrifuge "$CENTRIFUGE" centrifuge
measure socket.io-client "$SOCKETIO" socket.io-client
echo
echo "esbuild $("$esbuild" --version), $(gzip --version | head -1)"
