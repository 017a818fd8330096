# SPDX-License-Identifier: GPL-2.0
# Common helpers for kmemlab's scripts. Sourced, never run.
#
# Every step announces itself with `step`, and every failure goes through `die`,
# which names the step, the cause and what to do about it.

KMEMLAB_CACHE=${KMEMLAB_CACHE:-/var/cache/kmemlab}
KMEMLAB_SYSROOT=${KMEMLAB_SYSROOT:-$KMEMLAB_CACHE/sysroot}
KMEMLAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The kernel source version the sysroot provides (Debian's linux-source-X.Y).
KMEMLAB_KVER=${KMEMLAB_KVER:-7.3}
# LLVM suffix matching the sysroot's clang/lld (LLVM=-19 -> clang-19, ld.lld-19).
KMEMLAB_LLVM=${KMEMLAB_LLVM:--19}
export KMEMLAB_CACHE KMEMLAB_SYSROOT KMEMLAB_TOP KMEMLAB_KVER KMEMLAB_LLVM

_kmemlab_step="(start)"

step() {
	_kmemlab_step="$*"
	printf '==> [%s] %s\n' "${KMEMLAB_SCRIPT:-kmemlab}" "$*" >&2
}

note() {
	printf '    %s\n' "$*" >&2
}

# die CAUSE [WHAT-TO-DO]
die() {
	printf 'ERROR [%s] step "%s" failed: %s\n' "${KMEMLAB_SCRIPT:-kmemlab}" "$_kmemlab_step" "$1" >&2
	[ -n "${2:-}" ] && printf '      what to do: %s\n' "$2" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "this step needs root (debootstrap, chroot and mount namespaces)" \
			"run it as root, or build against your own kernel with 'make KDIR=/path/to/build LLVM=1'"
}

# need_disk DIR MIB: fail early, with numbers, when DIR's filesystem is short of space.
need_disk() {
	local dir=$1 want=$2 have
	mkdir -p "$dir" 2>/dev/null || die "cannot create $dir" "set KMEMLAB_CACHE to a writable directory"
	have=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
	[ "${have:-0}" -ge "$want" ] ||
		die "not enough disk under $dir: ${have} MiB free, ${want} MiB needed" \
			"free some space or point KMEMLAB_CACHE at a larger filesystem"
}

# The Debian mirror the host already uses, read from its apt sources at run time.
host_mirror() {
	local uri=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' \
			/etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" \
		"set KMEMLAB_MIRROR to a Debian mirror URI"
	echo "${uri%/}"
}

# A content hash of files, used as a stamp to rebuild only on change.
hash_files() {
	cat "$@" | sha256sum | cut -c1-16
}
