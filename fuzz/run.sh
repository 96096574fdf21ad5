#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), seeding corpora from captures/.
# Crashes land in fuzz/artifacts/TARGET/; copy each into fuzz/regressions/TARGET/ with a name
# that says what it broke, so the regression test replays it forever.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(capture reassembly chunks amf0_body amf3_body media_tags session)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
mkdir -p corpus
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    if [ "$t" = capture ]; then cp -n ../captures/*.pcap* "corpus/$t/" 2>/dev/null || true; fi
    [ -d "regressions/$t" ] && cp -n regressions/"$t"/* "corpus/$t/" 2>/dev/null || true
    echo "== $t for ${secs}s"
    cargo fuzz run --sanitizer none "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10
done
