#!/usr/bin/env bash
# sshd.sh: a real OpenSSH sshd on 127.0.0.1 for the SFTP/SCP and rclone
# tests (facts: /work/shared/servers.md).
#
#   sshd.sh start DIR [--no-sftp]
#		make a throwaway login user (useradd, with a password and a
#		home under DIR), host keys, a client key and a known_hosts,
#		start sshd on a free port, and write DIR/env:
#		  SSHD_PORT SSHD_USER SSHD_PASSWORD SSHD_HOME SSHD_PID
#		  SSHD_KEY (client private key, ed25519; SSHD_KEY_RSA: rsa)
#		  SSHD_KNOWN_HOSTS (known_hosts naming [127.0.0.1]:PORT)
#		  SSHD_HOSTKEY_PUB (the server's ed25519 host key, public)
#		--no-sftp leaves out the sftp subsystem (scp and shell only).
#		Returns once sshd accepts connections.  DIR's parents get
#		search permission for others (o+x) if they lack it.
#   sshd.sh stop DIR
#		stop that sshd (and its per-connection children) and delete
#		the user.  Safe to call twice, and after a failed start.
#
# Both key and password logins are enabled.  Sourcing scripts should call
# "stop" from an EXIT trap.
set -euo pipefail

PY=/usr/bin/python3

die() {
	echo "sshd.sh: $*" >&2
	exit 1
}

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	local dir=$1 sftp=1 user pass port i p
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--no-sftp) sftp=0 ;;
		*) die "unknown start option $1" ;;
		esac
		shift
	done
	[ -d "$dir" ] || die "no directory $dir"
	[ "$(id -u)" -eq 0 ] || die "must run as root (useradd, sshd)"
	[ -x /usr/sbin/sshd ] || die "openssh-server is not installed (scripts/deps.sh)"
	command -v ssh-keygen >/dev/null || die "openssh-client is not installed"
	dir=$(cd "$dir" && pwd)
	mkdir -p "$dir/etc" "$dir/client" /run/sshd
	chmod 755 "$dir"
	# The test user (and sshd acting as it) must reach its home and
	# authorized_keys: a mktemp -d parent is 0700, so let others pass
	# through (search only, no listing).
	p=$(dirname "$dir")
	while [ "$p" != / ]; do
		[ "$(stat -c %A "$p" | cut -c10)" = x ] ||
			[ "$(stat -c %A "$p" | cut -c10)" = t ] || chmod o+x "$p"
		p=$(dirname "$p")
	done

	# A short, unique user name (useradd allows 32 characters).
	user=arcat$$$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
	pass=pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$dir/home"
	useradd -M -d "$dir/home/$user" -s /bin/sh "$user" ||
		die "useradd $user failed"
	echo "$user" >"$dir/user"
	mkdir -m 755 "$dir/home/$user"
	chown "$user:" "$dir/home/$user"
	# A password also unlocks the account: with UsePAM no, sshd refuses
	# even key logins to a locked ("!") account.
	echo "$user:$pass" | chpasswd

	ssh-keygen -q -t ed25519 -N '' -f "$dir/etc/host_ed25519" -C host
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$dir/etc/host_rsa" -C host
	ssh-keygen -q -t ed25519 -N '' -f "$dir/client/id_ed25519" -C client
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$dir/client/id_rsa" -C client
	cat "$dir/client/id_ed25519.pub" "$dir/client/id_rsa.pub" \
		>"$dir/etc/authorized_keys"
	chmod 644 "$dir/etc/authorized_keys"

	for i in 1 2 3 4 5; do
		port=$(free_port)
		cat >"$dir/etc/sshd_config" <<-EOF
		ListenAddress 127.0.0.1
		Port $port
		HostKey $dir/etc/host_ed25519
		HostKey $dir/etc/host_rsa
		PidFile $dir/sshd.pid
		AuthorizedKeysFile $dir/etc/authorized_keys
		StrictModes no
		UsePAM no
		PubkeyAuthentication yes
		PasswordAuthentication yes
		KbdInteractiveAuthentication no
		PermitRootLogin no
		AllowUsers $user
		MaxStartups 50
		MaxAuthTries 10
		LogLevel VERBOSE
		EOF
		[ $sftp -eq 1 ] &&
			echo "Subsystem sftp /usr/lib/openssh/sftp-server" \
				>>"$dir/etc/sshd_config"
		rm -f "$dir/sshd.pid"
		# -D: stay in the foreground so $! is sshd itself.
		/usr/sbin/sshd -D -f "$dir/etc/sshd_config" -E "$dir/sshd.log" \
			</dev/null >>"$dir/sshd.log" 2>&1 &
		echo $! >"$dir/sshd.main.pid"
		if wait_port "$port" "$(cat "$dir/sshd.main.pid")"; then
			break
		fi
		port=
	done
	[ -n "$port" ] || { cat "$dir/sshd.log" >&2; die "sshd did not start"; }

	printf '[127.0.0.1]:%s %s\n' "$port" \
		"$(cut -d' ' -f1-2 "$dir/etc/host_ed25519.pub")" \
		>"$dir/client/known_hosts"
	printf '[127.0.0.1]:%s %s\n' "$port" \
		"$(cut -d' ' -f1-2 "$dir/etc/host_rsa.pub")" \
		>>"$dir/client/known_hosts"
	cat >"$dir/env" <<-EOF
	SSHD_PORT=$port
	SSHD_USER=$user
	SSHD_PASSWORD=$pass
	SSHD_HOME=$dir/home/$user
	SSHD_PID=$(cat "$dir/sshd.main.pid")
	SSHD_KEY=$dir/client/id_ed25519
	SSHD_KEY_RSA=$dir/client/id_rsa
	SSHD_KNOWN_HOSTS=$dir/client/known_hosts
	SSHD_HOSTKEY_PUB=$dir/etc/host_ed25519.pub
	SSHD_LOG=$dir/sshd.log
	EOF
}

# Wait until port answers with an SSH banner; fail if pid dies first.
wait_port() {
	local port=$1 pid=$2 i
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		if $PY - "$port" <<-'EOF' 2>/dev/null
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
		s.settimeout(2)
		sys.exit(0 if s.recv(4).startswith(b"SSH-") else 1)
		EOF
		then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stop() {
	local dir=$1 pid user i
	if [ -f "$dir/sshd.main.pid" ]; then
		pid=$(cat "$dir/sshd.main.pid")
		# The listener's children serve open connections: end them too,
		# by parent id (never by name: other tests run sshd as well).
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/sshd.main.pid"
	fi
	if [ -f "$dir/user" ]; then
		user=$(cat "$dir/user")
		# Connections still open run as the user; userdel refuses then.
		pkill -KILL -u "$user" 2>/dev/null || true
		userdel "$user" 2>/dev/null || userdel -f "$user" 2>/dev/null || true
		rm -f "$dir/user"
	fi
}

case ${1:-} in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) die "usage: sshd.sh start|stop DIR" ;;
esac
