# The browser test's tools (tests/browser, run by node/tests/it/console_browser.rs): Debian's
# Chromium, Node.js, and the npm packages pinned in tests/browser/package-lock.json
# (playwright-core, which drives the system's Chromium and downloads no browser of its own, and
# axe-core). Sourced by scripts/test.sh after setup.sh; exports SALUS_CHROMIUM, which the test
# reads (it defaults to the same path). The test fails, naming this script, when they are missing.

# install_without_recommends PURPOSE PACKAGE...: installs Debian packages as setup.sh's
# install_package does (sudo unless root), without their recommended packages (Chromium's pull in
# a desktop's worth).
install_without_recommends() {
    local purpose="$1"
    shift
    echo "setup: installing $* (for $purpose)" >&2
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: no apt-get here: install $* (or your system's equivalent) yourself" >&2
        exit 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "setup: installing $* needs root, and there is no sudo" >&2
            exit 1
        fi
        sudo="sudo"
    fi
    $sudo apt-get update -qq &&
        $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

export SALUS_CHROMIUM="${SALUS_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$SALUS_CHROMIUM" ]; then
    if [ "$SALUS_CHROMIUM" != /usr/bin/chromium ]; then
        echo "setup: SALUS_CHROMIUM is $SALUS_CHROMIUM, which is not an executable" >&2
        exit 1
    fi
    # A font, or the screenshots show no text (images without recommends may have none).
    install_without_recommends "the console's browser test" chromium fonts-dejavu-core
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    install_without_recommends "the console's browser test (Playwright)" nodejs npm
fi

# `npm ci` installs exactly the lock file's versions; again whenever the lock file is newer than
# what was installed.
salus_browser_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/browser"
if [ ! -d "$salus_browser_dir/node_modules" ] ||
    [ "$salus_browser_dir/package-lock.json" -nt "$salus_browser_dir/node_modules" ]; then
    echo "setup: installing the browser test's npm packages (npm ci in tests/browser)" >&2
    (cd "$salus_browser_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$salus_browser_dir/node_modules"
fi
unset salus_browser_dir
