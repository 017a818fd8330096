#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmemlab kselftest: the module's life through the `kmemlab` tool.
#  - tool_output_has_no_kernel_address: with objects of every kind held, no
#    output of the tool (object lists and info, statistics, versions, caches,
#    text and JSON) shows anything that looks like a kernel address;
#  - load_unload_cycles: KMEMLAB_LOAD_CYCLES (10; make check-long sets 100)
#    cycles of insmod, work of every kind through the tool, rmmod: each rmmod
#    succeeds, the module goes from /sys/module, and the kernel logs no splat
#    (looked at every tenth cycle and at the end). Needs KMEMLAB_KO, the path
#    of kmemlab.ko (the guest sets it). With KMEMLAB_LOAD_BUDGET=S, cycles stop
#    early, passing, once S seconds are spent; the count done is printed. The
#    module is loaded again at the end.
#  - limits_follow_module_parameters: the module loaded with max_objects=300
#    max_bytes=5 MiB reports exactly that quota through KMEMLAB_IOC_LIMITS and
#    enforces it to the object and the byte (kmemlab_test's
#    quota_is_exactly_what_limits_reports), and `kmemlab limits` shows it, in
#    text and JSON; the module is then loaded again with its defaults.
# Needs root, kmemlab.ko loaded and `kmemlab` on PATH; skips otherwise.

export LC_ALL=C
. "$(dirname "$0")/kmemlab_lib.sh"

# show TEXT: TEXT as TAP diagnostics.
show() {
	local line
	while IFS= read -r line; do echo "#   $line"; done <<<"$1"
}

tap_start 3

stats_dir=/sys/kernel/debug/kmemlab
edu=0
has_feature edu && edu=1
debugfs=0
[ -r $stats_dir/stats ] && debugfs=1

# every_kind NAME: script lines making cache NAME (handle 1) and one object of
# every kind: kmalloc 2, kmem_cache 3, free_pages 4, pages_node 5, vmalloc 6,
# dma (faux) 7, percpu 8; with edu, ioremap edu 9 and dma on edu 10.
every_kind() {
	printf '%s\n' "cache create $1 --size 256" 'alloc kmalloc --size 1000' \
		'alloc kmem_cache --cache 1' 'alloc free_pages --order 1' \
		'alloc pages_node --order 0' 'alloc vmalloc --size 20000' 'alloc dma 5000' \
		'alloc percpu'
	if [ "$edu" = 1 ]; then
		printf '%s\n' 'ioremap edu' 'alloc dma 4096 --dma-device edu'
	fi
}
last_handle=$((edu ? 10 : 8))
# Handles of the objects with bytes (fill and verify take them).
byte_handles="2 3 4 5 6 7"
[ "$edu" = 1 ] && byte_handles="$byte_handles 10"

# addr_tokens TEXT: the tokens of TEXT that look like kernel addresses: 16 hex
# digits starting with ffff standing alone, 0xffff and 12 more hex digits, or
# an address printed in decimal (20 digits, at or above 0xffff800000000000).
addr_tokens() {
	grep -Eio '(^|[^0-9a-z_])ffff[0-9a-f]{12}([^0-9a-z_]|$)|0xffff[0-9a-f]{12}' <<<"$1"
	# Same length: compared as strings, the digits compare as numbers.
	grep -Eo '(^|[^0-9a-z_.-])[0-9]{20}([^0-9a-z_]|$)' <<<"$1" | tr -dc '0-9\n' |
		awk '$0 >= "18446603336221196288"'
}

# ---- tool_output_has_no_kernel_address ----

tool_output_clean() {
	local script out all="" json rc pid held i cmd tokens cmds
	script=$(
		every_kind lc-tool-addr
		for i in $byte_handles; do echo "fill $i --seed $((0x70 + i))"; done
		printf '%s\n' 'percpu add 8 5' 'percpu read 8' 'list'
		for i in $(seq 2 $last_handle); do echo "info $i"; done
		[ "$edu" = 1 ] && echo 'mmio read 9 0'
		echo 'cache list'
		if [ "$debugfs" = 1 ]; then
			printf '%s\n' 'stats' 'stats --objects' 'stats --percpu --objects'
		fi
	)
	for json in "" --json; do
		# shellcheck disable=SC2086 # $json: no word or one
		out=$(kmemlab $json script - <<<"$script" 2>&1)
		rc=$?
		[ $rc -eq 0 ] || { echo "# kmemlab $json script failed ($rc):"; show "$out"; return 1; }
		all+="$out"$'\n'
	done

	# Objects held by another process, seen by the other commands.
	held=$(mktemp) || return 1
	every_kind lc-tool-held | kmemlab --hold script - >"$held" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q 'holding .* open' "$held" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	if ! grep -q 'holding .* open' "$held"; then
		echo "# the holding script did not get to hold its objects:"
		show "$(cat "$held")"
		kill -TERM $pid 2>/dev/null
		wait $pid
		rm -f "$held"
		return 1
	fi
	rc=0
	cmds=('version' '--json version' 'cache list' '--json cache list')
	if [ "$debugfs" = 1 ]; then
		cmds+=('stats' 'stats --objects --percpu' '--json stats --percpu --objects'
			'stats --json --objects')
	fi
	for cmd in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # $cmd: the command's words
		out=$(kmemlab $cmd 2>&1) || { echo "# kmemlab $cmd failed:"; show "$out"; rc=1; }
		all+="$out"$'\n'
		# The held objects are in what is scanned.
		if [ "$cmd" = '--json stats --percpu --objects' ] &&
			! grep -Eq "\"pid\": *${pid}[,} ]" <<<"$out"; then
			echo "# kmemlab $cmd does not list the held objects of pid $pid"
			rc=1
		fi
	done
	kill -TERM $pid
	wait $pid
	all+=$(cat "$held")
	rm -f "$held"

	tokens=$(addr_tokens "$all" | sort -u)
	if [ -n "$tokens" ]; then
		echo "# tokens that look like kernel addresses:"
		show "$tokens"
		while IFS= read -r i; do
			i=$(tr -dc '0-9a-zA-Z' <<<"$i")
			grep -F -- "$i" <<<"$all" | head -n 3 | sed 's/^/#   in: /'
		done <<<"$tokens"
		return 1
	fi
	return $rc
}
check "tool_output_has_no_kernel_address" tool_output_clean

# ---- load_unload_cycles ----

# The splats scripts/guest's gate looks for (its splat_re).
splat_re='BUG:|kernel BUG at|usercopy:|WARNING:|Oops|general protection fault|Kernel panic|KASAN:|KFENCE:|UBSAN:|unreferenced object|suspected memory leak|possible recursive locking|possible circular locking|inconsistent lock state|INFO: task .* blocked'

# splats_since MARKER: the kernel log's splat lines after MARKER (the whole
# log when MARKER has left the ring buffer).
splats_since() {
	dmesg 2>/dev/null | awk -v m="$1" '
		{ line[NR] = $0 }
		index($0, m) { start = NR }
		END { for (i = start + 1; i <= NR; i++) print line[i] }' | grep -E "$splat_re"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

load_unload() {
	# make check runs 10 cycles (about 5 s each under TCG with KASAN: insmod
	# with the KUnit suites, the work, rmmod); make check-long runs 100.
	local cycles=${KMEMLAB_LOAD_CYCLES:-10} budget=${KMEMLAB_LOAD_BUDGET:-0}
	local marker work out splats start i cycles_done=0 rc=0 ms
	marker="kmemlab_lifecycle: load_unload_cycles $$ $(date +%s%N)"
	echo "$marker" 2>/dev/null >/dev/kmsg || echo "# /dev/kmsg not writable: the whole log is checked"
	work=$(
		every_kind lc-cycle
		for i in $byte_handles; do
			echo "fill $i --seed $i"
			echo "verify $i --seed $i"
		done
		printf '%s\n' 'percpu add 8 1' 'percpu read 8' 'list'
		[ "$edu" = 1 ] && echo 'mmio read 9 0'
		[ "$debugfs" = 1 ] && echo 'stats --objects'
		printf '%s\n' "free $(seq -s ' ' 2 $last_handle)" 'cache destroy 1'
	)

	start=$(now_ms)
	if ! rmmod kmemlab; then
		echo "# the first rmmod failed: is something still using kmemlab?"
		return 1
	fi
	for ((i = 1; i <= cycles; i++)); do
		if [ -e /sys/module/kmemlab ]; then
			echo "# cycle $i: /sys/module/kmemlab is still there after rmmod"
			rc=1
			break
		fi
		if ! out=$(insmod "$KMEMLAB_KO" 2>&1); then
			echo "# cycle $i: insmod $KMEMLAB_KO failed:"
			show "$out"
			rc=1
			break
		fi
		# The tool and the kernel log are slow to ask under emulation: every
		# tenth cycle and the last.
		local look=$((i % 10 == 0 || i == cycles))
		if [ "$look" = 1 ] && [ "$edu" = 1 ] && ! has_feature edu; then
			echo "# cycle $i: edu is not bound after the module was loaded again"
			rc=1
		fi
		if ! out=$(kmemlab script - <<<"$work" 2>&1); then
			echo "# cycle $i: the work failed:"
			show "$out"
			rc=1
		fi
		if ! out=$(rmmod kmemlab 2>&1); then
			echo "# cycle $i: rmmod kmemlab failed:"
			show "$out"
			rc=1
			break
		fi
		if [ -e /sys/module/kmemlab ]; then
			echo "# cycle $i: /sys/module/kmemlab is still there after rmmod"
			rc=1
			break
		fi
		cycles_done=$i
		splats=""
		[ "$look" = 0 ] || splats=$(splats_since "$marker")
		if [ -n "$splats" ]; then
			echo "# cycle $i: the kernel logged:"
			show "$splats"
			rc=1
			break
		fi
		[ $rc -eq 0 ] || break
		if [ "$budget" -gt 0 ] && [ $(($(now_ms) - start)) -ge $((budget * 1000)) ] &&
			[ "$i" -lt "$cycles" ]; then
			echo "# stopping after $i of $cycles cycles: the ${budget} s budget (KMEMLAB_LOAD_BUDGET) is spent"
			break
		fi
	done
	ms=$(($(now_ms) - start))
	echo "# $cycles_done load/unload cycles in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s" \
		"($((cycles_done ? ms / cycles_done : 0)) ms per cycle)"

	# Later tests need the module.
	if [ ! -e /sys/module/kmemlab ] && ! out=$(insmod "$KMEMLAB_KO" 2>&1); then
		echo "# the final insmod failed: the module is not loaded any more:"
		show "$out"
		rc=1
	fi
	return $rc
}

if [ -z "${KMEMLAB_KO:-}" ]; then
	skip_test "load_unload_cycles" "KMEMLAB_KO (the path of kmemlab.ko) is not set"
elif [ ! -f "$KMEMLAB_KO" ]; then
	skip_test "load_unload_cycles" "KMEMLAB_KO=$KMEMLAB_KO is not a file"
elif ! command -v insmod >/dev/null || ! command -v rmmod >/dev/null; then
	skip_test "load_unload_cycles" "no insmod or rmmod"
else
	check "load_unload_cycles" load_unload
fi

# ---- limits_follow_module_parameters ----

# load_default: the module loaded with its default parameters, checked
# through KMEMLAB_IOC_LIMITS (the later programs of the suite need it so).
load_default() {
	local out
	if [ -e /sys/module/kmemlab ] && ! out=$(rmmod kmemlab 2>&1); then
		echo "# rmmod kmemlab failed (the module keeps the test's quota):"
		show "$out"
		return 1
	fi
	if ! out=$(insmod "$KMEMLAB_KO" 2>&1); then
		echo "# insmod with the default parameters failed: the module is not loaded any more:"
		show "$out"
		return 1
	fi
	out=$(kmemlab --json limits 2>&1)
	if ! grep -q '"max_objects":65536[,}]' <<<"$out"; then
		echo "# after reloading, kmemlab --json limits does not report the default quota:"
		show "$out"
		return 1
	fi
}

limits_follow_params() {
	local objects=300 bytes=$((5 << 20)) out rc=0 json
	if ! out=$(rmmod kmemlab 2>&1); then
		echo "# rmmod failed: is something still using kmemlab?"
		show "$out"
		return 1
	fi
	# Whatever happens from here, the suite goes on with the defaults.
	trap 'load_default >/dev/null' EXIT TERM
	if ! out=$(insmod "$KMEMLAB_KO" max_objects=$objects max_bytes=$bytes 2>&1); then
		echo "# insmod $KMEMLAB_KO max_objects=$objects max_bytes=$bytes failed:"
		show "$out"
		load_default
		trap - EXIT TERM
		return 1
	fi
	out=$(KMEMLAB_EXPECT_QUOTA="$objects $bytes" \
		"$(dirname "$0")/kmemlab_test" -t quota_is_exactly_what_limits_reports 2>&1)
	if ! grep -q '^ok 1 .*quota_is_exactly_what_limits_reports$' <<<"$out"; then
		echo "# kmemlab_test quota_is_exactly_what_limits_reports did not pass:"
		show "$out"
		rc=1
	fi
	json=$(kmemlab --json limits 2>&1)
	if ! grep -q "\"max_objects\":$objects[,}]" <<<"$json" ||
		! grep -q "\"max_bytes\":$bytes[,}]" <<<"$json"; then
		echo "# kmemlab --json limits does not report max_objects $objects and max_bytes $bytes:"
		show "$json"
		rc=1
	fi
	out=$(kmemlab limits 2>&1)
	if ! grep -Eq "quota.*$objects objects" <<<"$out"; then
		echo "# kmemlab limits does not show the quota of $objects objects:"
		show "$out"
		rc=1
	fi
	load_default || rc=1
	trap - EXIT TERM
	return $rc
}

if [ -z "${KMEMLAB_KO:-}" ] || [ ! -f "${KMEMLAB_KO:-}" ]; then
	skip_test "limits_follow_module_parameters" "KMEMLAB_KO (the path of kmemlab.ko) is not set or not a file"
elif ! command -v insmod >/dev/null || ! command -v rmmod >/dev/null; then
	skip_test "limits_follow_module_parameters" "no insmod or rmmod"
else
	check "limits_follow_module_parameters" limits_follow_params
fi

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ]
