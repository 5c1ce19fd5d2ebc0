# A throwaway SMTP sink on loopback for the email tests, removed by smtp_stop.
# `start_smtp_sink` installs aiosmtpd in a virtual environment under
# ${MUSTER_TOOLS:-$HOME/.cache/muster-tools}/venv-smtp if missing, makes a test certificate
# authority and a certificate for 127.0.0.1 (openssl), starts scripts/lib/smtp_sink.py on two free
# ports (plain with STARTTLS, and TLS from the first byte) and exports:
#   MUSTER_TEST_SMTP_ADDR       127.0.0.1:PORT, plain, STARTTLS offered, AUTH after STARTTLS
#   MUSTER_TEST_SMTP_TLS_ADDR   127.0.0.1:PORT, TLS from the first byte
#   MUSTER_TEST_SMTP_DIR        where each received message lands as <n>.eml and <n>.json
#   MUSTER_TEST_SMTP_CA         the certificate authority (PEM) that signed the server's certificate
#   MUSTER_TEST_SMTP_AUTH       USER:PASSWORD the sink accepts
# `smtp_stop` stops it and removes its files (callers trap it on EXIT). Sourced by scripts/test.

smtp_sink_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/smtp_sink.py"

start_smtp_sink() {
    local tools="${MUSTER_TOOLS:-$HOME/.cache/muster-tools}"
    local venv="$tools/venv-smtp"
    local port tls_port attempt
    # python3-venv and openssl come from the distribution when missing (as root).
    smtp_apt_install() {
        [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null || return 1
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    }
    if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        mkdir -p "$tools"
        rm -rf "$venv"
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            rm -rf "$venv"
            smtp_apt_install python3-venv && python3 -m venv "$venv" ||
                { echo "cannot create a Python virtual environment (apt-get install python3-venv)" >&2; return 1; }
        fi
        "$venv/bin/pip" install --quiet --disable-pip-version-check aiosmtpd ||
            { echo "cannot install aiosmtpd" >&2; return 1; }
    fi
    if ! command -v openssl >/dev/null; then
        smtp_apt_install openssl || { echo "openssl is not installed (apt-get install openssl)" >&2; return 1; }
    fi
    smtp_dir=$(mktemp -d)
    smtp_pid=
    smtp_stop() {
        if [[ -n "${smtp_pid:-}" ]]; then
            kill "$smtp_pid" 2>/dev/null || true
            wait "$smtp_pid" 2>/dev/null || true
            smtp_pid=
        fi
        rm -rf "$smtp_dir"
    }

    # A certificate authority of its own and a server certificate it signs, for 127.0.0.1:
    # clients trust the authority, as they would a company's private one.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Muster test SMTP CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -keyout "$smtp_dir/ca.key" -out "$smtp_dir/ca.pem" 2>/dev/null &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
            -keyout "$smtp_dir/server.key" -out "$smtp_dir/server.csr" 2>/dev/null &&
        openssl x509 -req -in "$smtp_dir/server.csr" -days 2 \
            -CA "$smtp_dir/ca.pem" -CAkey "$smtp_dir/ca.key" -CAcreateserial \
            -extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
                "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
                "extendedKeyUsage=serverAuth") \
            -out "$smtp_dir/server.pem" 2>/dev/null ||
        { echo "cannot make the test certificates with openssl" >&2; smtp_stop; return 1; }

    # Two ports the kernel reports free right now.
    read -r port tls_port < <("$venv/bin/python" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
EOF
)
    mkdir "$smtp_dir/mail"
    "$venv/bin/python" "$smtp_sink_script" --listen "127.0.0.1:$port" \
        --tls-listen "127.0.0.1:$tls_port" --dir "$smtp_dir/mail" \
        --cert "$smtp_dir/server.pem" --key "$smtp_dir/server.key" \
        --auth "muster:sink-password" >"$smtp_dir/log" 2>&1 &
    smtp_pid=$!

    # Ready when both ports accept connections: at most about ten seconds.
    for attempt in $(seq 100); do
        if (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && (: </dev/tcp/127.0.0.1/"$tls_port") 2>/dev/null; then
            break
        fi
        if ! kill -0 "$smtp_pid" 2>/dev/null || [[ $attempt -eq 100 ]]; then
            echo "the SMTP sink did not start:" >&2
            cat "$smtp_dir/log" >&2
            smtp_stop
            return 1
        fi
        sleep 0.1
    done

    export MUSTER_TEST_SMTP_ADDR="127.0.0.1:$port"
    export MUSTER_TEST_SMTP_TLS_ADDR="127.0.0.1:$tls_port"
    export MUSTER_TEST_SMTP_DIR="$smtp_dir/mail"
    export MUSTER_TEST_SMTP_CA="$smtp_dir/ca.pem"
    export MUSTER_TEST_SMTP_AUTH="muster:sink-password"
}
