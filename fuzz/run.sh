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
# Seeds for every target from the shipped captures (src/fuzzing.rs `seeds`): the files
# themselves, their segments, each flow's two streams, each direction's chunks and the bodies
# of its AMF0, AMF3 and media messages.
(cd .. && cargo run -q --release --example fuzz_seeds -- fuzz/corpus captures/*.pcap*)
# No shipped capture carries AMF3, so its seeds are the py3amf-encoded fixtures.
mkdir -p corpus/amf3_body && cp -n ../tests/fixtures/amf3/*.amf3 corpus/amf3_body/
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    [ -d "regressions/$t" ] && cp -n regressions/"$t"/* "corpus/$t/" 2>/dev/null || true
    echo "== $t for ${secs}s"
    cargo fuzz run --sanitizer none "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10
done
