// SPDX-License-Identifier: GPL-2.0

//! `/dev/kmemlab` behind a trait: [`DeviceOps`] has one typed method per
//! ioctl. The real device ([`Device`], in `real.rs`) issues them through
//! rustix; the tests' fake (`fake.rs`) keeps objects in memory, so the
//! commands, `limits` and `bench` are tested without the module.

use std::fmt;
use std::io;
use std::path::PathBuf;

use rustix::io::Errno;

use crate::uapi::*;

#[cfg(test)]
pub mod fake;
mod real;

pub use real::Device;

/// Why the device could not be used, phrased for the person at the terminal.
#[derive(Debug)]
pub enum DeviceError {
    /// The kmemlab module is not loaded.
    NotLoaded(PathBuf),
    /// The module is loaded but its device node is missing.
    NoNode(PathBuf),
    /// The caller may not open the node.
    Permission(PathBuf),
    /// The node does not answer kmemlab's ioctls.
    NotKmemlab(PathBuf),
    /// The module speaks another ABI version than the tool.
    AbiMismatch { module: u32, tool: u32 },
    /// Any other system error.
    Os(PathBuf, &'static str, io::Error),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoaded(p) => write!(
                f,
                "{} does not exist and the kmemlab module is not loaded \
                 (no /sys/module/kmemlab): load it with 'insmod kmemlab.ko'",
                p.display()
            ),
            Self::NoNode(p) => write!(
                f,
                "the kmemlab module is loaded but {} is missing: is devtmpfs mounted on /dev?",
                p.display()
            ),
            Self::Permission(p) => write!(
                f,
                "permission denied opening {}: the device is root-only (mode 0600), run as root",
                p.display()
            ),
            Self::NotKmemlab(p) => write!(
                f,
                "{} does not answer KMEMLAB_IOC_VERSION: it is not a kmemlab device \
                 (or a kmemlab module of another ABI)",
                p.display()
            ),
            Self::AbiMismatch { module, tool } => write!(
                f,
                "ABI mismatch: the module speaks ABI {module} but this tool was built for \
                 ABI {tool}: rebuild one of them"
            ),
            Self::Os(p, what, e) => write!(f, "{what} {}: {e}", p.display()),
        }
    }
}

/// A failed kmemlab operation: which one, and the kernel's errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpError {
    pub what: &'static str,
    pub errno: Errno,
}

impl OpError {
    pub fn new(what: &'static str, errno: Errno) -> Self {
        Self { what, errno }
    }

    /// The errno's name, e.g. `ENOENT`; `errno N` for one the tool does not name.
    pub fn errno_name(&self) -> String {
        errno_name(self.errno)
    }
}

/// The name of `e`, e.g. `ENOMEM`; `errno N` for one the tool does not name.
pub fn errno_name(e: Errno) -> String {
    const NAMES: &[(Errno, &str)] = &[
        (Errno::PERM, "EPERM"),
        (Errno::NOENT, "ENOENT"),
        (Errno::INTR, "EINTR"),
        (Errno::IO, "EIO"),
        (Errno::NXIO, "ENXIO"),
        (Errno::NOMEM, "ENOMEM"),
        (Errno::ACCESS, "EACCES"),
        (Errno::FAULT, "EFAULT"),
        (Errno::BUSY, "EBUSY"),
        (Errno::EXIST, "EEXIST"),
        (Errno::NODEV, "ENODEV"),
        (Errno::INVAL, "EINVAL"),
        (Errno::NOTTY, "ENOTTY"),
        (Errno::NOSPC, "ENOSPC"),
        (Errno::RANGE, "ERANGE"),
        (Errno::OVERFLOW, "EOVERFLOW"),
        (Errno::OPNOTSUPP, "EOPNOTSUPP"),
        (Errno::TIMEDOUT, "ETIMEDOUT"),
    ];
    NAMES.iter().find(|(n, _)| *n == e).map_or_else(
        || format!("errno {}", e.raw_os_error()),
        |(_, name)| (*name).to_string(),
    )
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {} ({})",
            self.what,
            io::Error::from(self.errno),
            self.errno_name()
        )
    }
}

/// The operations of an open `/dev/kmemlab`, one per ioctl. Objects belong
/// to the open file: every call on one value sees the same objects.
pub trait DeviceOps {
    /// `KMEMLAB_IOC_VERSION`.
    fn version(&self) -> Result<KmemlabVersion, OpError>;
    /// `KMEMLAB_IOC_LIMITS` (only when the module has `KMEMLAB_FEAT_LIMITS`).
    fn limits(&self) -> Result<KmemlabLimits, OpError>;
    /// `KMEMLAB_IOC_ALLOC`: returns the new handles (`req.handles` is ignored).
    fn alloc(&self, req: &KmemlabAlloc) -> Result<Vec<u32>, OpError>;
    /// `KMEMLAB_IOC_FREE` of `handles`, or of everything when `handles` is empty.
    fn free(&self, handles: &[u32]) -> Result<(), OpError>;
    /// `KMEMLAB_IOC_WRITE` of `data` at `offset`.
    fn write(&self, handle: u32, offset: u64, data: &[u8]) -> Result<(), OpError>;
    /// `KMEMLAB_IOC_READ` of `len` bytes at `offset`.
    fn read(&self, handle: u32, offset: u64, len: usize) -> Result<Vec<u8>, OpError>;
    /// `KMEMLAB_IOC_FILL` with `seed`.
    fn fill(&self, handle: u32, seed: u64, offset: u64, len: u64) -> Result<(), OpError>;
    /// `KMEMLAB_IOC_VERIFY` with `seed`: the first differing offset, if any.
    fn verify(&self, handle: u32, seed: u64, offset: u64, len: u64)
        -> Result<Option<u64>, OpError>;
    /// `KMEMLAB_IOC_INFO`.
    fn info(&self, handle: u32) -> Result<KmemlabInfo, OpError>;
    /// `KMEMLAB_IOC_LIST`: every object of this file.
    fn list(&self) -> Result<Vec<KmemlabInfo>, OpError>;
    /// `KMEMLAB_IOC_CACHE_CREATE`: returns the cache's handle.
    fn cache_create(
        &self,
        name: &str,
        object_size: u32,
        align: u32,
        flags: u32,
    ) -> Result<u32, OpError>;
    /// `KMEMLAB_IOC_CACHE_DESTROY`.
    fn cache_destroy(&self, handle: u32) -> Result<(), OpError>;
    /// `KMEMLAB_IOC_IOREMAP`: returns the new object's handle.
    fn ioremap(&self, req: &KmemlabIoremap) -> Result<u32, OpError>;
    /// `KMEMLAB_IOC_MMIO`: returns `value` as the kernel left it.
    fn mmio(&self, req: &KmemlabMmio) -> Result<u64, OpError>;
    /// `KMEMLAB_IOC_DMA_COPY`.
    fn dma_copy(&self, req: &KmemlabDmaCopy) -> Result<(), OpError>;
    /// `KMEMLAB_IOC_PERCPU` ADD or ADD_ON: the structure as the kernel left it.
    fn percpu(&self, req: &KmemlabPercpu) -> Result<KmemlabPercpu, OpError>;
    /// `KMEMLAB_IOC_PERCPU` READ: every CPU id's value, and their sum.
    fn percpu_read(&self, handle: u32) -> Result<(Vec<u64>, u64), OpError>;
    /// `KMEMLAB_IOC_BENCH`: one timed run.
    fn bench(&self, req: &KmemlabBench) -> Result<KmemlabBench, OpError>;
    /// `KMEMLAB_IOC_MEMPOOL`: the structure as the kernel left it (the
    /// error names the operation, see [`mempool_what`]).
    fn mempool(&self, req: &KmemlabMempool) -> Result<KmemlabMempool, OpError>;
    /// `KMEMLAB_IOC_DMA_POOL`: the structure as the kernel left it (the
    /// error names the operation, see [`dma_pool_what`]).
    fn dma_pool(&self, req: &KmemlabDmaPool) -> Result<KmemlabDmaPool, OpError>;
}

/// `name` in the ABI's NUL-terminated name field of caches and DMA pools
/// (its first `KMEMLAB_CACHE_NAME_MAX - 1` bytes: the tool checks names
/// before they get here).
pub fn name_field(name: &str) -> [u8; KMEMLAB_CACHE_NAME_MAX] {
    let mut field = [0u8; KMEMLAB_CACHE_NAME_MAX];
    let n = name.len().min(KMEMLAB_CACHE_NAME_MAX - 1);
    field[..n].copy_from_slice(&name.as_bytes()[..n]);
    field
}

/// The name in a NUL-terminated name field: its bytes up to the first NUL.
pub fn field_name(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

/// What a `KMEMLAB_IOC_MEMPOOL` of operation `op` is called in errors.
pub fn mempool_what(op: u32) -> &'static str {
    match op {
        KMEMLAB_MEMPOOL_CREATE => "mempool create",
        KMEMLAB_MEMPOOL_DESTROY => "mempool destroy",
        KMEMLAB_MEMPOOL_STATUS => "mempool status",
        _ => "mempool",
    }
}

/// `KMEMLAB_MEMPOOL_CREATE` of a mempool keeping `min_nr` elements in
/// reserve: from kmalloc (`source` KMEMLAB_MEMPOOL_KMALLOC, elements of
/// `size` bytes, `cache` 0) or from a cache (KMEMLAB_MEMPOOL_CACHE, `size`
/// 0). Returns the mempool's handle.
pub fn mempool_create(
    dev: &dyn DeviceOps,
    source: u32,
    cache: u32,
    size: u32,
    min_nr: u32,
) -> Result<u32, OpError> {
    let req = KmemlabMempool {
        op: KMEMLAB_MEMPOOL_CREATE,
        source,
        cache,
        size,
        min_nr,
        ..Default::default()
    };
    dev.mempool(&req).map(|out| out.handle)
}

/// `KMEMLAB_MEMPOOL_DESTROY` of the mempool `handle`.
pub fn mempool_destroy(dev: &dyn DeviceOps, handle: u32) -> Result<(), OpError> {
    let req = KmemlabMempool {
        op: KMEMLAB_MEMPOOL_DESTROY,
        handle,
        ..Default::default()
    };
    dev.mempool(&req).map(|_| ())
}

/// `KMEMLAB_MEMPOOL_STATUS` of the mempool `handle`.
pub fn mempool_status(dev: &dyn DeviceOps, handle: u32) -> Result<KmemlabMempool, OpError> {
    let req = KmemlabMempool {
        op: KMEMLAB_MEMPOOL_STATUS,
        handle,
        ..Default::default()
    };
    dev.mempool(&req)
}

/// What a `KMEMLAB_IOC_DMA_POOL` of operation `op` is called in errors.
pub fn dma_pool_what(op: u32) -> &'static str {
    match op {
        KMEMLAB_DMA_POOL_CREATE => "dma-pool create",
        KMEMLAB_DMA_POOL_DESTROY => "dma-pool destroy",
        KMEMLAB_DMA_POOL_STATUS => "dma-pool status",
        _ => "dma-pool",
    }
}

/// What `KMEMLAB_DMA_POOL_CREATE` makes: a pool named kmemlab-`name` of
/// `size`-byte blocks for the KMEMLAB_DEV_* `device`, aligned to `align`
/// and crossing no multiple of `boundary` (0: none asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaPoolShape<'a> {
    pub name: &'a str,
    pub device: u32,
    pub size: u32,
    pub align: u32,
    pub boundary: u32,
}

/// `KMEMLAB_DMA_POOL_CREATE` of `pool`: returns the pool's handle.
pub fn dma_pool_create(dev: &dyn DeviceOps, pool: &DmaPoolShape<'_>) -> Result<u32, OpError> {
    let req = KmemlabDmaPool {
        name: name_field(pool.name),
        op: KMEMLAB_DMA_POOL_CREATE,
        device: pool.device,
        size: pool.size,
        align: pool.align,
        boundary: pool.boundary,
        ..Default::default()
    };
    dev.dma_pool(&req).map(|out| out.handle)
}

/// `KMEMLAB_DMA_POOL_DESTROY` (`op`) or `_STATUS` of the DMA pool `handle`:
/// the structure as the kernel left it.
pub fn dma_pool_op(dev: &dyn DeviceOps, op: u32, handle: u32) -> Result<KmemlabDmaPool, OpError> {
    let req = KmemlabDmaPool {
        op,
        handle,
        ..Default::default()
    };
    dev.dma_pool(&req)
}

/// What the module enforces, or why it cannot tell.
pub fn module_limits(dev: &dyn DeviceOps) -> Result<KmemlabLimits, crate::error::Error> {
    limits_if_supported(dev)?.ok_or_else(|| {
        "the loaded module predates KMEMLAB_IOC_LIMITS (no 'limits' in its features): \
         rebuild and reload it"
            .into()
    })
}

/// The module's limits; `None` when the module predates
/// `KMEMLAB_IOC_LIMITS` (the caller says which constant it uses instead).
/// A module that has the ioctl and fails it is an error.
pub fn limits_if_supported(
    dev: &dyn DeviceOps,
) -> Result<Option<KmemlabLimits>, crate::error::Error> {
    if dev.version()?.features & KMEMLAB_FEAT_LIMITS == 0 {
        return Ok(None);
    }
    dev.limits()
        .map(Some)
        .map_err(|e| format!("reading the module's limits: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_errnos() {
        assert_eq!(errno_name(Errno::NOMEM), "ENOMEM");
        assert_eq!(errno_name(Errno::NOTTY), "ENOTTY");
        assert_eq!(errno_name(Errno::from_raw_os_error(4095)), "errno 4095");
        let e = OpError::new("info", Errno::NOENT);
        assert!(e.to_string().starts_with("info failed: "), "{e}");
        assert!(e.to_string().ends_with("(ENOENT)"), "{e}");
    }

    #[test]
    fn name_fields_round_trip_and_stay_nul_terminated() {
        let f = name_field("ring");
        assert_eq!(&f[..5], b"ring\0");
        assert_eq!(field_name(&f), b"ring");
        let long = "x".repeat(KMEMLAB_CACHE_NAME_MAX + 4);
        let f = name_field(&long);
        assert_eq!(f[KMEMLAB_CACHE_NAME_MAX - 1], 0);
        assert_eq!(field_name(&f).len(), KMEMLAB_CACHE_NAME_MAX - 1);
        assert_eq!(field_name(&[b'a'; 3]), b"aaa");
        assert_eq!(dma_pool_what(KMEMLAB_DMA_POOL_STATUS), "dma-pool status");
        assert_eq!(dma_pool_what(9), "dma-pool");
    }
}
