#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmemlab under kernel lockdown, as Secure Boot turns it on for distribution
# kernels. Run by `make check` in the debug kernel booted with
# lockdown=integrity and without the module loaded (scripts/guest
# --no-module), as root:
#   KMEMLAB_KO=unsigned.ko KMEMLAB_SIGNED=signed.ko kmemlab_lockdown.sh
# KMEMLAB_SIGNED is kmemlab.ko signed with the test kernel's own module key.
# Checks, as TAP: lockdown is on; the unsigned module is refused; the signed
# one loads; its statistics stay readable in debugfs; mapping a physical
# range is refused with EPERM (even for root); the module unloads.

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; shift; printf '# %s\n' "$@"; }

echo "TAP version 13"
echo "1..6"

mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
level=$(cat /sys/kernel/security/lockdown 2>/dev/null)
case $level in
*"[integrity]"*) ok "lockdown_is_integrity" ;;
*) not_ok "lockdown_is_integrity" "/sys/kernel/security/lockdown reads: ${level:-nothing}" ;;
esac

if out=$(insmod "$KMEMLAB_KO" 2>&1); then
	not_ok "unsigned_module_refused" "insmod of the unsigned module succeeded under lockdown"
	rmmod kmemlab
elif grep -q '^kmemlab ' /proc/modules; then
	not_ok "unsigned_module_refused" "insmod failed but kmemlab is loaded"
else
	ok "unsigned_module_refused"
	echo "# insmod said: $out"
fi

if out=$(insmod "$KMEMLAB_SIGNED" 2>&1) && grep -q '^kmemlab ' /proc/modules; then
	ok "signed_module_loads"
else
	not_ok "signed_module_loads" "insmod of the signed module: $out"
fi

stats=/sys/kernel/debug/kmemlab
if [ -d "$stats" ] && grep -q . "$stats/stats" && grep -q . "$stats/version" &&
	grep -q . "$stats/objects"; then
	ok "statistics_readable"
else
	not_ok "statistics_readable" "$(ls -l "$stats" 2>&1)" "$(head -n 3 "$stats/stats" 2>&1)"
fi

# 0xfee00000 (the local APIC) is not System RAM and is a well-formed range:
# the only reason left to refuse it is the lockdown.
out=$(kmemlab ioremap phys 0xfee00000 4096 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q EPERM; then
	ok "physical_mapping_refused_with_eperm"
else
	not_ok "physical_mapping_refused_with_eperm" "kmemlab ioremap phys said (status $rc): $out"
fi

if rmmod kmemlab && ! grep -q '^kmemlab ' /proc/modules; then
	ok "module_unloads"
else
	not_ok "module_unloads" "rmmod kmemlab failed"
fi

echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[ "$failed" -eq 0 ]
