# Headless Chromium and chromedriver for the web UI's browser tests. `start_chromium_tools`
# installs Debian's chromium and chromium-driver packages when either program is missing
# (apt-get, as root; the package lists are refreshed only when the install needs it) and exports:
#   MUSTER_TEST_CHROMIUM       path of the Chromium browser
#   MUSTER_TEST_CHROMEDRIVER   path of chromedriver, the WebDriver server that drives it
# It starts no browser: each test runs its own chromedriver on a free port, with a fresh
# profile, and stops it. Sourced by scripts/test.

start_chromium_tools() {
    local browser driver
    chromium_find() {
        browser=$(command -v chromium || true)
        driver=$(command -v chromedriver || true)
        [[ -n "$browser" && -x "$browser" && -n "$driver" && -x "$driver" ]]
    }
    if ! chromium_find; then
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
            echo "chromium and chromium-driver are not installed (as root: apt-get install chromium chromium-driver)" >&2
            return 1
        fi
        local install=(apt-get install -y -qq --no-install-recommends chromium chromium-driver)
        if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null ||
                { echo "cannot install chromium and chromium-driver" >&2; return 1; }
        fi
        chromium_find ||
            { echo "chromium and chromium-driver are installed but their programs are not found" >&2; return 1; }
    fi
    export MUSTER_TEST_CHROMIUM="$browser"
    export MUSTER_TEST_CHROMEDRIVER="$driver"
}
