#!/usr/bin/env bash
# The field stage's managed node, on this machine: what a production-like Magento host has (issue 10, "Tests").
#
#   tests/field/host.sh install             # openssh-server, sudo, acl (apt-get, as root; skipped when present)
#   tests/field/host.sh users               # the deploy user (sudo, SSH key login) and the store owner
#   tests/field/host.sh sshd-start DIR      # an sshd on a free loopback port; prints its port; state in DIR
#   tests/field/host.sh sshd-stop DIR       # stops that sshd (its pid file), leaves the rest
#
# Idempotent; needs root. The users and packages stay (a rerun finds them); the sshd and DIR do not.
set -euo pipefail

DEPLOY_USER="${FIELD_DEPLOY_USER:-cmb-deploy}"
STORE_OWNER="${FIELD_STORE_OWNER:-www-data}"

say() { printf '[field] %s\n' "$*" >&2; }

install_packages() {
    local missing=()
    command -v sshd >/dev/null 2>&1 || [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
    command -v sudo >/dev/null 2>&1 || missing+=(sudo)
    command -v setfacl >/dev/null 2>&1 || missing+=(acl)
    [[ ${#missing[@]} -eq 0 ]] && { say "packages: openssh-server, sudo, acl already there"; return; }
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}

make_users() {
    if ! id "$DEPLOY_USER" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/bash "$DEPLOY_USER"
    fi
    # '*' (no password) instead of useradd's '!' (locked): sshd without PAM refuses a locked account a key login
    usermod -p '*' "$DEPLOY_USER"
    echo "$DEPLOY_USER ALL=(ALL:ALL) NOPASSWD: ALL" > /etc/sudoers.d/cmb-field-deploy
    chmod 0440 /etc/sudoers.d/cmb-field-deploy
    if ! id "$STORE_OWNER" >/dev/null 2>&1; then
        useradd --system --user-group --shell /usr/sbin/nologin "$STORE_OWNER"
    fi
    # Debian's www-data has /var/www as home; like on a real host it exists and belongs to root.
    local home
    home="$(getent passwd "$STORE_OWNER" | cut -d: -f6)"
    [[ -d "$home" ]] || install -d -m 0755 "$home"
    say "users: $DEPLOY_USER (sudo, SSH key) and $STORE_OWNER (owns the store)"
}

sshd_start() {
    local dir="$1" port
    mkdir -p "$dir" /run/sshd
    chmod 0755 "$dir"
    [[ -f "$dir/host_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
    [[ -f "$dir/client_key" ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
    local ssh_dir
    ssh_dir="$(getent passwd "$DEPLOY_USER" | cut -d: -f6)/.ssh"
    install -d -m 0700 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$ssh_dir"
    install -m 0600 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$dir/client_key.pub" "$ssh_dir/authorized_keys"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    cat > "$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin no
AllowUsers $DEPLOY_USER
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
    for _ in $(seq 50); do [[ -s "$dir/sshd.pid" ]] && break; sleep 0.1; done
    [[ -s "$dir/sshd.pid" ]] || { say "sshd did not start:"; cat "$dir/sshd.log" >&2; return 1; }
    say "sshd on 127.0.0.1:$port (pid $(cat "$dir/sshd.pid"))"
    echo "$port"
}

sshd_stop() {
    local dir="$1" pid
    [[ -s "$dir/sshd.pid" ]] || return 0
    pid="$(cat "$dir/sshd.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/sshd.pid"
    say "sshd stopped"
}

[[ $(id -u) == 0 ]] || { say "needs root"; exit 2; }
case "${1:-}" in
    install) install_packages ;;
    users) make_users ;;
    sshd-start) sshd_start "${2:?directory}" ;;
    sshd-stop) sshd_stop "${2:?directory}" ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
esac
