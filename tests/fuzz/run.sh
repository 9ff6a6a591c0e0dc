#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# a bounded time.  Usage: tests/fuzz/run.sh [seconds per target, default 20]
# Run from the top of a configured tree (config.h is needed).
set -eu
secs=${1:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/xvds-fuzz
mkdir -p "$out"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
inc="-I$top -I$top/xvds"

x=$top/xvds
clang $cflags $inc -o "$out/fuzz_report" "$top/tests/fuzz/fuzz_report.c" \
	"$x/common/report.c" "$x/common/reportstate.c" "$x/common/errbuf.c"
clang $cflags $inc -o "$out/fuzz_conf" "$top/tests/fuzz/fuzz_conf.c" \
	"$x/common/conf.c" "$x/common/confread.c" "$x/common/template.c" \
	"$x/common/vm_fsm.c" "$x/common/errbuf.c"
clang $cflags $inc -o "$out/fuzz_migrate" "$top/tests/fuzz/fuzz_migrate.c" \
	"$x/hostd/migrate_msg.c" "$x/common/vm_fsm.c" "$x/common/log.c" \
	"$x/common/jsonerr.c" -ljansson
clang $cflags $inc -o "$out/fuzz_broker" "$top/tests/fuzz/fuzz_broker.c" \
	"$x/common/broker_msg.c" "$x/common/vm_fsm.c" "$x/common/errbuf.c" \
	"$x/common/jsonerr.c" -ljansson
clang $cflags $inc -o "$out/fuzz_agent" "$top/tests/fuzz/fuzz_agent.c" \
	"$x/agent/msg.c" "$x/common/template.c" "$x/common/vm_fsm.c" \
	"$x/common/errbuf.c" "$x/common/credential.c" "$x/common/jsonerr.c" \
	-ljansson -lsodium

# Seeds: valid records of both kinds, so that mutations start close.
mkdir -p "$out/corpus-report"
printf 'v=1 boot=0123456789abcdef0123456789abcdef time=1800000000 agent=0.1.0' \
	> "$out/corpus-report/boot"
printf 'v=1 boot=0123456789abcdef0123456789abcdef seq=1 ip=eth0,10.77.0.2/24 ip=eth0,fe80::1/64' \
	> "$out/corpus-report/addrs"
printf 'v=1 boot=0123456789abcdef0123456789abcdef time=1800000000 agent=0.1.0\377v=1 boot=0123456789abcdef0123456789abcdef seq=1 ip=eth0,10.77.0.2/24' \
	> "$out/corpus-report/both"

printf 'v=1 boot=0123456789abcdef0123456789abcdef seq=1 state=applied' \
	> "$out/corpus-report/credential"
printf 'v=1 seq=1 user=xvds-abcdefgh password=ABCDEFGHJKLMNPQRSTUVWX2' \
	> "$out/corpus-report/secret"

# Seeds for the configuration: the unit tests' good fixtures.
mkdir -p "$out/corpus-conf"
cp "$top"/tests/unit/conf/good-*.conf "$top/tests/unit/golden/templates.conf" \
	"$out/corpus-conf/"

# Seeds for the migration offer: one of each kind, and peers.
mkdir -p "$out/corpus-migrate"
printf '{"msg":"offer","vm":"lab-01","pool":"lab","template":"cvm-desk","kind":"cvm","state":"ready","vcpus":0,"memory_mib":0,"boot_id":"0123456789abcdef0123456789abcdef","live":true}' \
	> "$out/corpus-migrate/cvm"
printf '{"msg":"offer","vm":"alice","pool":"","template":"pvm-desk","kind":"pvm","state":"running","vcpus":2,"memory_mib":2048,"boot_id":"","live":false}' \
	> "$out/corpus-migrate/pvm"
printf '[2001:db8::2]:8003' > "$out/corpus-migrate/peer"

# Seeds for the broker API: each request and reply.
mkdir -p "$out/corpus-broker"
printf '{"v":1,"msg":"login","user":"alice","password":"correct horse","kind":"cvm","pool":"lab"}' \
	> "$out/corpus-broker/login"
printf '{"v":1,"msg":"renew","session":"6f9619ff-8b86","token":"Zk7Qm2xR9pLw4TnB8vHc3JdF6gYs5Ke2"}' \
	> "$out/corpus-broker/renew"
printf '{"v":1,"msg":"login","user":"bob","password":"pw","kind":"pvm","progress":true}' \
	> "$out/corpus-broker/login-progress"
printf '{"v":1,"msg":"logout","session":"42","token":"Zk7Qm2xR9pLw4TnB8vHc3JdF6gYs5Ke2","reason":"desktop-untrusted"}' \
	> "$out/corpus-broker/logout-reason"
printf '{"v":1,"msg":"progress","step":"waking"}' > "$out/corpus-broker/progress"
printf '{"v":1,"msg":"ok","desktop":{"address":"10.77.0.12","port":3389,"rdp_user":"xvds-k3m9p2qa","rdp_password":"Hq7ZpR3mKx9TvW2nBc4Ld6S","session":"42","token":"Zk7Qm2xR9pLw4TnB8vHc3JdF6gYs5Ke2","lease_seconds":120,"cert_fingerprint":"3f1c0b2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"}}' \
	> "$out/corpus-broker/desktop"
printf '{"v":1,"msg":"ok","lease_seconds":120}' > "$out/corpus-broker/renewed"
printf '{"v":1,"msg":"error","error":{"code":"rate-limited","message":"too many failed logins","retry_after":32}}' \
	> "$out/corpus-broker/limited"
printf '{"v":1,"msg":"error","error":{"code":"no-desktop","message":"pool lab is empty","reason":"pool-empty"}}' \
	> "$out/corpus-broker/nodesk"

# Seeds for the agent channel: one message of each kind.
mkdir -p "$out/corpus-agent"
printf '{"msg":"hello","v":1,"host":"xen-07","capacity":{"cpus":16,"memory_mib":65536,"hypervisor":"xen 4.17.7"}}' \
	> "$out/corpus-agent/hello"
printf '{"msg":"welcome","v":1,"host":"xen-07","sample_s":5}' > "$out/corpus-agent/welcome"
printf '{"msg":"sample","time":1800000000,"host":{"rvm":2,"tcpu":1600,"fcpu":1400,"acpu":400,"tmem_mib":65536,"fmem_mib":58000},"vms":[{"vm":"lab-01","cpu_pct":12.5,"memory_mib":2048},{"vm":"alice","cpu_pct":0.1,"memory_mib":4096}]}' \
	> "$out/corpus-agent/sample"
printf '{"msg":"state","vm":"lab-01","state":"ready","domid":12,"boot_id":"0123456789abcdef0123456789abcdef","addr":"10.77.0.2","rdp_sha256":""}' \
	> "$out/corpus-agent/state"
printf '{"msg":"op","id":42,"vm":"lab-01","action":"migrate","args":{"host":"[2001:db8::2]:8003","live":true}}' \
	> "$out/corpus-agent/op-migrate"
printf '{"msg":"op","id":43,"vm":"alice","action":"set","args":{"vcpus":2,"memory_mib":3072}}' \
	> "$out/corpus-agent/op-set"
printf '{"msg":"op","id":44,"vm":"bob","action":"define","args":{"template":"pvm-desk","kind":"pvm"}}' \
	> "$out/corpus-agent/op-define"
printf '{"msg":"result","id":42,"ok":false,"error":"busy","message":"try again"}' \
	> "$out/corpus-agent/result"
printf '{"msg":"ping","seq":1}' > "$out/corpus-agent/ping"
printf '{"msg":"resynced","states":3}' > "$out/corpus-agent/resynced"
printf '{"msg":"op","id":45,"vm":"lab-01","action":"credential","args":{"user":"xvds-abcdefgh","password":"ABCDEFGHJKLMNPQRSTUVWX2"}}' \
	> "$out/corpus-agent/op-credential"

# fuzz TARGET CORPUS [MAX_LEN]: runs one target for $secs seconds on inputs
# of MAX_LEN bytes at most (default 4096); fails on a crash.
fuzz() {
	local status=0
	echo "$1: $secs s"
	(cd "$out" && "./$1" -max_total_time="$secs" -max_len="${3:-4096}" \
		-print_final_stats=1 "$2") >"$out/$1.log" 2>&1 || status=$?
	grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$out/$1.log" || true
	if [ $status -ne 0 ]; then
		echo "$1 FAILED (exit $status); crash input in $out:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$out/$1.log"
		return 1
	fi
}
fuzz fuzz_report corpus-report
fuzz fuzz_conf corpus-conf
fuzz fuzz_migrate corpus-migrate
fuzz fuzz_broker corpus-broker 9000	# past the 8 KiB limit
fuzz fuzz_agent corpus-agent
