#!/usr/bin/env bash
# The production layout on loopback (docs/production.md):
#
#   nginx :18443 (TLS) ─┬─ tsh serve :18101 ─┬─ PostgreSQL primary :5434 ──(streaming)── replica :5433
#                       └─ tsh serve :18102 ─┴─ Redis 127.0.0.1:6379 db 6
#   tsh worker (when the command exists) · Prometheus :19090 with node/postgres/redis exporters
#
# usage: deploy/local-cluster.sh up|down|status
#
# Everything lives under var/cluster/ and every process it starts has a pid file there; `down`
# stops those processes and nothing else. The machine's own PostgreSQL (5432, shared with CI)
# is not touched: replication needs a pg_hba entry and wal settings, so the cluster runs its own
# primary. Redis is the machine's, database 6 only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER="$ROOT/var/cluster"
RUN="$CLUSTER/run"
LOGS="$CLUSTER/logs"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
PRIMARY_PORT=5434
REPLICA_PORT=5433
INSTANCES=(18101 18102)
NGINX_PORT=18443
PROM_PORT=19090
NODE_EXPORTER_PORT=19100
PG_EXPORTER_PORT=19187
REDIS_EXPORTER_PORT=19121
REDIS_URL="${TSH_CLUSTER_REDIS_URL:-redis://127.0.0.1:6379/6}"
DB=tsh_cluster
PRIMARY_URL="postgresql+asyncpg://postgres@127.0.0.1:$PRIMARY_PORT/$DB"
REPLICA_URL="postgresql+asyncpg://postgres@127.0.0.1:$REPLICA_PORT/$DB"
TSH="${TSH:-$ROOT/.venv/bin/tsh}"
[ -x "$TSH" ] || TSH="$(command -v tsh || true)"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# start NAME CMD...: in its own session, output to logs/NAME.log, pid to run/NAME.pid.
start() {
    local name=$1
    shift
    if alive "$name"; then
        log "$name already running (pid $(cat "$RUN/$name.pid"))"
        return
    fi
    setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
    log "$name started (pid $!)"
}

stop() {
    local name=$1 pid
    alive "$name" || { rm -f "$RUN/$name.pid"; return 0; }
    pid=$(cat "$RUN/$name.pid")
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    rm -f "$RUN/$name.pid"
    log "$name stopped"
}

wait_for() { # wait_for WHAT CMD...: up to 30 s
    local what=$1
    shift
    for _ in $(seq 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
    log "$what did not come up; see $LOGS"
    return 1
}

pg_up() {
    local dir=$1 port=$2
    if as_pg "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        log "postgres :$port already running"
        return
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$LOGS/postgres-$port.log" -w -t 60 start >/dev/null
    log "postgres :$port started"
}

up_postgres() {
    local primary="$CLUSTER/pg-primary" replica="$CLUSTER/pg-replica"
    if [ ! -f "$primary/PG_VERSION" ]; then
        mkdir -p "$primary"
        [ "$(id -u)" = 0 ] && chown postgres: "$primary" "$RUN" "$LOGS"
        # trust on loopback only, as the machine's own PostgreSQL here; initdb's pg_hba with
        # --auth=trust already allows replication connections from 127.0.0.1.
        as_pg "$PG_BIN/initdb" -D "$primary" -U postgres --auth=trust -E UTF8 >/dev/null
        cat >>"$primary/postgresql.conf" <<EOF
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
max_connections = 100
shared_buffers = 128MB
EOF
        log "primary cluster created in $primary"
    fi
    pg_up "$primary" "$PRIMARY_PORT"
    if [ ! -f "$replica/PG_VERSION" ]; then
        mkdir -p "$replica"
        [ "$(id -u)" = 0 ] && chown postgres: "$replica"
        chmod 700 "$replica"
        # -R writes standby.signal and primary_conninfo: a streaming hot standby.
        as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$replica" \
            -R -X stream -c fast
        echo "port = $REPLICA_PORT" >>"$replica/postgresql.conf"
        log "replica cloned from the primary into $replica"
    fi
    pg_up "$replica" "$REPLICA_PORT"
    if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc \
        "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
        "$PG_BIN/createdb" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres "$DB"
        log "database $DB created"
    fi
}

# The instances' settings (src/tsh/config.py): production mode, the primary and its replica,
# Redis, and nginx on this machine as the only proxy whose X-Forwarded-For is believed.
tsh_env() {
    # One secret for every instance, made once: a token from one instance is valid on the other.
    [ -f "$CLUSTER/secret" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$CLUSTER/secret")
    # TSH_ENV=prod refuses to start without a metrics token; Prometheus scrapes from loopback.
    [ -f "$CLUSTER/metrics-token" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$CLUSTER/metrics-token")
    TSH_ENV_VARS=(
        TSH_ENV=prod
        TSH_SECRET_KEY="$(cat "$CLUSTER/secret")"
        TSH_METRICS_TOKEN="$(cat "$CLUSTER/metrics-token")"
        TSH_DATABASE_URL="$PRIMARY_URL"
        TSH_DATABASE_REPLICA_URL="$REPLICA_URL"
        TSH_REDIS_URL="$REDIS_URL"
        TSH_TRUSTED_PROXIES='["127.0.0.1/32"]'
        TSH_MEDIA_DIR="$CLUSTER/media"
    )
}

up_app() {
    [ -n "$TSH" ] || { echo "no tsh command: install the project (make install) or set TSH=" >&2; exit 1; }
    tsh_env
    (cd "$ROOT" && env "${TSH_ENV_VARS[@]}" "$TSH" migrate && env "${TSH_ENV_VARS[@]}" "$TSH" seed --if-empty) |
        sed 's/^/  /'
    for port in "${INSTANCES[@]}"; do
        start "tsh-$port" env --chdir="$ROOT" "${TSH_ENV_VARS[@]}" "$TSH" serve --host 127.0.0.1 --port "$port"
    done
    for port in "${INSTANCES[@]}"; do
        wait_for "tsh :$port" curl -fsS "http://127.0.0.1:$port/health/live"
    done
    if "$TSH" worker --help >/dev/null 2>&1; then
        start tsh-worker env --chdir="$ROOT" "${TSH_ENV_VARS[@]}" "$TSH" worker
    else
        log "no \`tsh worker\` command in this version: scheduled jobs not started"
    fi
}

up_nginx() {
    local prefix="$CLUSTER/nginx"
    mkdir -p "$prefix/conf/tls" "$prefix/logs" "$prefix/temp"
    cp "$ROOT/deploy/nginx/nginx.conf" "$ROOT/deploy/nginx/tsh.conf" "$prefix/conf/"
    if [ ! -f "$prefix/conf/tls/tsh.crt" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$prefix/conf/tls/tsh.key" -out "$prefix/conf/tls/tsh.crt" 2>/dev/null
        log "self-signed certificate in $prefix/conf/tls"
    fi
    # nginx daemonizes and writes its own pid file; run/nginx.pid points at it for stop/status.
    if [ -f "$prefix/logs/nginx.pid" ] && kill -0 "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null; then
        log "nginx already running"
    else
        nginx -p "$prefix" -c conf/nginx.conf -e "$prefix/logs/error.log"
        wait_for nginx test -s "$prefix/logs/nginx.pid"
        log "nginx started"
    fi
    cp "$prefix/logs/nginx.pid" "$RUN/nginx.pid"
}

up_monitoring() {
    local prom="$CLUSTER/prometheus"
    mkdir -p "$prom/data"
    cp "$ROOT/deploy/prometheus/prometheus.yml" "$ROOT/deploy/prometheus/alerts.yml" "$prom/"
    start node-exporter prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_EXPORTER_PORT"
    start postgres-exporter env \
        DATA_SOURCE_NAME="postgresql://postgres@127.0.0.1:$PRIMARY_PORT/postgres?sslmode=disable" \
        prometheus-postgres-exporter --web.listen-address="127.0.0.1:$PG_EXPORTER_PORT"
    start redis-exporter prometheus-redis-exporter -redis.addr "${REDIS_URL%/*}" \
        -web.listen-address "127.0.0.1:$REDIS_EXPORTER_PORT"
    start prometheus prometheus --config.file="$prom/prometheus.yml" --storage.tsdb.path="$prom/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=2d
    wait_for prometheus curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready"
}

cmd_up() {
    mkdir -p "$RUN" "$LOGS" "$CLUSTER/media"
    up_postgres
    up_app
    up_nginx
    up_monitoring
    log "up: https://127.0.0.1:$NGINX_PORT (self-signed), Prometheus http://127.0.0.1:$PROM_PORT"
}

cmd_down() {
    stop prometheus
    stop redis-exporter
    stop postgres-exporter
    stop node-exporter
    if alive nginx; then
        nginx -p "$CLUSTER/nginx" -c conf/nginx.conf -e "$CLUSTER/nginx/logs/error.log" -s quit
        for _ in $(seq 50); do alive nginx || break; sleep 0.2; done
        rm -f "$RUN/nginx.pid"
        log "nginx stopped"
    fi
    stop tsh-worker
    for port in "${INSTANCES[@]}"; do stop "tsh-$port"; done
    for dir in pg-replica pg-primary; do
        if [ -f "$CLUSTER/$dir/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER/$dir" status >/dev/null 2>&1; then
            as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER/$dir" -m fast -w stop >/dev/null
            log "postgres $dir stopped"
        fi
    done
    log "down (data kept in $CLUSTER; remove it for a fresh cluster)"
}

row() { printf '  %-26s %s\n' "$1" "$2"; }

cmd_status() {
    local rc=0 state
    for spec in "primary:$PRIMARY_PORT" "replica:$REPLICA_PORT"; do
        if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "${spec#*:}"; then
            state=$("$PG_BIN/psql" -h 127.0.0.1 -p "${spec#*:}" -U postgres -Atc "select case when pg_is_in_recovery() then 'standby' else 'primary' end")
            row "postgres ${spec%%:*} :${spec#*:}" "up ($state)"
        else
            row "postgres ${spec%%:*} :${spec#*:}" "DOWN"
            rc=1
        fi
    done
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PRIMARY_PORT"; then
        state=$("$PG_BIN/psql" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -Atc \
            "select coalesce(string_agg(state || ', lag ' || coalesce(pg_wal_lsn_diff(sent_lsn, replay_lsn), 0) || ' bytes', '; '), 'none') from pg_stat_replication")
        row "replication" "$state"
    fi
    if redis-cli -u "$REDIS_URL" ping 2>/dev/null | grep -q PONG; then row "redis $REDIS_URL" "up"; else row "redis $REDIS_URL" "DOWN"; rc=1; fi
    for port in "${INSTANCES[@]}"; do
        state=$(curl -sS -m 3 "http://127.0.0.1:$port/health/ready" 2>/dev/null || true)
        if alive "tsh-$port" && [ -n "$state" ]; then row "tsh :$port" "up $state"; else row "tsh :$port" "DOWN"; rc=1; fi
    done
    if alive tsh-worker; then row "tsh worker" "up"; else row "tsh worker" "not running"; fi
    if alive nginx && curl -fsSk -m 3 -o /dev/null "https://127.0.0.1:$NGINX_PORT/health/live"; then
        row "nginx :$NGINX_PORT" "up"
    else
        row "nginx :$NGINX_PORT" "DOWN"
        rc=1
    fi
    for name in node-exporter postgres-exporter redis-exporter; do
        if alive "$name"; then row "$name" "up"; else row "$name" "DOWN"; rc=1; fi
    done
    if alive prometheus && curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"; then
        state=$(curl -sS "http://127.0.0.1:$PROM_PORT/api/v1/targets" | python3 -c \
            'import json,sys; t=json.load(sys.stdin)["data"]["activeTargets"]; print(sum(x["health"]=="up" for x in t), "of", len(t), "targets up")')
        row "prometheus :$PROM_PORT" "up, $state"
    else
        row "prometheus :$PROM_PORT" "DOWN"
        rc=1
    fi
    return $rc
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
