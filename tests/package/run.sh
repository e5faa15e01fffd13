#!/usr/bin/env bash
# Package test: the .deb in a real, booted Debian bookworm with systemd.
#
#  1. builds the .deb with cargo-deb (release) and runs lintian (no errors allowed);
#  2. debootstraps a minimal bookworm once into a cache folder (reused; each run works on a fresh
#     copy), boots it with systemd-nspawn (private network), installs the .deb with dpkg into the
#     running system, as IT would;
#  3. checks: the unit reaches active (running) after READY; /api/v1/healthz answers; the journal
#     holds the start-up line as native journal entries; the daemon runs as its own user with the
#     scanner groups; the hardening exposure; a healthy daemon is not killed by the watchdog; a
#     hung daemon (SIGSTOP) is killed by the watchdog and restarted; a database backup while
#     running; the kiosk session (cage on wlroots' headless backend with chromium, as IT enables
#     it) loads the lane screen and holds the event stream open, as the daemon counts it;
#     `dpkg --remove` keeps config and data; `dpkg --purge` leaves nothing behind.
#
# Needs root (debootstrap, nspawn). Installs debootstrap, systemd-container, lintian and cargo-deb
# when missing. Cache: $SCANSTATION_TEST_CACHE (default /var/cache/scanstation-test) holds the
# bookworm tree and the release target dir ($SCANSTATION_PKG_TARGET_DIR to put it elsewhere).
# Prints a timing per step and a final line "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

T0=$(date +%s)
PASS=0
FAIL=0
stamp() { echo "[$(($(date +%s) - T0))s] $*"; }
ok() {
    PASS=$((PASS + 1))
    echo "ok   - $*"
}
not_ok() {
    FAIL=$((FAIL + 1))
    echo "FAIL - $*"
}
# check "description" command...: passes when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
    echo "package test took $(($(date +%s) - T0))s"
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
exposure() { # $1: the systemd-analyze security output
    sed -n 's/.*Overall exposure level for scanstation.service: \([0-9.]*\).*/\1/p' <<<"$1"
}
at_most_2() { awk -v e="$1" 'BEGIN { exit !(e != "" && e <= 2.0) }'; }
quietly() { # run, show the output only on failure
    local out
    if out=$("$@" 2>&1); then return 0; fi
    echo "$out"
    return 1
}
die() {
    not_ok "$*"
    finish || exit 1
}

[ "$(id -u)" -eq 0 ] || die "the package test needs root (debootstrap, systemd-nspawn)"

# Test settings: a short watchdog so the hang test is quick (the shipped value is 30s).
WATCHDOG_SEC=6
RESTART_SEC=2
CACHE=${SCANSTATION_TEST_CACHE:-/var/cache/scanstation-test}
# The mirror apt uses on this machine, else deb.debian.org.
MIRROR=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)[[:space:]]*$/\1/p' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
    /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
INCLUDE=systemd,systemd-sysv,dbus,curl,ca-certificates,procps,sqlite3
# The kiosk screen's packages (the .deb recommends cage and chromium; dpkg -i installs no
# recommends): cage needs xwayland to start (Debian's cage 0.1.4), grim takes a screenshot.
KIOSK_PKGS="cage chromium xwayland grim fonts-dejavu-core"
BASE=$CACHE/bookworm-$(echo "$INCLUDE $KIOSK_PKGS" | md5sum | cut -c1-8)

WORK=$(mktemp -d /var/tmp/scanstation-pkgtest.XXXXXX)
ROOTFS=$WORK/root
NSPAWN_PID=
cleanup() {
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        # SIGTERM asks nspawn to shut the container down cleanly; SIGKILL after a deadline.
        kill -TERM "$NSPAWN_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$NSPAWN_PID" 2>/dev/null || true
        wait "$NSPAWN_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---- tools ----------------------------------------------------------------------------------
stamp "tools"
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v lintian >/dev/null || need+=(lintian)
command -v nsenter >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! cargo deb --version >/dev/null 2>&1; then
    echo "installing cargo-deb"
    cargo install cargo-deb --locked
fi

# ---- build and lint ---------------------------------------------------------------------------
# Its own target dir: a target dir shared with other checkouts (CARGO_TARGET_DIR) can have
# target/release/scanstation replaced by another checkout's build before cargo-deb packs it.
# The lock keeps two package tests from building into it at once.
export CARGO_TARGET_DIR=${SCANSTATION_PKG_TARGET_DIR:-$CACHE/target}
mkdir -p "$CARGO_TARGET_DIR"
stamp "building the .deb (cargo deb, release, target dir $CARGO_TARGET_DIR)"
# Build and copy the .deb out under the lock, so a concurrent run cannot swap it.
# The cached target dir is shared by every checkout on this machine, and cargo names this crate's
# artifacts the same in each: a build from another checkout with newer files would count as fresh.
# Touching the crate's roots under the lock makes cargo rebuild this checkout's crate (the
# dependencies stay cached).
flock "$CARGO_TARGET_DIR/.package-test.lock" bash -c \
    'touch src/lib.rs src/main.rs && deb=$(cargo deb -- --locked | tail -n1) && [ -f "$deb" ] && cp "$deb" "$1/" && echo "built $deb"' \
    _ "$WORK" || die "cargo deb failed"
DEB=$(ls "$WORK"/scanstation_*.deb)
check "the packaged binary has this checkout's systemd notifications" \
    bash -c 'dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/bin/scanstation | grep -q "cannot notify systemd"' _ "$DEB"
stamp "lintian"
LINT=$(lintian --info "$DEB" 2>&1 | grep -v -e '^N:' -e 'running with root privileges' || true)
[ -z "$LINT" ] || echo "$LINT"
check "lintian reports no errors" bash -c '! grep -q "^E:" <<<"$1"' _ "$LINT"
# The warnings we accept are listed in docs/IT.md; anything else is a failure.
UNEXPECTED=$(grep '^W:' <<<"$LINT" | grep -v -e 'initial-upload-closes-no-bugs' \
    -e 'no-manual-page' || true)
check "lintian warnings are only the accepted ones" test -z "$UNEXPECTED"
E_SHIP=$(exposure "$(systemd-analyze security --offline=true systemd/scanstation.service 2>/dev/null || true)")
echo "  exposure of the shipped unit (offline): $E_SHIP"
check "exposure of the shipped unit is at most 2.0" at_most_2 "$E_SHIP"

# Every key of the Config structs in src/config.rs appears (set or commented) in the default config.
config_keys_documented() {
    local key missing=""
    # Fields of the *Config structs, except #[serde(skip)] ones (not keys of the file).
    for key in $(awk '/^pub struct [A-Za-z]*Config/,/^}/' src/config.rs |
        awk '/serde\(skip\)/ { skip = 1; next }
             /^[[:space:]]*pub [a-z_]+:/ { if (!skip) print; skip = 0 }' |
        sed -n 's/^[[:space:]]*pub \([a-z_]*\):.*/\1/p' | sed 's/^match_$/match/' | sort -u); do
        grep -Eq "^#? ?(\[\[?$key\]\]?|$key =)" packaging/scanstation.toml || missing="$missing $key"
    done
    [ -z "$missing" ] || echo "  not in packaging/scanstation.toml:$missing"
    [ -z "$missing" ]
}
check "the default config shows every config key" config_keys_documented

# ---- udev rules (host-side dry run with udevadm test) ------------------------------------------
if command -v udevadm >/dev/null && [ -e /sys/class/tty/ttyS0 ]; then
    stamp "udev rules"
    RULES_TMP=/run/udev/rules.d
    mkdir -p "$RULES_TMP"
    cp packaging/udev/70-scanstation.rules "$RULES_TMP/70-scanstation-pkgtest.rules"
    echo 'SUBSYSTEM=="tty", KERNEL=="ttyS0", ENV{SCANSTATION_SCANNER}="1"' \
        >"$RULES_TMP/69-scanstation-pkgtest-local.rules"
    UDEV_OUT=$(udevadm test /sys/class/tty/ttyS0 2>&1 || true)
    rm -f "$RULES_TMP/70-scanstation-pkgtest.rules" "$RULES_TMP/69-scanstation-pkgtest-local.rules"
    check "udev: a serial scanner added by a local rule gets ID_MM_DEVICE_IGNORE=1" \
        grep -qx 'ID_MM_DEVICE_IGNORE=1' <<<"$UDEV_OUT"
    check "udev: the rules file parses without errors" \
        bash -c '! grep -qi -e "invalid" -e "error" <<<"$1"' _ "$(grep 70-scanstation-pkgtest <<<"$UDEV_OUT")"
else
    echo "note: udev rule checks skipped (no udevadm or no /sys/class/tty/ttyS0 on this host)"
fi

# ---- minimal bookworm (cached) -------------------------------------------------------------------
if [ ! -f "$BASE/.complete" ]; then
    stamp "debootstrap bookworm into $BASE (once; from $MIRROR)"
    rm -rf "$BASE.tmp"
    mkdir -p "$CACHE"
    debootstrap --variant=minbase --include="$INCLUDE" bookworm "$BASE.tmp" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed, see $CACHE/debootstrap.log"
    # apt resolves the kiosk's dependency tree better than debootstrap's --include; nspawn (not
    # booted, host network) runs it in the new tree.
    # shellcheck disable=SC2086 # KIOSK_PKGS is a list of words
    systemd-nspawn --quiet --directory="$BASE.tmp" --register=no --keep-unit \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $KIOSK_PKGS >>"$CACHE/debootstrap.log" 2>&1 ||
        die "installing the kiosk packages ($KIOSK_PKGS) failed, see $CACHE/debootstrap.log"
    rm -rf "$BASE.tmp/var/cache/apt/archives/"*.deb
    rm -rf "$BASE"
    mv "$BASE.tmp" "$BASE"
    touch "$BASE/.complete"
fi
stamp "fresh copy of the cached system"
cp -a "$BASE" "$ROOTFS"
rm -f "$ROOTFS/.complete"
echo scanstation-test >"$ROOTFS/etc/hostname"
# The test's short watchdog, as a drop-in (how IT would change it too).
mkdir -p "$ROOTFS/etc/systemd/system/scanstation.service.d"
cat >"$ROOTFS/etc/systemd/system/scanstation.service.d/test.conf" <<EOF
[Service]
WatchdogSec=${WATCHDOG_SEC}s
RestartSec=${RESTART_SEC}s
TimeoutAbortSec=5s
EOF

# ---- boot ---------------------------------------------------------------------------------------
stamp "booting the container (systemd-nspawn --boot)"
systemd-nspawn --quiet --directory="$ROOTFS" --boot --register=no --keep-unit \
    --private-network --console=passive >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
# The container's PID 1 is the systemd grandchild of nspawn.
LEADER=
deadline=$(($(date +%s) + 30))
while [ -z "$LEADER" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    for child in $(pgrep -P "$NSPAWN_PID" || true); do
        for p in $child $(pgrep -P "$child" || true); do
            if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then LEADER=$p; fi
        done
    done
    [ -n "$LEADER" ] || sleep 0.2
done
[ -n "$LEADER" ] || {
    cat "$WORK/console.log"
    die "systemd did not start in the container"
}
inside() {
    nsenter --target "$LEADER" --all --root --wd \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= "$@"
}
# Wait (polling, with a deadline) until $2 prints something matching the regex $1.
wait_for() {
    local pattern=$1 seconds=$2
    shift 2
    local end=$(($(date +%s) + seconds))
    while [ "$(date +%s)" -lt "$end" ]; do
        if "$@" 2>/dev/null | grep -Eq "$pattern"; then return 0; fi
        sleep 0.3
    done
    return 1
}
check "container boots to running (or degraded)" \
    wait_for '^(running|degraded)$' 60 inside systemctl is-system-running
inside systemctl --failed --no-legend --plain | sed 's/^/  failed unit: /' || true

# ---- install -----------------------------------------------------------------------------------
stamp "installing the .deb with dpkg in the running system"
cp "$DEB" "$ROOTFS/root/scanstation.deb"
if ! inside dpkg -i /root/scanstation.deb >"$WORK/dpkg.log" 2>&1; then
    cat "$WORK/dpkg.log"
    die "dpkg -i failed"
fi
show() { inside systemctl show -p "$1" --value scanstation.service; }
state() { echo "$(show ActiveState) $(show SubState)"; }
has_groups() { # pid: the daemon carries the gids of input and dialout
    local groups gi gd
    groups=$(inside grep '^Groups:' "/proc/$1/status")
    gi=$(grep '^input:' "$ROOTFS/etc/group" | cut -d: -f3)
    gd=$(grep '^dialout:' "$ROOTFS/etc/group" | cut -d: -f3)
    echo "  $groups (input=$gi dialout=$gd)"
    grep -qw "$gi" <<<"$groups" && grep -qw "$gd" <<<"$groups"
}
backup_works() { # exactly as docs/IT.md says
    inside runuser -u scanstation -- sqlite3 /var/lib/scanstation/scanstation.db \
        ".backup /var/lib/scanstation/backup.db" &&
        inside mv /var/lib/scanstation/backup.db /root/backup.db &&
        [ "$(inside sqlite3 /root/backup.db 'PRAGMA integrity_check')" = ok ]
}
T_READY=$(date +%s)
check "scanstation.service reaches active (running) after READY" \
    wait_for '^active running$' 60 state
echo "  active $(($(date +%s) - T_READY))s after dpkg -i returned"
check "READY carried the status text 'serving'" test "$(show StatusText)" = serving
check "scanstation.service is enabled" test "$(inside systemctl is-enabled scanstation.service)" = enabled
check "scanstation-kiosk.service is shipped but not enabled" \
    test "$(inside systemctl is-enabled scanstation-kiosk.service 2>/dev/null || true)" = disabled
# READY must come after the port is bound and the migrations ran: both hold at once, no waiting.
check "at READY: GET /api/v1/healthz answers 200 on the first try" \
    quietly inside curl -fsS --max-time 5 http://127.0.0.1:8080/api/v1/healthz
# The schema version is the number of the last step (step 3, the enrollment snapshot, is Rust).
MIGRATIONS=$(ls migrations/*.sql | sed 's#.*/##; s#_.*##; s#^0*##' | sort -n | tail -1)
check "at READY: the database schema is migrated (user_version = $MIGRATIONS)" test \
    "$(inside runuser -u scanstation -- sqlite3 /var/lib/scanstation/scanstation.db \
        'PRAGMA user_version' 2>&1)" = "$MIGRATIONS"
PID1=$(show MainPID)
check "the journal holds the start-up line (native journal entry)" \
    wait_for 'scanstation .* started: station' 10 inside journalctl -u scanstation.service \
    --no-pager -o cat SYSLOG_IDENTIFIER=scanstation SCANSTATION_VERSION=0.1.0 \
    TARGET=scanstation::daemon
check "the daemon runs as user scanstation" \
    test "$(inside ps -o user= -p "$PID1" | tr -d ' ')" = scanstation
check "the daemon has the input and dialout groups" has_groups "$PID1"
check "the config is root:scanstation 0640" \
    test "$(inside stat -c '%U:%G %a' /etc/scanstation/scanstation.toml)" = "root:scanstation 640"
check "scanstation check-config accepts the default config" inside scanstation check-config
E_RUN=$(exposure "$(inside systemd-analyze security scanstation.service 2>/dev/null || true)")
echo "  exposure of the running unit (with the test drop-in): $E_RUN"
check "exposure of the running unit is at most 2.0" at_most_2 "$E_RUN"
check "database backup with sqlite3 .backup while running" backup_works

# ---- watchdog ----------------------------------------------------------------------------------
stamp "watchdog: a healthy daemon survives 2 x WatchdogSec (${WATCHDOG_SEC}s)"
# Observing that nothing happens needs a window; it is bounded and says why it waits.
sleep $((2 * WATCHDOG_SEC))
check "a healthy daemon is not restarted by the watchdog (it pings WATCHDOG=1)" \
    test "$(show MainPID)-$(show NRestarts)" = "$PID1-0"
PID1=$(show MainPID)
RESTARTS=$(show NRestarts)
stamp "watchdog: SIGSTOP the daemon (pid $PID1)"
inside kill -STOP "$PID1"
T_STOP=$(date +%s)
restarted() {
    local pid state
    pid=$(show MainPID)
    state=$(show ActiveState)/$(show SubState)
    [ "$pid" != 0 ] && [ "$pid" != "$PID1" ] && [ "$state" = active/running ]
}
wait_restart() {
    local end=$(($(date +%s) + WATCHDOG_SEC + RESTART_SEC + 30))
    while [ "$(date +%s)" -lt "$end" ]; do
        restarted && return 0
        sleep 0.3
    done
    return 1
}
check "a hung daemon is killed by the watchdog and restarted" wait_restart
echo "  back after $(($(date +%s) - T_STOP))s (WatchdogSec=${WATCHDOG_SEC}s, RestartSec=${RESTART_SEC}s)"
check "the journal records the watchdog timeout" \
    wait_for 'Watchdog timeout' 10 inside journalctl -u scanstation.service --no-pager -o cat
check "NRestarts went up" test "$(show NRestarts)" -gt "$RESTARTS"
check "/healthz answers again after the restart" \
    wait_for . 10 inside curl -fsS --max-time 2 http://127.0.0.1:8080/api/v1/healthz

# ---- kiosk session -------------------------------------------------------------------------------
# scanstation-kiosk.service as shipped, started as IT would, with a drop-in for what the container
# lacks: no tty1, no seat (logind session), no GPU. wlroots' headless backend with the pixman
# renderer stands in for the screen. The proof is on the daemon's side: /status counts the event
# streams open, and the kiosk's browser holds one once the lane screen's script runs.
stamp "kiosk session: cage (headless wlroots) with chromium on the lane screen"
KIOSK_PIN=24680
KIOSK_HASH=$(echo "$KIOSK_PIN" | inside scanstation hash-pin)
printf '\n[[supervisor]]\nname = "Package test"\npin_hash = "%s"\n' "$KIOSK_HASH" \
    >>"$ROOTFS/etc/scanstation/scanstation.toml"
inside systemctl restart scanstation.service
check "the daemon is back with a supervisor added to its config" \
    wait_for '^active running$' 60 state
KIOSK_DROPIN=$ROOTFS/etc/systemd/system/scanstation-kiosk.service.d
mkdir -p "$KIOSK_DROPIN"
cat >"$KIOSK_DROPIN/test.conf" <<EOF
[Unit]
ConditionPathExists=
[Service]
PAMName=
StandardInput=null
TTYReset=no
TTYVHangup=no
TTYVTDisallocate=no
UtmpIdentifier=
RuntimeDirectory=scanstation-kiosk
Environment=XDG_RUNTIME_DIR=/run/scanstation-kiosk
Environment=WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
EOF
inside systemctl daemon-reload
inside systemctl start scanstation-kiosk.service || true
api() { inside curl -fsS --max-time 5 -b /root/cookies -c /root/cookies "$@"; }
login() {
    api -H 'Content-Type: application/json' -d "{\"pin\": \"$KIOSK_PIN\"}" \
        http://127.0.0.1:8080/api/v1/session
}
event_clients() { api http://127.0.0.1:8080/api/v1/status | grep -o '"event_clients":[0-9]*'; }
check "supervisor login over the API in the container" quietly login
check "the kiosk unit runs chromium in cage as scanstation-kiosk" \
    wait_for 'chromium' 30 inside pgrep -u scanstation-kiosk -a chromium
check "the kiosk's chromium plays sound without a tap (--autoplay-policy)" \
    wait_for 'autoplay-policy=no-user-gesture-required' 10 inside pgrep -u scanstation-kiosk -af chromium
T_KIOSK=$(date +%s)
if wait_for '"event_clients":[1-9]' 90 event_clients; then
    ok "the kiosk's browser loaded the lane screen and holds the event stream open"
    echo "  event stream open $(($(date +%s) - T_KIOSK))s after the kiosk started"
else
    not_ok "the kiosk's browser loaded the lane screen and holds the event stream open"
    inside journalctl -u scanstation-kiosk.service --no-pager -o cat | grep -v -i dbus | tail -n 30
fi
# A screenshot from inside the session (informative, not a check): with cage 0.1.4 on the headless
# backend the output repaints only its first frames ("Basic output test failed for HEADLESS-1" in
# the journal), so grim returns an early frame: black for chromium on X11 (Xwayland), the page's
# boot frame on native Wayland. The daemon's side above is the check.
SHOTS=$CARGO_TARGET_DIR/screenshots
mkdir -p "$SHOTS"
if GRIM=$(inside runuser -u scanstation-kiosk -- env XDG_RUNTIME_DIR=/run/scanstation-kiosk \
    WAYLAND_DISPLAY=wayland-0 grim /run/scanstation-kiosk/screen.png 2>&1) &&
    inside cat /run/scanstation-kiosk/screen.png >"$SHOTS/kiosk-session.png"; then
    echo "  note: grim in the session wrote $SHOTS/kiosk-session.png ($(stat -c %s "$SHOTS/kiosk-session.png") bytes)"
else
    echo "  note: grim could not take a screenshot in the kiosk session: $GRIM"
    inside ls -la /run/scanstation-kiosk || true
fi
# A scan goes out on the stream (the screen shows it and plays its tone); the screen's stream is
# still held after it.
inside curl -fsS --max-time 5 -H 'Content-Type: application/json' -d '{"code": "PKGTEST"}' \
    http://127.0.0.1:8080/api/v1/lanes/main/scans >/dev/null || true
kiosk_restarts() { inside systemctl show -p NRestarts --value scanstation-kiosk.service; }
if wait_for '"event_clients":[1-9]' 30 event_clients && [ "$(kiosk_restarts)" = 0 ]; then
    ok "the kiosk's event stream stays open after a scan"
else
    not_ok "the kiosk's event stream stays open after a scan (kiosk restarts: $(kiosk_restarts))"
    inside journalctl -u scanstation-kiosk.service --no-pager -o cat | grep -v -i dbus | tail -n 40
fi
inside systemctl stop scanstation-kiosk.service
rm -rf "$KIOSK_DROPIN"
inside systemctl daemon-reload

# ---- remove and purge ----------------------------------------------------------------------------
stamp "dpkg --remove, then dpkg --purge"
rm -rf "$ROOTFS/etc/systemd/system/scanstation.service.d" # the test's own drop-in
inside systemctl daemon-reload
check "dpkg --remove succeeds" quietly inside dpkg --remove scanstation
check "remove stops the daemon" test -z "$(inside pgrep -x scanstation || true)"
check "remove keeps the config and the database" \
    test -f "$ROOTFS/etc/scanstation/scanstation.toml" -a -f "$ROOTFS/var/lib/scanstation/scanstation.db"
check "dpkg --purge succeeds" quietly inside dpkg --purge scanstation
check "purge removes /etc/scanstation and /var/lib/scanstation" \
    test ! -e "$ROOTFS/etc/scanstation" -a ! -e "$ROOTFS/var/lib/scanstation"
check "purge removes the users and groups" \
    test -z "$(grep '^scanstation' "$ROOTFS/etc/passwd" "$ROOTFS/etc/group" || true)"
LEFT=$(inside find / -xdev \( -path /proc -o -path /sys -o -path /root \) -prune -o \
    -name '*scanstation*' -print 2>/dev/null | grep -v -e '^/var/log/journal/' || true)
[ -z "$LEFT" ] || echo "$LEFT" | sed 's/^/  left behind: /'
check "purge leaves no file named *scanstation* behind" test -z "$LEFT"
check "purge leaves no stat override" \
    test -z "$(grep scanstation "$ROOTFS/var/lib/dpkg/statoverride" || true)"

stamp "done"
finish
