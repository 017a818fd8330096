#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmemlab kselftest: the `kmemlab` command-line tool against the loaded module.
# Needs root, kmemlab.ko loaded and `kmemlab` on PATH; skips otherwise.

KSFT_SKIP=4
n=0 pass=0 fail=0 skip=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
check() { # check NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_error WANT-RC REGEX RC OUTPUT: the tool failed as expected, and said why.
expect_error() {
	[ "$3" -eq "$1" ] && grep -q "$2" <<<"$4" && return 0
	echo "# status $3, output: $4"
	return 1
}

echo "TAP version 13"
if ! command -v kmemlab >/dev/null; then
	echo "1..0 # SKIP kmemlab tool not on PATH"
	exit $KSFT_SKIP
fi
if [ ! -e /sys/module/kmemlab ]; then
	echo "1..0 # SKIP kmemlab module not loaded"
	exit $KSFT_SKIP
fi
echo "1..10"

out=$(kmemlab version 2>&1)
check "version_exits_0" [ $? -eq 0 ]
check "version_reports_abi_1" grep -q '^module ABI: *1$' <<<"$out"

json=$(kmemlab --json version 2>&1)
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
check "json_parses_and_matches_sysfs" python3 -c '
import json, os, sys
v = json.loads(sys.argv[1])
assert v["abi_version"] == 1 and v["tool_abi_version"] == 1, v
assert v["nr_cpus"] == os.sysconf("SC_NPROCESSORS_ONLN"), v
assert v["nr_nodes"] == int(sys.argv[2]), v
assert isinstance(v["feature_names"], list), v
' "$json" "$nodes"

msg=$(setpriv --reuid=65534 --regid=65534 --clear-groups kmemlab version 2>&1)
rc=$?
check "unprivileged_gets_clear_error" expect_error 1 'permission denied.*root' "$rc" "$msg"

msg=$(kmemlab --device /dev/kmemlab-missing version 2>&1)
rc=$?
check "missing_node_is_explained" expect_error 1 'kmemlab-missing is missing' "$rc" "$msg"

# Script mode: several commands on one open file see each other's objects.
out=$(printf 'alloc kmalloc --size 64\nfill 1 --seed 7\nverify 1 --seed 7 # a comment\ninfo 1\n' |
	kmemlab script - 2>&1)
rc=$?
check "script_runs_commands_on_one_file" expect_error 0 'ok: 64 bytes at 0 match seed 0x7' "$rc" "$out"

out=$(printf 'alloc kmalloc --size 8\ninfo 99\n' | kmemlab script - 2>&1)
rc=$?
check "script_stops_at_the_failing_line" expect_error 1 '^kmemlab: -:2: info failed: .*(ENOENT)' "$rc" "$out"

json=$(kmemlab --json alloc kmalloc --size 32 --count 3 2>&1)
check "alloc_json_lists_handles" python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert v["kind"] == "kmalloc" and len(v["handles"]) == 3, v
' "$json"

# --hold keeps the objects alive until the tool is interrupted or killed.
vmalloc_areas() { grep '\[kmemlab\]' /proc/vmallocinfo | grep -c ' pages=768 '; }
held() {
	[ "$(vmalloc_areas)" -eq 0 ] || return 1
	kmemlab --hold alloc vmalloc --size 3m >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		[ "$(vmalloc_areas)" -eq 1 ] && break
		sleep 0.2
	done
	[ "$(vmalloc_areas)" -eq 1 ] || { echo "# area never appeared"; kill $pid; return 1; }
	sleep 1
	[ "$(vmalloc_areas)" -eq 1 ] || { echo "# area went away while held"; kill $pid; return 1; }
	# SIGTERM: a background job of a non-interactive shell ignores SIGINT.
	kill -TERM $pid
	wait $pid
	[ "$(vmalloc_areas)" -eq 0 ] || { echo "# area outlived the tool"; return 1; }
}
check "hold_keeps_objects_until_interrupted" held

out=$(kmemlab alloc kmalloc --size 0 2>&1)
rc=$?
check "kernel_errors_are_named" expect_error 1 'alloc failed: .*(EINVAL)' "$rc" "$out"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ $fail -eq 0 ]
