# SPDX-License-Identifier: GPL-2.0
#
# kmemlab: build, run and test the module.
#
#   make                      build kmemlab.ko against the project's debug test
#                             kernel (toolchain sysroot and kernel are built first
#                             when missing; needs root)
#   make KERNEL=perf          ... against the perf (benchmark) kernel
#   make KERNEL=debian        ... against Debian's own 7.3 kernel (its packages are
#                             installed into the sysroot, the Rust metadata
#                             regenerated from the same upload's source)
#   make KDIR=/path LLVM=1    build against your own Rust-enabled kernel build
#                             tree, like any out-of-tree module (no root, no sysroot)
#   make run                  the main job: build what is missing, boot the test
#                             kernel, load kmemlab, run a short demo
#                             (KERNEL=debian: the same on Debian's own kernel)
#   make check                all tests: host (cargo test, clippy, rustfmt; the
#                             module with CLIPPY=1 and rustfmt-checked), then the
#                             kselftests in the guest
#   make check-long           the same at length: a million fuzzed ioctls, 100
#                             load/unload cycles (hours under TCG; not for CI)
#   make bench                benchmarks on the perf kernel (samples/kmemlab/results),
#                             in instructions (QEMU -icount), scaling in real time
#                             (KMEMLAB_PAD=N moves the module's code by N bytes in
#                             any build, to see layout effects on real-time figures)
#   make tool                 the userspace `kmemlab` tool (samples/kmemlab)
#   make selftests            the kselftest programs (selftests/kmemlab)
#   make modules_install      install kmemlab.ko into the kernel's module tree
#   make rust-analyzer        rust-project.json for editors
#   make clean
#
# (Kbuild reads the Kbuild file, not this one.)

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KMEMLAB_CACHE ?= /var/cache/kmemlab
KERNEL ?= debug
KMEMLAB_LLVM ?= -19
export KMEMLAB_CACHE KMEMLAB_LLVM

SYSROOT_RUN := $(TOP)/scripts/sysroot-run
# The tool is built with the sysroot's cargo and rustc (trixie, Rust 1.85);
# TOOL_CARGO=cargo uses your own instead (not CARGO, which cargo itself sets
# for the programs it runs).
TOOL_CARGO ?= $(SYSROOT_RUN) cargo
TOOL_MANIFEST := $(TOP)/samples/kmemlab/Cargo.toml

ifeq ($(origin KDIR),undefined)
# The project's own test kernel, built inside the toolchain sysroot. The module
# is built out of the source tree (MO=) so debug and perf builds coexist.
KBUILD_TREE := $(KMEMLAB_CACHE)/build/kernel-$(KERNEL)
MODULE_OUT := $(TOP)/build/$(KERNEL)
KSRC := $(KMEMLAB_CACHE)/build/src/linux
ifeq ($(KERNEL),debian)
# Debian builds its kernel's C with gcc-14; the Rust side is the same rustc.
KCOMPILER := CC=x86_64-linux-gnu-gcc-14
else
# The lab kernels are built with LLVM and without pahole (nothing in their
# configuration uses BTF): PAHOLE=false keeps the module build's pahole check
# quiet now that the sysroot has pahole for Debian's configuration.
KCOMPILER := LLVM=$(KMEMLAB_LLVM) PAHOLE=false
endif
KMAKE := $(SYSROOT_RUN) make -C $(KBUILD_TREE) M=$(TOP) MO=$(MODULE_OUT) \
	$(KCOMPILER) $(if $(CLIPPY),CLIPPY=$(CLIPPY)) $(if $(KMEMLAB_PAD),KMEMLAB_PAD=$(KMEMLAB_PAD))
RUN := $(SYSROOT_RUN)
PREPARE := prepare-kernel
else
# A user's own kernel tree: plain out-of-tree module rules.
MODULE_OUT := $(TOP)
KSRC := $(if $(wildcard $(KDIR)/source/Makefile),$(KDIR)/source,$(KDIR))
KMAKE := $(MAKE) -C $(KDIR) M=$(TOP) $(if $(KMEMLAB_PAD),KMEMLAB_PAD=$(KMEMLAB_PAD))
RUN :=
PREPARE :=
endif

.PHONY: all modules prepare-kernel sysroot kernel tool tool-docs selftests run check check-long bench \
	modules_install clean rust-analyzer rustfmt rustfmtcheck

all modules: $(PREPARE)
	+$(KMAKE) modules
ifeq ($(origin KDIR)-$(KERNEL),undefined-debian)
	$(TOP)/scripts/debian symbols $(MODULE_OUT)/kmemlab.ko
endif

sysroot:
	$(TOP)/scripts/sysroot

kernel: sysroot
	$(TOP)/scripts/kernel $(KERNEL)

prepare-kernel: kernel

tool: $(if $(findstring sysroot-run,$(TOOL_CARGO)),sysroot)
	$(TOOL_CARGO) build --release --locked --quiet --manifest-path $(TOOL_MANIFEST)

# The tool's man pages and shell completions (and its README reference), from its clap definition.
tool-docs: tool
	$(TOOL_CARGO) run --release --locked --quiet --manifest-path $(TOOL_MANIFEST) -- docs $(TOP)/build/tool-docs

selftests: $(PREPARE)
	+$(RUN) make -C $(TOP)/selftests/kmemlab KSRC=$(KSRC)

run:
	$(TOP)/scripts/run $(KERNEL)

check:
	$(TOP)/scripts/check

check-long:
	KMEMLAB_CHECK_LONG=1 $(TOP)/scripts/check

bench:
	$(TOP)/scripts/bench

modules_install: modules
	+$(KMAKE) modules_install

# The kernel writes rust-project.json into the module's output directory; the
# helper adds kmemlab's crate (the kernel's generator only finds crate roots
# named by a Kbuild in their own directory) and, for the sysroot build, maps
# the toolchain's paths to where they are on the host.
rust-analyzer: $(PREPARE)
	+$(KMAKE) rust-analyzer
	$(TOP)/scripts/rust-analyzer-crate $(MODULE_OUT)/rust-project.json $(TOP)/rust/kmemlab.rs \
		$(if $(RUN),$(KMEMLAB_CACHE)/sysroot)
	$(if $(filter-out $(TOP),$(MODULE_OUT)),cp $(MODULE_OUT)/rust-project.json $(TOP)/rust-project.json)

# Format the module's Rust with the kernel's own rustfmt settings.
rustfmt:
	$(RUN) rustfmt --config-path $(KSRC)/.rustfmt.toml $(TOP)/rust/kmemlab.rs

rustfmtcheck:
	$(RUN) rustfmt --check --config-path $(KSRC)/.rustfmt.toml $(TOP)/rust/kmemlab.rs

clean:
	rm -rf $(TOP)/build
	rm -f $(TOP)/rust-project.json
	find $(TOP) -path $(TOP)/samples -prune -o \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.d' -o -name 'modules.order' \
		-o -name 'Module.symvers' -o -name '*.rmeta' \) -print | xargs -r rm -f
	-$(TOOL_CARGO) clean --quiet --manifest-path $(TOOL_MANIFEST)
	-$(MAKE) -C $(TOP)/selftests/kmemlab clean
