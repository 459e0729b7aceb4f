# Shell helpers shared by the bench/ scripts (sourced, not run): process control, ports, medians.
# The caller sets `bin` (the build's bin/ directory) and `token` (an admin token) before
# start_roombus.

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL; only ever this pid
  local pid=$1
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

free_port() {  # a loopback port nobody listens on (checked, not reserved)
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }  # field NAME < "a=1 b=2"

# start_roombus DIR LOG [SERVE_ARGS...]: roombus serve on a free loopback port with data in DIR;
# sets roombus_pid, port and key (the API key of a registered server meet.example.com with member
# alice@x.de). Exits the script, showing LOG, if it does not come up.
start_roombus() {
  local dir=$1 log=$2
  shift 2
  port=
  : >"$log"  # before the child opens it: the loop below may read it first
  "$bin/roombus" serve --listen 127.0.0.1:0 --data-dir "$dir" --admin-token "$token" "$@" 2>"$log" &
  roombus_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$log" >&2; exit 1; }
  key=$("$bin/roombus" admin --url "http://127.0.0.1:$port" --admin-token "$token" create \
          --url meet.example.com --name Meet --member alice@x.de |
        sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
}
