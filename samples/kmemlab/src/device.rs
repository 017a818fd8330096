// SPDX-License-Identifier: GPL-2.0

//! `/dev/kmemlab`: opening it with helpful errors, and issuing ioctls.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::uapi::*;

extern "C" {
    fn ioctl(fd: i32, request: std::ffi::c_ulong, ...) -> i32;
}

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
                "{} does not answer KMEMLAB_IOC_VERSION: it is not a kmemlab device",
                p.display()
            ),
            Self::Os(p, what, e) => write!(f, "{what} {}: {e}", p.display()),
        }
    }
}

/// An open `/dev/kmemlab`.
pub struct Device {
    file: File,
    path: PathBuf,
}

impl Device {
    /// Opens the device node at `path`.
    pub fn open(path: &Path) -> Result<Self, DeviceError> {
        let path = path.to_path_buf();
        match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => Ok(Self { file, path }),
            Err(e) => Err(match e.kind() {
                io::ErrorKind::NotFound if Path::new("/sys/module/kmemlab").exists() => {
                    DeviceError::NoNode(path)
                }
                io::ErrorKind::NotFound => DeviceError::NotLoaded(path),
                io::ErrorKind::PermissionDenied => DeviceError::Permission(path),
                _ => DeviceError::Os(path, "cannot open", e),
            }),
        }
    }

    /// Issues `request` with a pointer to `buf` (the encoded ABI structure).
    fn ioctl_buf(&self, request: u32, buf: &mut [u8]) -> io::Result<i32> {
        // SAFETY: `buf` is a live, writable buffer exactly as large as the
        // structure `request` encodes (the callers pass `T::SIZE` arrays), so
        // the kernel reads and writes only memory we own.
        let ret = unsafe {
            ioctl(
                self.file.as_raw_fd(),
                std::ffi::c_ulong::from(request),
                buf.as_mut_ptr(),
            )
        };
        if ret < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(ret)
        }
    }

    /// Issues `request` with `arg` encoded, and decodes what the kernel wrote back.
    fn call<T: Copy>(
        &self,
        request: u32,
        what: &'static str,
        encode: impl Fn(&T) -> Vec<u8>,
        decode: impl Fn(&[u8]) -> T,
        arg: &T,
    ) -> Result<T, OpError> {
        let mut buf = encode(arg);
        self.ioctl_buf(request, &mut buf)
            .map_err(|e| OpError { what, err: e })?;
        Ok(decode(&buf))
    }

    /// `KMEMLAB_IOC_VERSION`.
    pub fn version(&self) -> Result<KmemlabVersion, DeviceError> {
        let mut buf = [0u8; KmemlabVersion::SIZE];
        match self.ioctl_buf(KMEMLAB_IOC_VERSION, &mut buf) {
            Ok(_) => Ok(KmemlabVersion::decode(&buf)),
            Err(e) if e.raw_os_error() == Some(25) => {
                Err(DeviceError::NotKmemlab(self.path.clone()))
            }
            Err(e) => Err(DeviceError::Os(
                self.path.clone(),
                "KMEMLAB_IOC_VERSION on",
                e,
            )),
        }
    }
}

/// A failed kmemlab operation: which one, and the kernel's errno.
#[derive(Debug)]
pub struct OpError {
    pub what: &'static str,
    pub err: io::Error,
}

impl OpError {
    /// The errno name, e.g. `ENOENT`.
    pub fn errno_name(&self) -> &'static str {
        match self.err.raw_os_error() {
            Some(1) => "EPERM",
            Some(2) => "ENOENT",
            Some(6) => "ENXIO",
            Some(12) => "ENOMEM",
            Some(13) => "EACCES",
            Some(14) => "EFAULT",
            Some(16) => "EBUSY",
            Some(17) => "EEXIST",
            Some(19) => "ENODEV",
            Some(22) => "EINVAL",
            Some(25) => "ENOTTY",
            Some(28) => "ENOSPC",
            Some(110) => "ETIMEDOUT",
            _ => "error",
        }
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {} ({})",
            self.what,
            self.err,
            self.errno_name()
        )
    }
}

macro_rules! abi_call {
    ($dev:expr, $req:expr, $what:literal, $t:ty, $arg:expr) => {
        $dev.call::<$t>(
            $req,
            $what,
            |a| a.encode().to_vec(),
            |b| {
                let mut raw = [0u8; <$t>::SIZE];
                raw.copy_from_slice(b);
                <$t>::decode(&raw)
            },
            $arg,
        )
    };
}

impl Device {
    /// `KMEMLAB_IOC_ALLOC`: returns the new handles.
    pub fn alloc(&self, req: &KmemlabAlloc) -> Result<Vec<u32>, OpError> {
        let mut handles = vec![0u32; req.count as usize];
        let req = KmemlabAlloc {
            handles: handles.as_mut_ptr() as u64,
            ..*req
        };
        abi_call!(self, KMEMLAB_IOC_ALLOC, "alloc", KmemlabAlloc, &req)?;
        Ok(handles)
    }

    /// `KMEMLAB_IOC_FREE` of `handles`, or of everything when `handles` is empty.
    pub fn free(&self, handles: &[u32]) -> Result<(), OpError> {
        let req = if handles.is_empty() {
            KmemlabFree {
                flags: KMEMLAB_FREE_ALL,
                count: 0,
                handles: 0,
            }
        } else {
            KmemlabFree {
                flags: 0,
                count: handles.len() as u32,
                handles: handles.as_ptr() as u64,
            }
        };
        abi_call!(self, KMEMLAB_IOC_FREE, "free", KmemlabFree, &req).map(|_| ())
    }

    /// `KMEMLAB_IOC_WRITE` of `data` at `offset`.
    pub fn write(&self, handle: u32, offset: u64, data: &[u8]) -> Result<(), OpError> {
        let req = KmemlabIo {
            handle,
            offset,
            len: data.len() as u64,
            addr: data.as_ptr() as u64,
            ..Default::default()
        };
        abi_call!(self, KMEMLAB_IOC_WRITE, "write", KmemlabIo, &req).map(|_| ())
    }

    /// `KMEMLAB_IOC_READ` of `len` bytes at `offset`.
    pub fn read(&self, handle: u32, offset: u64, len: usize) -> Result<Vec<u8>, OpError> {
        let mut data = vec![0u8; len];
        let req = KmemlabIo {
            handle,
            offset,
            len: len as u64,
            addr: data.as_mut_ptr() as u64,
            ..Default::default()
        };
        abi_call!(self, KMEMLAB_IOC_READ, "read", KmemlabIo, &req)?;
        Ok(data)
    }

    /// `KMEMLAB_IOC_FILL` with `seed`.
    pub fn fill(&self, handle: u32, seed: u64, offset: u64, len: u64) -> Result<(), OpError> {
        let req = seeded_io(handle, seed, offset, len);
        abi_call!(self, KMEMLAB_IOC_FILL, "fill", KmemlabIo, &req).map(|_| ())
    }

    /// `KMEMLAB_IOC_VERIFY` with `seed`: the first differing offset, if any.
    pub fn verify(
        &self,
        handle: u32,
        seed: u64,
        offset: u64,
        len: u64,
    ) -> Result<Option<u64>, OpError> {
        let req = seeded_io(handle, seed, offset, len);
        let out = abi_call!(self, KMEMLAB_IOC_VERIFY, "verify", KmemlabIo, &req)?;
        Ok((out.result != u64::MAX).then_some(out.result))
    }

    /// `KMEMLAB_IOC_INFO`.
    pub fn info(&self, handle: u32) -> Result<KmemlabInfo, OpError> {
        let req = KmemlabInfo {
            handle,
            ..Default::default()
        };
        abi_call!(self, KMEMLAB_IOC_INFO, "info", KmemlabInfo, &req)
    }

    /// `KMEMLAB_IOC_LIST`: every object of this file.
    pub fn list(&self) -> Result<Vec<KmemlabInfo>, OpError> {
        let mut room = 64usize;
        loop {
            let mut raw = vec![0u8; room * KmemlabInfo::SIZE];
            let req = KmemlabList {
                count: room as u32,
                reserved: 0,
                infos: raw.as_mut_ptr() as u64,
            };
            let out = abi_call!(self, KMEMLAB_IOC_LIST, "list", KmemlabList, &req)?;
            let total = out.count as usize;
            if total <= room {
                return Ok(raw[..total * KmemlabInfo::SIZE]
                    .chunks_exact(KmemlabInfo::SIZE)
                    .map(|c| {
                        let mut b = [0u8; KmemlabInfo::SIZE];
                        b.copy_from_slice(c);
                        KmemlabInfo::decode(&b)
                    })
                    .collect());
            }
            room = total;
        }
    }

    /// `KMEMLAB_IOC_CACHE_CREATE`: returns the cache's handle.
    pub fn cache_create(
        &self,
        name: &str,
        object_size: u32,
        align: u32,
        flags: u32,
    ) -> Result<u32, OpError> {
        let mut raw_name = [0u8; KMEMLAB_CACHE_NAME_MAX];
        let n = name.len().min(KMEMLAB_CACHE_NAME_MAX - 1);
        raw_name[..n].copy_from_slice(&name.as_bytes()[..n]);
        let req = KmemlabCacheCreate {
            name: raw_name,
            object_size,
            align,
            flags,
            handle: 0,
        };
        Ok(abi_call!(
            self,
            KMEMLAB_IOC_CACHE_CREATE,
            "cache create",
            KmemlabCacheCreate,
            &req
        )?
        .handle)
    }

    /// `KMEMLAB_IOC_CACHE_DESTROY`.
    pub fn cache_destroy(&self, handle: u32) -> Result<(), OpError> {
        let req = KmemlabCacheDestroy {
            handle,
            reserved: 0,
        };
        abi_call!(
            self,
            KMEMLAB_IOC_CACHE_DESTROY,
            "cache destroy",
            KmemlabCacheDestroy,
            &req
        )
        .map(|_| ())
    }

    /// `KMEMLAB_IOC_IOREMAP`: returns the new object's handle.
    pub fn ioremap(&self, req: &KmemlabIoremap) -> Result<u32, OpError> {
        Ok(abi_call!(self, KMEMLAB_IOC_IOREMAP, "ioremap", KmemlabIoremap, req)?.handle)
    }

    /// `KMEMLAB_IOC_MMIO`: returns `value` as the kernel left it (for a read, what was read).
    pub fn mmio(&self, req: &KmemlabMmio) -> Result<u64, OpError> {
        Ok(abi_call!(self, KMEMLAB_IOC_MMIO, "mmio", KmemlabMmio, req)?.value)
    }

    /// `KMEMLAB_IOC_DMA_COPY`.
    pub fn dma_copy(&self, req: &KmemlabDmaCopy) -> Result<(), OpError> {
        abi_call!(self, KMEMLAB_IOC_DMA_COPY, "dma copy", KmemlabDmaCopy, req).map(|_| ())
    }

    /// `KMEMLAB_IOC_PERCPU`: returns the structure as the kernel left it.
    pub fn percpu(&self, req: &KmemlabPercpu) -> Result<KmemlabPercpu, OpError> {
        abi_call!(self, KMEMLAB_IOC_PERCPU, "percpu", KmemlabPercpu, req)
    }

    /// `KMEMLAB_IOC_BENCH`: one timed run.
    pub fn bench(&self, req: &KmemlabBench) -> Result<KmemlabBench, OpError> {
        abi_call!(self, KMEMLAB_IOC_BENCH, "bench", KmemlabBench, req)
    }

    /// `KMEMLAB_IOC_PERCPU` READ: every CPU id's value, and their sum.
    pub fn percpu_read(&self, handle: u32) -> Result<(Vec<u64>, u64), OpError> {
        // A first call with no room learns nr_cpu_ids.
        let mut values = Vec::new();
        loop {
            let req = percpu_read_req(handle, &mut values);
            let out = self.percpu(&req)?;
            let ids = out.count as usize;
            if ids <= values.len() {
                values.truncate(ids);
                return Ok((values, out.sum));
            }
            values = vec![0u64; ids];
        }
    }
}

/// The `struct kmemlab_percpu` of a READ into `values` (its length is the room).
fn percpu_read_req(handle: u32, values: &mut [u64]) -> KmemlabPercpu {
    KmemlabPercpu {
        handle,
        op: KMEMLAB_PERCPU_READ,
        // CAST: nr_cpu_ids, as the kernel reported it, fits its __u32 count.
        count: values.len() as u32,
        values: if values.is_empty() {
            0
        } else {
            values.as_mut_ptr() as u64
        },
        ..Default::default()
    }
}

/// The `struct kmemlab_io` of a FILL or VERIFY: the seed travels in `addr`.
fn seeded_io(handle: u32, seed: u64, offset: u64, len: u64) -> KmemlabIo {
    KmemlabIo {
        handle,
        offset,
        len,
        addr: seed,
        ..Default::default()
    }
}
