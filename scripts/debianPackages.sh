#!/usr/bin/env bash
# Sourced by the test setups: installs the Debian packages named that are not installed yet.
# Another apt-get or dpkg (e.g. a provisioning beside this one) may hold the package locks: wait
# for it, up to APT_LOCK_WAIT seconds, instead of failing at once. apt-get waits for the dpkg lock
# itself (DPkg::Lock::Timeout) but not for the lists lock of `apt-get update`: that one is retried.
APT_LOCK_WAIT=600
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock)
apt_get() {
  local deadline=$((SECONDS + APT_LOCK_WAIT)) said='' rc err
  err=$(mktemp)
  while true; do
    if [ -z "$said" ] && command -v fuser >/dev/null && fuser -s "${APT_LOCKS[@]}" 2>/dev/null; then
      echo "$SETUP_NAME: another apt-get or dpkg holds the package lock; waiting for it (up to $APT_LOCK_WAIT s)"
      said=1
    fi
    rc=0
    apt-get -o DPkg::Lock::Timeout=$((deadline > SECONDS ? deadline - SECONDS : 0)) "$@" 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ] && grep -q 'Could not get lock' "$err" && [ "$SECONDS" -lt "$deadline" ]; then
      [ -n "$said" ] || echo "$SETUP_NAME: another apt-get or dpkg holds the package lock; waiting for it (up to $APT_LOCK_WAIT s)"
      said=1
      sleep 2
      continue
    fi
    cat "$err" >&2
    rm -f "$err"
    return "$rc"
  done
}

# Installs those of the packages named that dpkg does not list as installed.
ensure_debian_packages() {
  local need_pkgs=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
  done
  [ ${#need_pkgs[@]} -gt 0 ] || return 0
  echo "$SETUP_NAME: installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_get update -qq
  apt_get install -y -qq "${need_pkgs[@]}" >/dev/null
}
