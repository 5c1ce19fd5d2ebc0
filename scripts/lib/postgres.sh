# A throwaway PostgreSQL cluster on loopback for tests and benchmarks, removed on exit.
# `start_postgres` installs PostgreSQL if missing (as root), starts a cluster on the first free
# port from 55432 and sets POSTGRES_URL (and POSTGRES_PORT); `pg_stop` stops and removes it (callers
# trap it on EXIT). Sourced by scripts/test and scripts/bench.

start_postgres() {
    local port
    pg_as=()
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$pg_bin" && $(id -u) -eq 0 ]]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    if [[ -z "$pg_bin" ]]; then
        echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
        exit 1
    fi
    # The first free port from 55432 on.
    for port in $(seq 55432 55450) ""; do
        (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null || break
    done
    if [[ -z "$port" ]]; then
        echo "no free port for PostgreSQL between 55432 and 55450" >&2
        exit 1
    fi
    pg_dir=$(mktemp -d)
    # initdb refuses to run as root.
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres "$pg_dir"
        pg_as=(runuser -u postgres --)
    fi
    pg_stop() {
        "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
    }
    "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres --no-sync >/dev/null
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
        -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null ||
        { cat "$pg_dir/log" >&2; exit 1; }
    POSTGRES_PORT=$port
    POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
