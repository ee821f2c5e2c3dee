# Shared shell helpers for maildesk's script tests.  Output is TAP, so
# automake's tap-driver counts every check.
#   . "$MAILDESK_SRCDIR/tests/lib.sh"

set -u
: "${MAILDESK_BIN:?run through make check, or set MAILDESK_BIN}"
: "${MAILDESK_SRCDIR:?}"
MAILDESK_CORPUS=${MAILDESK_CORPUS:-$MAILDESK_SRCDIR/../shared/corpus}
TAP_N=0
TAP_FAILED=0

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# is DESCRIPTION GOT WANT
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi; }
diag() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }

# A fresh site in a temporary directory: config, secret, database.
# Sets SITE, CONF, DB.  $1 is the relay URL (default: a closed port).
make_site() {
	SITE=$(mktemp -d "${TMPDIR:-/tmp}/maildesk-test-XXXXXX")
	chmod 755 "$SITE"
	CONF=$SITE/maildesk.conf
	DB=$SITE/data/maildesk.db
	cat >"$CONF" <<CONF
[maildesk]
database = data/maildesk.db
secret_file = secret
hostname = help.example.com
templates = $MAILDESK_SRCDIR/templates
default_language = en
site_name = Example Support
send_after_deliver = no
reopen_days = 30

[limits]
autoreply_per_hour = 3

[sla]
default_resolution = 2d

[smtp]
url = ${1:-smtp://127.0.0.1:9}
timeout = 10
retry_base = 60s
retry_max = 1h

[queue support]
address = support@example.com

[queue sales]
address = sales@example.com
language = lv
CONF
	"$MAILDESK_BIN" -c "$CONF" init >/dev/null || bail "maildesk init failed"
}

md() { "$MAILDESK_BIN" -c "$CONF" "$@"; }
sql() { sqlite3 -batch -noheader "$DB" "$@"; }

# deliver FILE [--sender S] [--recipient R]: prints nothing, returns exit code
deliver() {
	local f=$1; shift
	"$MAILDESK_BIN" -c "$CONF" deliver "$@" <"$f" >"$SITE/deliver.out" 2>&1
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts Postfix's smtp-sink on 127.0.0.1:$1 dumping each message into $2.
# Sets SINK_PID.  Extra arguments are passed to smtp-sink.
start_sink() {
	local port=$1 dir=$2; shift 2
	mkdir -p "$dir"
	chmod 777 "$dir"
	local user=
	[ "$(id -u)" = 0 ] && user="-u nobody"
	/usr/sbin/smtp-sink $user -d "$dir/%Y%m%d%H/%M." "$@" "127.0.0.1:$port" 100 &
	SINK_PID=$!
	for _ in $(seq 50); do
		if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	bail "smtp-sink did not start"
}

stop_sink() { [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; SINK_PID=; }

cleanup_site() { stop_sink; [ -n "${SITE:-}" ] && rm -rf "$SITE"; }
