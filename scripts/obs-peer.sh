#!/usr/bin/env bash
# Runs a real OBS Studio (Debian's obs-studio, with its bundled obs-websocket 5.x)
# headless under Xvfb for the real-peer tests, reachable only on 127.0.0.1.
#
#   scripts/obs-peer.sh start|stop|restart
#
# obs-websocket 5.1 cannot bind to loopback only, so OBS runs in its own network
# namespace (`unshare --net`: only `lo`), and socat bridges host 127.0.0.1:$OBS_PORT to
# it through a unix socket. Needs root and: obs-studio xvfb xauth libgl1-mesa-dri
# socat iproute2. Stops only the processes it started (PID files with start times).
#
# Env: OBS_PORT (4455), OBS_PASSWORD (roadie-peer-pass), OBS_RUN_DIR (/tmp/roadie-obs-peer).
# Prints `OBS_URL=ws://127.0.0.1:PORT` once obs-websocket answers the upgrade.
set -euo pipefail

PORT="${OBS_PORT:-4455}"
PASSWORD="${OBS_PASSWORD:-roadie-peer-pass}"
RUN="${OBS_RUN_DIR:-/tmp/roadie-obs-peer}"
INNER_PORT=4455

say() { echo "[obs-peer] $*" >&2; }

# "PID STARTTIME": a reused PID is never taken for ours.
start_time() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
remember() { echo "$2 $(start_time "$2")" > "$RUN/$1.pid"; }
pid_of() {
    local pid started
    [[ -f "$RUN/$1.pid" ]] || return 1
    read -r pid started < "$RUN/$1.pid"
    [[ -n "$started" && "$(start_time "$pid")" == "$started" ]] && echo "$pid"
}

stop_one() {
    local pid
    if pid="$(pid_of "$1")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$1.pid"
}

stop() {
    stop_one bridge
    stop_one obs
    stop_one inner-bridge
    stop_one xvfb
    rm -f "$RUN/obs.sock"
}

# obs-websocket itself must answer 101 (the host bridge accepts long before OBS is up).
answers() {
    ( trap '' PIPE
      exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
      printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: obswebsocket.json\r\n\r\n' "$PORT" >&3 || exit 1
      IFS= read -r -t 2 line <&3 || exit 1
      [[ "$line" == *" 101 "* ]] ) 2>/dev/null
}

write_config() {
    local dir="$RUN/config/obs-studio"
    rm -rf "$RUN/config"
    mkdir -p "$dir/basic/profiles/roadie" "$dir/basic/scenes" "$RUN/recordings"
    # FirstRun and LastVersion (29.0.2) keep every first-start dialog away.
    cat > "$dir/global.ini" <<EOF
[General]
FirstRun=true
LastVersion=486539266
Pre19Defaults=false
Pre21Defaults=false
Pre23Defaults=false
Pre24.1Defaults=false
ConfirmOnExit=false
EnableAutoUpdates=false

[Basic]
Profile=roadie
ProfileDir=roadie
SceneCollection=roadie
SceneCollectionFile=roadie
ConfigOnNewProfile=false

[BasicWindow]
PreviewEnabled=false
SysTrayEnabled=false
WarnBeforeStartingStream=false
WarnBeforeStoppingStream=false
WarnBeforeStoppingRecord=false

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort=$INNER_PORT
AlertsEnabled=false
AuthRequired=true
ServerPassword=$PASSWORD
EOF
    cat > "$dir/basic/profiles/roadie/basic.ini" <<EOF
[General]
Name=roadie

[Video]
BaseCX=640
BaseCY=360
OutputCX=640
OutputCY=360
FPSType=1
FPSInt=30

[Output]
Mode=Simple

[SimpleOutput]
FilePath=$RUN/recordings
RecFormat=mkv
RecQuality=Stream
StreamEncoder=x264
Preset=ultrafast
EOF
    # Two scenes; a colour source and a text source; the Cut transition, so the scene
    # change event comes at once.
    cat > "$dir/basic/scenes/roadie.json" <<'EOF'
{
  "name": "roadie",
  "current_scene": "Live",
  "current_program_scene": "Live",
  "current_transition": "Cut",
  "transition_duration": 300,
  "scene_order": [{"name": "Live"}, {"name": "BRB"}],
  "sources": [
    {"id": "scene", "versioned_id": "scene", "name": "Live",
     "settings": {"id_counter": 2, "custom_size": false, "items": [
        {"name": "Background", "id": 1, "visible": true},
        {"name": "Alert Text", "id": 2, "visible": true, "pos": {"x": 20.0, "y": 20.0}}]}},
    {"id": "scene", "versioned_id": "scene", "name": "BRB",
     "settings": {"id_counter": 0, "custom_size": false, "items": []}},
    {"id": "color_source", "versioned_id": "color_source_v3", "name": "Background",
     "settings": {"color": 4281545523, "width": 640, "height": 360}},
    {"id": "text_ft2_source", "versioned_id": "text_ft2_source_v2", "name": "Alert Text",
     "settings": {"text": "waiting", "font": {"face": "Sans", "size": 32, "style": "Regular", "flags": 0}}}
  ],
  "groups": [], "quick_transitions": [], "transitions": [], "saved_projectors": [],
  "modules": {}, "preview_locked": false, "scaling_enabled": false
}
EOF
}

start() {
    mkdir -p "$RUN"
    stop
    write_config
    mkdir -p "$RUN/xdg"
    chmod 700 "$RUN/xdg"
    rm -f "$RUN/display"
    Xvfb -displayfd 3 -screen 0 640x360x24 -nolisten tcp -nolisten local \
        3>"$RUN/display" >"$RUN/xvfb.log" 2>&1 &
    remember xvfb $!
    for _ in $(seq 100); do [[ -s "$RUN/display" ]] && break; sleep 0.05; done
    [[ -s "$RUN/display" ]] || { say "Xvfb did not start"; cat "$RUN/xvfb.log" >&2; stop; exit 1; }
    local display=":$(head -1 "$RUN/display")"
    rm -f "$RUN/obs.sock"
    unshare --net -- bash -c '
        set -e
        ip link set lo up
        socat UNIX-LISTEN:"$1",fork,unlink-early TCP:127.0.0.1:'"$INNER_PORT"' >/dev/null 2>&1 &
        echo "$! $(sed "s/^.*) //" /proc/$!/stat | cut -d" " -f20)" > "$2"
        shift 2
        exec "$@"' _ "$RUN/obs.sock" "$RUN/inner-bridge.pid" \
        env XDG_CONFIG_HOME="$RUN/config" XDG_RUNTIME_DIR="$RUN/xdg" DISPLAY="$display" \
            LIBGL_ALWAYS_SOFTWARE=1 QT_QPA_PLATFORM=xcb \
        obs --multi --disable-missing-files-check --profile roadie --collection roadie --scene Live \
        >"$RUN/obs.log" 2>&1 &
    remember obs $!
    socat TCP-LISTEN:"$PORT",bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$RUN/obs.sock" \
        >"$RUN/bridge.log" 2>&1 &
    remember bridge $!
    local deadline=$(( $(date +%s) + 90 ))
    until answers; do
        if ! pid_of obs >/dev/null; then say "OBS exited:"; tail -30 "$RUN/obs.log" >&2; stop; exit 1; fi
        if (( $(date +%s) > deadline )); then say "OBS did not answer in 90 s:"; tail -30 "$RUN/obs.log" >&2; stop; exit 1; fi
        sleep 0.1
    done
    echo "OBS_URL=ws://127.0.0.1:$PORT"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    *) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
