# Prometheus Alertmanager and amtool for the tests that use a real Alertmanager as a client of
# Muster's alert intake. `start_alertmanager_tools` installs Debian's prometheus-alertmanager
# package when either program is missing (apt-get, as root) and exports:
#   MUSTER_TEST_ALERTMANAGER   path of the Alertmanager server binary (prometheus-alertmanager)
#   MUSTER_TEST_AMTOOL         path of amtool, Alertmanager's command-line client
# It starts no server: each test runs its own Alertmanager on a free port, with its own
# configuration and storage directory, and stops it. Sourced by scripts/test.

start_alertmanager_tools() {
    local server tool
    alertmanager_find() {
        server=$(command -v prometheus-alertmanager || true)
        if [[ -z "$server" ]] && command -v dpkg >/dev/null; then
            server=$(dpkg -L prometheus-alertmanager 2>/dev/null | grep -E '/bin/prometheus-alertmanager$' | head -n 1 || true)
        fi
        tool=$(command -v amtool || true)
        [[ -n "$server" && -x "$server" && -n "$tool" && -x "$tool" ]]
    }
    if ! alertmanager_find; then
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
            echo "prometheus-alertmanager is not installed (as root: apt-get install prometheus-alertmanager)" >&2
            return 1
        fi
        local install=(apt-get install -y -qq --no-install-recommends prometheus-alertmanager)
        if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null ||
                { echo "cannot install prometheus-alertmanager" >&2; return 1; }
        fi
        alertmanager_find ||
            { echo "prometheus-alertmanager is installed but its programs are not found" >&2; return 1; }
    fi
    export MUSTER_TEST_ALERTMANAGER="$server"
    export MUSTER_TEST_AMTOOL="$tool"
}
