# SPDX-License-Identifier: GPL-2.0
#
# kmemlab kselftests: what the shell tests share (sourced, not run): TAP
# output, and the check that the tool and the module are there.

KSFT_SKIP=4
n=0 pass=0 fail=0 skip=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip_test() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
check() { # check NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# has_feature NAME: `kmemlab version` lists the feature.
has_feature() { kmemlab version 2>/dev/null | grep '^features:' | grep -qw "$1"; }

# tap_start N: the TAP header for N tests, or a skip of the whole program
# when the tool is not on PATH or the module is not loaded.
tap_start() {
	echo "TAP version 13"
	if ! command -v kmemlab >/dev/null; then
		echo "1..0 # SKIP kmemlab tool not on PATH"
		exit $KSFT_SKIP
	fi
	if [ ! -e /sys/module/kmemlab ]; then
		echo "1..0 # SKIP kmemlab module not loaded"
		exit $KSFT_SKIP
	fi
	echo "1..$1"
}
