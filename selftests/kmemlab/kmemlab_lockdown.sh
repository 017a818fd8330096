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
# one loads untainted; its statistics stay readable in debugfs; mapping a
# physical range a driver could map is refused with EPERM (even for root);
# the module unloads.

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n $1"
	shift
	printf '%s\n' "$@" | sed 's/^/# /'
}

echo "TAP version 13"
echo "1..6"

mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
level=$(cat /sys/kernel/security/lockdown 2>/dev/null)
case $level in
*"[integrity]"*) ok "lockdown_is_integrity" ;;
*) not_ok "lockdown_is_integrity" "/sys/kernel/security/lockdown reads: ${level:-nothing}" ;;
esac

# Refused for its missing signature (EPERM, and lockdown says why), not for
# anything else.
if out=$(insmod "$KMEMLAB_KO" 2>&1); then
	not_ok "unsigned_module_refused" "insmod of the unsigned module succeeded under lockdown"
	rmmod kmemlab
elif grep -q '^kmemlab ' /proc/modules; then
	not_ok "unsigned_module_refused" "insmod failed but kmemlab is loaded"
elif printf '%s' "$out" | grep -q 'Operation not permitted' &&
	dmesg | grep -q 'Lockdown: insmod: unsigned module loading is restricted'; then
	ok "unsigned_module_refused"
else
	not_ok "unsigned_module_refused" "refused, but not by lockdown: $out"
fi

# Loaded, and not as an unsigned module (no E taint).
if out=$(insmod "$KMEMLAB_SIGNED" 2>&1) && grep -q '^kmemlab ' /proc/modules &&
	! grep -q E /sys/module/kmemlab/taint; then
	ok "signed_module_loads"
else
	not_ok "signed_module_loads" "insmod of the signed module: $out" \
		"taint: $(cat /sys/module/kmemlab/taint 2>&1)"
fi

stats=/sys/kernel/debug/kmemlab
if [ -d "$stats" ] && grep -q . "$stats/stats" && grep -q . "$stats/version" &&
	grep -q . "$stats/objects"; then
	ok "statistics_readable"
else
	not_ok "statistics_readable" "$(ls -l "$stats" 2>&1)" "$(head -n 3 "$stats/stats" 2>&1)"
fi

# pci-testdev's BAR 0: device memory nobody claims, which the main suite maps
# (ioremap_phys_unclaimed_bar); here only lockdown stands in the way, and the
# kernel says so.
bar=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0005 ]; then
		bar=$(awk 'NR == 1 { print $1 }' "$d/resource")
	fi
done
if [ -z "$bar" ]; then
	not_ok "physical_mapping_refused_with_eperm" "no pci-testdev (1b36:0005) in the guest"
else
	out=$(kmemlab ioremap phys "$bar" 4096 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q EPERM &&
		dmesg | grep -q 'Lockdown: kmemlab: /dev/mem,kmem,port is restricted'; then
		ok "physical_mapping_refused_with_eperm"
	else
		not_ok "physical_mapping_refused_with_eperm" \
			"kmemlab ioremap phys $bar 4096 said (status $rc): $out"
	fi
fi

if rmmod kmemlab && ! grep -q '^kmemlab ' /proc/modules; then
	ok "module_unloads"
else
	not_ok "module_unloads" "rmmod kmemlab failed"
fi

echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[ "$failed" -eq 0 ]
