// SPDX-License-Identifier: GPL-2.0

//! The tool's commands, run against one open device.
//!
//! Objects belong to the open file, so a sequence of commands that should see
//! each other's objects runs on one device (script mode, `--hold`).

mod devices;
mod dma_pool;
mod mempool;
mod objects;
mod version;

use crate::cli::Command;
use crate::device::DeviceOps;
use crate::error::{usage, Error, Result};
use crate::output::Output;

pub use version::{limits_json, limits_lines};

/// Whether `cmd` needs the device (`stats`, `top`, `completions`, `bench
/// placements` and the hidden documentation commands do not).
pub fn needs_device(cmd: &Command) -> bool {
    if let Command::Bench(b) = cmd {
        return crate::bench::needs_device(b);
    }
    !matches!(
        cmd,
        Command::Stats(_)
            | Command::Top(_)
            | Command::Completions { .. }
            | Command::Docs { .. }
            | Command::ReadmeReference
            | Command::ReadmeExamples { .. }
    )
}

/// Refuses a module without the feature `bit` (`what` names what it
/// brings) before an ioctl would (ENOTTY).
pub(crate) fn require_feature(dev: &dyn DeviceOps, bit: u64, what: &str) -> Result<()> {
    if dev.version()?.features & bit == 0 {
        let name = crate::names::feature_names(bit).join(" ");
        return Err(Error::Failed(format!(
            "the loaded module has no {what} (no '{name}' in its features): rebuild and reload it"
        )));
    }
    Ok(())
}

/// Checks what clap cannot: arguments that depend on each other. Runs
/// before the device is opened, so a usage error never needs the module.
pub fn validate(cmd: &Command) -> Result<()> {
    match cmd {
        Command::Alloc(a) => objects::alloc_request(a).map(|_| ()),
        Command::Write(w) => objects::write_data(w).map(|_| ()),
        Command::Cache(c) => objects::validate_cache(c),
        Command::Mmio(m) => devices::mmio_request(m).map(|_| ()),
        Command::Bench(b) => crate::bench::validate(b),
        _ => Ok(()),
    }
}

/// Runs one device command on `dev`.
pub fn run(dev: &dyn DeviceOps, cmd: &Command) -> Result<Output> {
    match cmd {
        Command::Version => version::version(dev),
        Command::Alloc(a) => objects::alloc(dev, a),
        Command::Free(f) => objects::free(dev, f),
        Command::Write(w) => objects::write(dev, w),
        Command::Read(r) => objects::read(dev, r),
        Command::Fill(s) => objects::fill(dev, s),
        Command::Verify(s) => objects::verify(dev, s),
        Command::Info(h) => objects::info(dev, h.handle),
        Command::List => objects::list(dev),
        Command::Cache(c) => objects::cache(dev, c),
        Command::Mempool(m) => mempool::mempool(dev, m),
        Command::DmaPool(p) => dma_pool::dma_pool(dev, p),
        Command::Ioremap(i) => devices::ioremap(dev, i),
        Command::Mmio(m) => devices::mmio(dev, m),
        Command::Dma(d) => devices::dma(dev, d),
        Command::Percpu(p) => devices::percpu(dev, p),
        Command::Limits(l) => crate::limits::limits(dev, l),
        Command::Bench(b) => crate::bench::bench(dev, b),
        Command::Script(_) => Err(usage("script runs on its own, not inside a script")),
        Command::Top(_) => Err(usage(
            "top is interactive: run it on its own, not in a script",
        )),
        Command::Stats(_)
        | Command::Completions { .. }
        | Command::Docs { .. }
        | Command::ReadmeReference
        | Command::ReadmeExamples { .. } => Err(usage("this command needs no device")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cli;
    use crate::device::fake::FakeDevice;

    /// Parses `line` (without the program's name) into its command.
    pub(crate) fn command(line: &str) -> Command {
        match cli::parse(std::iter::once("kmemlab").chain(line.split_whitespace())) {
            Ok(c) => c.command,
            Err(e) => panic!("{line}: {e}"),
        }
    }

    /// Runs `line` on `dev`.
    pub(crate) fn run_line(dev: &FakeDevice, line: &str) -> Result<Output> {
        let cmd = command(line);
        validate(&cmd)?;
        run(dev, &cmd)
    }

    /// The end of the pool 1 of `dev` (`pool`: its command, mempool or
    /// dma-pool), whose file holds its objects 2 to 5 and nothing else:
    /// destroying it is refused (EBUSY) while they live, a free shows in
    /// its status, `free --all` leaves the pool, and once destroyed
    /// (`destroyed`: what that prints) it is unknown (ENOENT). `pools`:
    /// the fake's count of such pools.
    pub(crate) fn pool_until_destroyed(
        dev: &FakeDevice,
        pool: &str,
        destroyed: &str,
        pools: impl Fn() -> usize,
    ) {
        expect_errno(dev, &format!("{pool} destroy 1"), "EBUSY");
        run_line(dev, "free 2 3").unwrap();
        let status = run_line(dev, &format!("{pool} status 1")).unwrap();
        assert_eq!(status.json["live"], 2);
        run_line(dev, "free --all").unwrap();
        assert_eq!(pools(), 1);
        let d = run_line(dev, &format!("{pool} destroy 1")).unwrap();
        assert_eq!(
            (d.text.as_str(), &d.json["destroyed"]),
            (destroyed, &1.into())
        );
        assert_eq!(pools(), 0);
        for gone in ["status", "destroy"] {
            expect_errno(dev, &format!("{pool} {gone} 1"), "ENOENT");
        }
    }

    /// Runs `line` on `dev`, which must fail in the device with `errno`
    /// (exit status 1).
    pub(crate) fn expect_errno(dev: &FakeDevice, line: &str, errno: &str) {
        match run_line(dev, line) {
            Ok(out) => panic!("{line}: succeeded: {}", out.text),
            Err(e) => {
                assert_eq!(e.exit_code(), 1, "{line}: {e}");
                assert!(
                    e.to_string().ends_with(&format!("({errno})")),
                    "{line}: {e}"
                );
            }
        }
    }

    #[test]
    fn commands_on_a_fake_device() {
        let dev = FakeDevice::default();
        let out = run_line(&dev, "alloc kmalloc 64 --count 2").unwrap();
        assert_eq!(out.text, "kmalloc: 1 2");
        assert_eq!(out.json["handles"], serde_json::json!([1, 2]));
        run_line(&dev, "fill 1 --seed 7").unwrap();
        let ok = run_line(&dev, "verify 1 --seed 7").unwrap();
        assert_eq!(ok.text, "ok: 64 bytes at 0 match seed 0x7");
        let e = run_line(&dev, "verify 1 --seed 8").unwrap_err();
        assert!(e.to_string().starts_with("mismatch"), "{e}");
        assert_eq!(e.exit_code(), 1);
        run_line(&dev, "write 2 --string a#b --offset 1").unwrap();
        assert_eq!(
            run_line(&dev, "read 2 --offset 1 --len 3").unwrap().text,
            "612362"
        );
        let list = run_line(&dev, "list").unwrap();
        assert_eq!(list.text.lines().count(), 2);
        let freed = run_line(&dev, "free --all").unwrap();
        assert_eq!(freed.json["all"], true);
        assert_eq!(dev.live(), 0);
        let e = run_line(&dev, "info 1").unwrap_err();
        assert!(e.to_string().contains("(ENOENT)"), "{e}");
        let v = run_line(&dev, "version").unwrap();
        assert!(
            v.text.contains("max_bytes:") && v.text.contains("256 MiB"),
            "{}",
            v.text
        );
        assert_eq!(v.json["limits"]["max_bytes"], 256 << 20);
    }

    #[test]
    fn percpu_and_caches_on_a_fake_device() {
        let dev = FakeDevice::default();
        run_line(&dev, "alloc percpu").unwrap();
        let on = run_line(&dev, "percpu add 1 5 --cpu 0").unwrap();
        assert_eq!(on.json["cpu"], 0);
        run_line(&dev, "percpu add 1 7").unwrap();
        let read = run_line(&dev, "percpu read 1").unwrap();
        assert_eq!(read.json["sum"], 12);
        assert!(read.text.ends_with("sum      12"), "{}", read.text);
        let c = run_line(&dev, "cache create one --size 128").unwrap();
        assert_eq!(c.text, "cache kmemlab-one: handle 2");
        run_line(&dev, "alloc kmem_cache --cache 2").unwrap();
        run_line(&dev, "cache destroy 2").unwrap();
        assert_eq!(dev.caches(), 0);
    }

    #[test]
    fn validation_is_a_usage_error() {
        for bad in [
            "alloc kmalloc 64 --dma-device edu",
            "write 1 --hex abc",
            "mmio write 1 4 0x12345 --width 2",
            "cache create a-name-far-too-long-for-the-abi --size 8",
            "bench run --op atomic-inc --kind kmalloc",
            "bench run --kind percpu --size 8",
            "bench run --kind kmem_cache --size 8g",
            "alloc kmem_cache",
            "alloc mempool --gfp atomic",
            "alloc kmalloc 64 --pool 1",
            "alloc kmem_cache --cache 1 --pool 1",
            "alloc mempool --pool 1 --cache 1 --gfp atomic",
        ] {
            let e = validate(&command(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}: {e}");
        }
    }
}
