#!/usr/bin/env bash
# ci-services.sh starts the servers the ClickHouse and PostgreSQL tests
# need, on loopback, as root on a fresh Debian machine:
#
#   - one ClickHouse server (native port 9000, or the next free port),
#   - two more ClickHouse servers, the two shards of the cluster
#     "crest_test_shards" (remote_servers) used by the sharded test,
#   - one PostgreSQL 15 cluster with a database and a password user.
#
# It installs Debian's clickhouse-server, clickhouse-client and postgresql
# when they are missing, writes every config into $CREST_CI_DIR (default
# /tmp/crest-ci; /etc is never touched) and writes the addresses to
# $CREST_CI_ENV (default /tmp/crest-ci-services.env) for the tests:
#
#   CREST_TEST_CLICKHOUSE=clickhouse://127.0.0.1:9000/crest_test
#   CREST_TEST_CLICKHOUSE_SHARDED=clickhouse://127.0.0.1:9101/crest_test?cluster=crest_test_shards
#   CREST_TEST_POSTGRES=postgres://crest:crest@127.0.0.1:5433/crest_test?sslmode=disable
#
# The values are single-quoted, so `set -a; . $CREST_CI_ENV; set +a` exports
# them. `scripts/ci-services.sh stop` stops what an earlier run started.
set -euo pipefail

DIR=${CREST_CI_DIR:-/tmp/crest-ci}
ENV_FILE=${CREST_CI_ENV:-/tmp/crest-ci-services.env}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "ci-services: $*" >&2; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints the first free port at or above $1.
free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_free "$1" || return 0
    sleep 0.1
  done
  return 1
}

stop_all() {
  local f
  for f in "$DIR"/ch-*/pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  if [ -f "$DIR/pg/data/postmaster.pid" ]; then
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$DIR/pg/data' -m fast stop" >/dev/null 2>&1 || true
  fi
}

if [ "${1:-}" = stop ]; then
  stop_all
  exit 0
fi

install() {
  local need=()
  command -v clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server)
  command -v clickhouse-client >/dev/null 2>&1 || need+=(clickhouse-client)
  [ -x "$PG_BIN/initdb" ] || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# ch_config name tcp_port http_port interserver_port writes the config of
# one server under $DIR/ch-<name>; every server knows the shard cluster.
ch_config() {
  local d="$DIR/ch-$1"
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/log"
  cat >"$d/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
EOF
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$d/log/server.log</log>
    <errorlog>$d/log/server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$2</tcp_port>
  <http_port>$3</http_port>
  <interserver_http_port>$4</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>256</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <users_config>$d/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <remote_servers>
    <crest_test_shards>
      <shard><replica><host>127.0.0.1</host><port>$CH_SHARD1</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$CH_SHARD2</port></replica></shard>
    </crest_test_shards>
  </remote_servers>
</yandex>
EOF
}

ch_start() { # name tcp_port
  local d="$DIR/ch-$1"
  if [ -f "$d/pid" ] && kill -0 "$(cat "$d/pid")" 2>/dev/null; then
    return 0
  fi
  chown -R clickhouse:clickhouse "$d" 2>/dev/null || true
  local as=()
  id clickhouse >/dev/null 2>&1 && as=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups)
  "${as[@]}" clickhouse-server --config-file="$d/config.xml" >"$d/log/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  if ! wait_port "$2" 60; then
    log "clickhouse $1 did not start on port $2:"
    tail -20 "$d/log/stdout.log" "$d/log/server.err.log" >&2 || true
    exit 1
  fi
  clickhouse-client --port "$2" -q "CREATE DATABASE IF NOT EXISTS crest_test" >/dev/null
}

pg_start() {
  local d="$DIR/pg"
  mkdir -p "$d"
  chown postgres:postgres "$d"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    echo postgres >"$d/pw"
    chown postgres:postgres "$d/pw"
    su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$d/data' -A md5 -U postgres --pwfile='$d/pw'" >/dev/null
  fi
  if [ ! -f "$d/data/postmaster.pid" ]; then
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$d/data' -l '$d/server.log' -w -o \"-p $PG_PORT -k '$d' -c listen_addresses=127.0.0.1\" start" >/dev/null
  fi
  export PGPASSWORD=postgres
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'crest'")" ]; then
    "${psql[@]}" -c "CREATE ROLE crest LOGIN PASSWORD 'crest' CREATEDB"
  fi
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'crest_test'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE crest_test OWNER crest"
  fi
}

install
mkdir -p "$DIR"
stop_all

CH_PORT=$(free_port 9000)
CH_SHARD1=$(free_port 9101)
CH_SHARD2=$(free_port $((CH_SHARD1 + 1)))
PG_PORT=$(free_port 5433)

ch_config single "$CH_PORT" "$(free_port 18123)" "$(free_port 19009)"
ch_start single "$CH_PORT"
ch_config shard1 "$CH_SHARD1" "$(free_port 18124)" "$(free_port 19010)"
ch_start shard1 "$CH_SHARD1"
ch_config shard2 "$CH_SHARD2" "$(free_port 18125)" "$(free_port 19011)"
ch_start shard2 "$CH_SHARD2"
pg_start

cat >"$ENV_FILE" <<EOF
CREST_TEST_CLICKHOUSE='clickhouse://127.0.0.1:$CH_PORT/crest_test'
CREST_TEST_CLICKHOUSE_SHARDED='clickhouse://127.0.0.1:$CH_SHARD1/crest_test?cluster=crest_test_shards&shards=127.0.0.1:$CH_SHARD1,127.0.0.1:$CH_SHARD2'
CREST_TEST_POSTGRES='postgres://crest:crest@127.0.0.1:$PG_PORT/crest_test?sslmode=disable'
EOF
log "servers up; addresses in $ENV_FILE"
cat "$ENV_FILE" >&2
