#!/usr/bin/env bash
# Run a command against a REAL Secret Service (gnome-keyring-daemon) on a private
# D-Bus session bus. Headless: no X, no prompter. Used to test roadie-keystore's OS
# backend, e.g.
#
#   scripts/with-secret-service.sh env ROADIE_TEST_SECRET_SERVICE=1 cargo test -p roadie-keystore
#   SECRET_SERVICE_LOCKED=1 scripts/with-secret-service.sh \
#       env ROADIE_TEST_SECRET_SERVICE_LOCKED=1 cargo test -p roadie-keystore
#
# Env:
#   SECRET_SERVICE_LOCKED=1  start gnome-keyring WITHOUT --unlock, so there is no unlocked
#                            collection and keyring calls fail with NoStorageAccess
#                            (for testing the encrypted-file fallback). With a fresh
#                            KEYRING_DATA_DIR there is no collection at all, so even reads
#                            fail. With a reused KEYRING_DATA_DIR that already holds a
#                            login.keyring, reads answer "no entry" and only writes fail
#                            ("Cannot create an item in a locked collection").
#   KEYRING_PASSWORD         login collection password (default roadie-test-keyring-pw).
#   KEYRING_DATA_DIR         where gnome-keyring keeps its files (default: a fresh temp dir,
#                            removed afterwards; set it to keep login.keyring between runs).
#
# How: dbus-run-session starts a private session bus (unix socket); inside it,
# gnome-keyring-daemon --foreground [--unlock] --components=secrets (password on stdin)
# creates/unlocks the "login" collection and makes it the default. We wait until the bus
# name org.freedesktop.secrets has an owner (otherwise D-Bus activation could start a
# second, locked daemon), run the command, then stop the daemon we started by its PID.
# HOME is left alone (cargo needs it); only XDG_DATA_HOME / XDG_RUNTIME_DIR are redirected.
# The exit status is the command's.
#
# Needs: apt-get install -y --no-install-recommends gnome-keyring dbus dbus-bin libsecret-tools
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "[with-secret-service] $tool not found; install: apt-get install -y --no-install-recommends gnome-keyring dbus dbus-bin libsecret-tools" >&2
        exit 127
    fi
done

export KEYRING_PASSWORD="${KEYRING_PASSWORD:-roadie-test-keyring-pw}"
export SECRET_SERVICE_LOCKED="${SECRET_SERVICE_LOCKED:-0}"
CLEAN_DATA=0
if [[ -z "${KEYRING_DATA_DIR:-}" ]]; then
    KEYRING_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/roadie-keyring.XXXXXX")"
    CLEAN_DATA=1
fi
mkdir -p "$KEYRING_DATA_DIR/data" "$KEYRING_DATA_DIR/run"
chmod 700 "$KEYRING_DATA_DIR" "$KEYRING_DATA_DIR/run"
export KEYRING_DATA_DIR

# Runs inside the private bus session.
inner() {
    set -euo pipefail
    export XDG_DATA_HOME="$KEYRING_DATA_DIR/data" XDG_RUNTIME_DIR="$KEYRING_DATA_DIR/run"
    unset DISPLAY WAYLAND_DISPLAY
    local t0 mode
    t0=$(date +%s%N)
    if [[ "$SECRET_SERVICE_LOCKED" == 1 ]]; then
        mode="locked"
        gnome-keyring-daemon --foreground --components=secrets \
            </dev/null >"$KEYRING_DATA_DIR/gkd.out" 2>&1 &
        GKD_PID=$!
    else
        mode="unlocked"
        printf '%s' "$KEYRING_PASSWORD" |
            gnome-keyring-daemon --foreground --unlock --components=secrets \
                >"$KEYRING_DATA_DIR/gkd.out" 2>&1 &
        GKD_PID=$!
    fi
    # Stop exactly the daemon we started (by PID), however we leave.
    trap 'kill -TERM "$GKD_PID" 2>/dev/null || true; wait "$GKD_PID" 2>/dev/null || true' EXIT

    local ok=0
    for _ in $(seq 200); do
        if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
            grep -q 'boolean true'; then
            ok=1
            break
        fi
        kill -0 "$GKD_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [[ $ok != 1 ]]; then
        echo "[with-secret-service] gnome-keyring-daemon did not come up:" >&2
        cat "$KEYRING_DATA_DIR/gkd.out" >&2
        exit 1
    fi
    echo "[with-secret-service] Secret Service ($mode) up in $((($(date +%s%N) - t0) / 1000000)) ms (gnome-keyring-daemon pid $GKD_PID, bus $DBUS_SESSION_BUS_ADDRESS)" >&2

    local rc=0
    "$@" || rc=$?
    exit "$rc"
}
export -f inner

rc=0
# dbus-daemon's "Failed to set fd limit" warning is harmless noise here.
dbus-run-session -- bash -c 'inner "$@"' inner "$@" 2> >(grep -v 'Failed to set fd limit' >&2) || rc=$?
if [[ $CLEAN_DATA == 1 ]]; then
    rm -rf "$KEYRING_DATA_DIR"
fi
exit "$rc"
