#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka (KRaft, broker+controller per node) from the Maven
# Central jars in .stack/kafka-libs, and the machine's PostgreSQL. Idempotent; `down` stops only
# what `up` started. Usage: infra/stack.sh up|down|kill-node N|stop-node N|start-node N|wipe
# Environment: BROKERS=1|3 (cluster shape), KAFKA_PORT_BASE (default 9090: node n listens on
# base+2n for clients and base+2n+1 for the controller quorum), KAFKA_STACK_DIR (the cluster's data
# folder; default .stack/kafka, or .stack/kafka-3 for three brokers). Another port base and folder
# run a second cluster beside the usual one (make chaos does, for its three-broker scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STACK=$ROOT/.stack
LIBS=$STACK/kafka-libs
BROKERS=${BROKERS:-1}
KAFKA_HEAP=${KAFKA_HEAP:-"-Xms256m -Xmx1g"}
DASY=("$ROOT/bin/dasy")

say() { echo "stack: $*"; }
die() { echo "stack: $*" >&2; exit 1; }

case "$BROKERS" in 1|3) ;; *) die "BROKERS must be 1 or 3, got '$BROKERS'";; esac

KAFKA_PORT_BASE=${KAFKA_PORT_BASE:-9090}
[[ $KAFKA_PORT_BASE =~ ^[0-9]+$ ]] && ((KAFKA_PORT_BASE >= 1024 && KAFKA_PORT_BASE <= 65000)) \
  || die "KAFKA_PORT_BASE must be a number from 1024 to 65000, got '$KAFKA_PORT_BASE'"
# node n listens for clients on base+2n and for the controller quorum on base+2n+1:
# 9092/9093, 9094/9095, 9096/9097 with the default base
client_port() { echo $((KAFKA_PORT_BASE + 2 * $1)); }
controller_port() { echo $((KAFKA_PORT_BASE + 1 + 2 * $1)); }
# one data folder per cluster shape: a 3-node quorum cannot reuse a 1-node one's storage
if [[ -n ${KAFKA_STACK_DIR:-} ]]; then
  KDIR=$(mkdir -p "$KAFKA_STACK_DIR" && cd "$KAFKA_STACK_DIR" && pwd)
else
  KDIR=$STACK/kafka; [[ $BROKERS == 3 ]] && KDIR=$STACK/kafka-3
fi
node_dir() { echo "$KDIR/node-$1"; }
default_brokers() {
  local list="" n
  for n in $(seq 1 "$BROKERS"); do list="${list:+$list,}127.0.0.1:$(client_port "$n")"; done
  echo "$list"
}
export KAFKA_BROKERS=${KAFKA_BROKERS:-$(default_brokers)}

node_running() {
  local pidfile; pidfile="$(node_dir "$1")/pid"
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

fetch_jars() {
  if [[ ! -f $LIBS/kafka_2.13-3.9.1.jar || ! -f $LIBS/kafka-tools-3.9.1.jar ]]; then
    say "fetching Apache Kafka 3.9.1 jars from Maven Central into .stack/kafka-libs"
    mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies >/dev/null
  fi
}

write_config() {
  local n=$1 dir voters="" m
  dir=$(node_dir "$n")
  for m in $(seq 1 "$BROKERS"); do voters="${voters:+$voters,}$m@127.0.0.1:$(controller_port "$m")"; done
  local rf=1 isr=1
  if [[ $BROKERS -ge 3 ]]; then rf=3; isr=2; fi
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(client_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=168
log.segment.bytes=268435456
num.network.threads=2
num.io.threads=4
PROPS
  cat >"$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$dir/logs/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
}

# A broker we did not start may already listen there (another checkout's, a user's): use it;
# stack-ready then checks that it really is Kafka.
port_open() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

java_cp() { echo "$LIBS/*"; }

# The other cluster shape started by this script on the same ports: its node 1 answers on our
# node 1's port, and a three-node quorum cannot be built from it. Refuse instead of mixing them.
other_shape_running() {
  [[ -n ${KAFKA_STACK_DIR:-} ]] && return 0
  local other=$STACK/kafka-3 shape=three-broker n
  [[ $BROKERS == 3 ]] && { other=$STACK/kafka; shape=single-node; }
  for n in 1 2 3; do
    if [[ -f $other/node-$n/pid ]] && kill -0 "$(cat "$other/node-$n/pid")" 2>/dev/null; then
      die "a $shape cluster started by this script is running on these ports; run 'make down' first (or pick other ports with KAFKA_PORT_BASE and KAFKA_STACK_DIR)"
    fi
  done
}

start_node() {
  local n=$1 dir; dir=$(node_dir "$n")
  if node_running "$n"; then return 0; fi
  write_config "$n"
  if [[ ! -f $dir/data/meta.properties ]]; then
    [[ -f $KDIR/cluster-id ]] || java -cp "$(java_cp)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 >"$KDIR/cluster-id"
    java -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$(java_cp)" kafka.tools.StorageTool format \
      -t "$(cat "$KDIR/cluster-id")" -c "$dir/server.properties" --ignore-formatted >"$dir/logs/format.log" 2>&1 \
      || die "formatting Kafka storage failed; see $dir/logs/format.log"
  fi
  # setsid: the broker outlives this shell and is not hit by a Ctrl-C meant for make.
  setsid java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$(java_cp)" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
}

stop_node() {
  local n=$1 dir pid; dir=$(node_dir "$n")
  node_running "$n" || { rm -f "$dir/pid"; return 0; }
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 -t 2 >/dev/null 2>&1; }

db_is_local() {
  [[ -z ${DATABASE_URL:-} ]] || [[ $DATABASE_URL =~ @(127\.0\.0\.1|localhost)(:5432)?/ ]]
}

docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && [[ -z ${DASY_LOCAL_STACK:-} ]]; }

up() {
  mkdir -p "$KDIR"
  if docker_engine; then
    say "Docker engine found: docker compose up"
    docker compose up -d --wait
    "${DASY[@]}" stack-ready --timeout 90
    return
  fi
  local started=()
  # PostgreSQL: the machine's server.
  if ! pg_up; then
    if db_is_local && command -v pg_ctlcluster >/dev/null 2>&1; then
      local ver; ver=$(ls /etc/postgresql | sort -V | tail -1)
      say "starting PostgreSQL $ver (pg_ctlcluster)"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start
      echo "$ver" >"$STACK/pg-started-by-dasy"
      started+=(postgresql)
      for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
    else
      die "PostgreSQL does not answer at DATABASE_URL and is not a local server this script can start"
    fi
  fi
  # Kafka: only when KAFKA_BROKERS is ours (the default loopback ports).
  if [[ $KAFKA_BROKERS == "$(default_brokers)" ]]; then
    other_shape_running
    local n any=0
    for n in $(seq 1 "$BROKERS"); do node_running "$n" || port_open "$(client_port "$n")" || any=1; done
    if [[ $any == 1 ]]; then
      fetch_jars
      for n in $(seq 1 "$BROKERS"); do
        if ! node_running "$n" && ! port_open "$(client_port "$n")"; then start_node "$n"; started+=("kafka-node-$n"); fi
      done
    fi
  fi
  "${DASY[@]}" stack-ready --timeout 90 || die "the stack did not become ready; Kafka logs: .stack/kafka/node-*/logs"
  if [[ ${#started[@]} -eq 0 ]]; then
    say "already up (Kafka $KAFKA_BROKERS, PostgreSQL); nothing to do"
  else
    say "started ${started[*]}; Kafka at $KAFKA_BROKERS, data in ${KDIR#$ROOT/}"
  fi
}

down() {
  if docker_engine && [[ ! -d $STACK/kafka/node-1 ]]; then docker compose down; return; fi
  local n stopped=() k dirs=("$STACK/kafka" "$STACK/kafka-3")
  [[ -n ${KAFKA_STACK_DIR:-} ]] && dirs=("$KDIR")
  for k in "${dirs[@]}"; do
    KDIR=$k
    for n in 1 2 3; do
      if node_running "$n"; then stop_node "$n"; stopped+=("kafka-node-$n"); fi
    done
  done
  # PostgreSQL only for the usual stack, never for a second cluster's down (KAFKA_STACK_DIR)
  if [[ -z ${KAFKA_STACK_DIR:-} && -f $STACK/pg-started-by-dasy ]]; then
    pg_ctlcluster --skip-systemctl-redirect "$(cat "$STACK/pg-started-by-dasy")" main stop || true
    rm -f "$STACK/pg-started-by-dasy"
    stopped+=(postgresql)
  fi
  if [[ ${#stopped[@]} -eq 0 ]]; then say "nothing of ours was running"; else say "stopped ${stopped[*]}"; fi
}

# kill -9 / restart one broker (for chaos scenarios): stack.sh kill-node N | start-node N
case "${1:-}" in
  up) up ;;
  down) down ;;
  kill-node)
    node_running "$2" || die "kafka-node-$2 is not running (no live pid in ${KDIR#$ROOT/}/node-$2)"
    kill -9 "$(cat "$(node_dir "$2")/pid")"; rm -f "$(node_dir "$2")/pid"; say "killed kafka-node-$2" ;;
  stop-node) stop_node "$2"; say "stopped kafka-node-$2" ;;
  start-node) fetch_jars; start_node "$2"; say "started kafka-node-$2" ;;
  wipe)
    down
    if [[ -n ${KAFKA_STACK_DIR:-} ]]; then rm -rf "$KDIR"; else rm -rf "$STACK/kafka" "$STACK/kafka-3"; fi
    say "wiped Kafka's data" ;;
  *) die "usage: infra/stack.sh up|down|kill-node N|stop-node N|start-node N|wipe" ;;
esac
