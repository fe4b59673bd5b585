# shellcheck shell=bash
# Shell functions shared by bench/*/run (sourced, not run): free ports, waiting for
# listeners, medians, and the peers' setups (a local unbound serving test zones,
# rspamd's milter proxy in self-scan mode, a private Postfix instance). Callers own
# WORK (a temporary directory) and PIDS (processes to stop); the functions append
# to PIDS and never stop anything they did not start.

bench_port() { /usr/bin/python3 -c 'import random,socket
while True:
  p=random.randint(20000,32000); s=socket.socket()
  try: s.bind(("127.0.0.1",p)); s.close(); print(p); break
  except OSError: pass'; }

# bench_wait_port PORT [TRIES of 50 ms]
bench_wait_port() {
  for _ in $(seq "${2:-200}"); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

# bench_median_spread V... -> "median min max"
bench_median_spread() { /usr/bin/python3 -c 'import sys,statistics as s
v=[float(x) for x in sys.argv[1:]] or [0.0]; print(f"{s.median(v):.1f} {min(v):.1f} {max(v):.1f}")' "$@"; }

# bench_unbound PORT LOCAL_DATA_FILE [NAME]: an unbound answering only the given
# local-data lines (everything else NXDOMAIN at once, nothing leaves the machine).
bench_unbound() {
  local port=$1 data=$2 name=${3:-unbound}
  cat > "$WORK/$name.conf" <<CF
server:
  interface: 127.0.0.1@$port
  port: $port
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$WORK"
  pidfile: ""
  use-syslog: no
  logfile: ""
  module-config: "iterator"
  local-zone: "." static
  include: "$data"
CF
  unbound -d -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  bench_wait_port "$port" || { echo "bench: unbound did not start"; cat "$WORK/$name.log"; return 1; }
}

# bench_rspamd DNS_PORT: rspamd's milter proxy (self-scan, default rules, verdict
# header also for loopback clients) under $WORK/rspamd; sets RSPAMD_PORT and RSPAMD_PID.
bench_rspamd() {
  local dns=$1 rn rc r=$WORK/rspamd
  RSPAMD_PORT=$(bench_port); rn=$(bench_port); rc=$(bench_port)
  mkdir -p "$r/local.d" "$r/override.d" "$r/run" "$r/db" "$r/log"
  echo "dns { nameserver = [\"127.0.0.1:$dns\"]; }" > "$r/local.d/options.inc"
  printf 'bind_socket = "127.0.0.1:%s";\nmilter = yes;\ncount = 2;\ntimeout = 120s;\nupstream "local" {\n  default = yes;\n  self_scan = yes;\n}\n' "$RSPAMD_PORT" > "$r/override.d/worker-proxy.inc"
  echo "bind_socket = \"127.0.0.1:$rn\";" > "$r/override.d/worker-normal.inc"
  echo "bind_socket = \"127.0.0.1:$rc\";" > "$r/override.d/worker-controller.inc"
  echo 'level = "error";' > "$r/local.d/logging.inc"
  printf 'use = ["x-spamd-result"];\nskip_local = false;\nskip_authenticated = false;\n' > "$r/local.d/milter_headers.conf"
  rspamd -f -i -u root -g root -c /etc/rspamd/rspamd.conf --var "LOCAL_CONFDIR=$r" --var "RUNDIR=$r/run" \
    --var "DBDIR=$r/db" --var "LOGDIR=$r/log" > "$r/stdout.log" 2>&1 &
  RSPAMD_PID=$!
  PIDS+=("$RSPAMD_PID")
  bench_wait_port "$RSPAMD_PORT" 3600 || { echo "rspamd did not start:"; tail -n 20 "$r/stdout.log" "$r/log/rspamd.log"; return 1; }
}

# bench_postfix DIR SINK_PORT [master.cf line]...: a private Postfix relaying
# everything to 127.0.0.1:SINK_PORT with the given smtpd listeners. main.cf
# extras can be appended to DIR/main.cf before it starts via POSTFIX_EXTRA.
bench_postfix() {
  local p=$1 sink=$2
  shift 2
  mkdir -p "$p/queue" "$p/data"; chown postfix "$p/data"
  sed 's/^smtp      inet/#smtp      inet/' /etc/postfix/master.cf > "$p/master.cf"
  printf '%s\n' "$@" >> "$p/master.cf"
  cat > "$p/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $p/queue
data_directory = $p/data
maillog_file = $p/maillog
maillog_file_prefixes = /var, /dev/stdout, $p
myhostname = peer.test
inet_interfaces = 127.0.0.1
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink
alias_maps =
alias_database =
smtp_dns_support_level = disabled
default_destination_concurrency_limit = 20
milter_default_action = tempfail
milter_protocol = 6
${POSTFIX_EXTRA:-}
CF
  postfix -c "$p" start >/dev/null
}

# bench_postfix_stop DIR
bench_postfix_stop() { [ -f "$1/main.cf" ] && postfix -c "$1" stop >/dev/null 2>&1 || true; }

# bench_postfix_master DIR -> pid of that instance's master
bench_postfix_master() { head -1 "$1/queue/pid/master.pid" 2>/dev/null | tr -d ' '; }
