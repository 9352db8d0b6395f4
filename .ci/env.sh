# Shared by the scripts in .ci/: environment for cargo-leptos and helpers. Source it.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Runtime settings matching what cargo-leptos compiled in.
export LEPTOS_OUTPUT_NAME=relais LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_SITE_PKG_DIR=pkg
export RELAIS_SITE_ROOT="$ROOT/target/site"
RELAIS_BIN="$ROOT/target/release/relais"

# Starts a throw-away PostgreSQL cluster on a loopback port; sets PG_URL and PG_DIR.
start_postgres() {
    local bin port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    port=${RELAIS_TEST_PG_PORT:-55432}
    PG_DIR=$(mktemp -d /tmp/relais-pg.XXXXXX)
    local as_owner=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$PG_DIR"
        as_owner=(runuser -u postgres --)
    fi
    "${as_owner[@]}" "$bin/initdb" -D "$PG_DIR/data" -U relais --auth=trust -E UTF8 >/dev/null
    "${as_owner[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off" start >/dev/null
    PG_URL="postgres://relais@127.0.0.1:$port/postgres"
    PG_STOP=("${as_owner[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate stop)
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ]; then
        "${PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
