#!/usr/bin/env bash
# Runs the README's run command exactly (`cargo run --release --bin roadie -- daemon`)
# with a fresh HOME and no config, waits for /api/v1/health on the default address,
# checks a few things a new user would, then stops the daemon with SIGTERM.
# Stops only the process it started.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin roadie
fresh=$(mktemp -d /tmp/roadie-smoke.XXXXXX)
log="$fresh/daemon.log"
cleanup() {
    if [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$fresh"
}
trap cleanup EXIT
# A daemon already on the default address would answer the checks below instead of ours.
if curl -fsS http://127.0.0.1:7717/api/v1/health >/dev/null 2>&1; then
    echo "smoke: something already answers on 127.0.0.1:7717; stop it first"
    exit 1
fi
env -i PATH="$PATH" HOME="$fresh" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    cargo run --release --bin roadie -- daemon >"$log" 2>&1 &
pid=$!
for _ in $(seq 600); do
    if curl -fsS http://127.0.0.1:7717/api/v1/health >"$fresh/health" 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { echo "smoke: the daemon exited:"; cat "$log"; exit 1; }
    sleep 0.1
done
echo "smoke: health: $(cat "$fresh/health")"
grep -q '"status":"ok"' "$fresh/health"
data="$fresh/.local/share/roadie"
[[ "$(stat -c %a "$data")" == 700 ]] || { echo "smoke: data dir mode $(stat -c %a "$data")"; exit 1; }
[[ "$(stat -c %a "$data/api-token")" == 600 ]] || { echo "smoke: token mode"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:7717/api/v1/status)
[[ "$code" == 401 ]] || { echo "smoke: status without token answered $code"; exit 1; }
HOME="$fresh" ./target/release/roadie status
kill -TERM "$pid"
wait "$pid" || true
# `cargo run` forwards the signal; the daemon itself logs its stop.
grep -q "roadie daemon stopped" "$log" || { echo "smoke: no clean stop:"; cat "$log"; exit 1; }
echo "smoke: ok"
