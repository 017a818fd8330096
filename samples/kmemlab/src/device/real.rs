// SPDX-License-Identifier: GPL-2.0

//! The real `/dev/kmemlab`: opened with helpful errors and an ABI check,
//! its ioctls issued through rustix.

use std::ffi::c_void;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::ioctl::{opcode, Direction, Ioctl, IoctlOutput, Opcode};

use super::{dma_pool_what, mempool_what, name_field, DeviceError, DeviceOps, OpError};
use crate::uapi::*;

/// An ioctl whose argument is a pointer to an encoded ABI structure, which
/// the kernel may read and write.
struct Buffer<'a> {
    opcode: Opcode,
    buf: &'a mut [u8],
}

// SAFETY: `as_ptr` points at `buf`, a live, writable buffer exactly as large
// as the structure the opcode encodes (callers pass `T::SIZE` arrays, and the
// opcodes encode those sizes), so the kernel reads and writes only memory
// this struct borrows mutably; `IS_MUTATING` is true for that reason.
unsafe impl Ioctl for Buffer<'_> {
    type Output = IoctlOutput;
    const IS_MUTATING: bool = true;

    fn opcode(&self) -> Opcode {
        self.opcode
    }

    fn as_ptr(&mut self) -> *mut c_void {
        self.buf.as_mut_ptr().cast()
    }

    unsafe fn output_from_ptr(
        out: IoctlOutput,
        _extract_output: *mut c_void,
    ) -> rustix::io::Result<IoctlOutput> {
        Ok(out)
    }
}

/// An open `/dev/kmemlab` whose module speaks the tool's ABI.
pub struct Device {
    file: File,
}

impl Device {
    /// Opens `path` and checks, with `KMEMLAB_IOC_VERSION`, that the module
    /// behind it speaks the ABI this tool was built for.
    pub fn open(path: &Path) -> Result<Self, DeviceError> {
        let path: PathBuf = path.to_path_buf();
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(e) => {
                return Err(match e.kind() {
                    io::ErrorKind::NotFound if Path::new("/sys/module/kmemlab").exists() => {
                        DeviceError::NoNode(path)
                    }
                    io::ErrorKind::NotFound => DeviceError::NotLoaded(path),
                    io::ErrorKind::PermissionDenied => DeviceError::Permission(path),
                    _ => DeviceError::Os(path, "cannot open", e),
                })
            }
        };
        let dev = Self { file };
        let v = match dev.version() {
            Ok(v) => v,
            Err(e) if e.errno == Errno::NOTTY || e.errno == Errno::INVAL => {
                return Err(DeviceError::NotKmemlab(path))
            }
            Err(e) => {
                return Err(DeviceError::Os(
                    path,
                    "KMEMLAB_IOC_VERSION on",
                    io::Error::from(e.errno),
                ))
            }
        };
        if v.abi_version != KMEMLAB_ABI_VERSION {
            return Err(DeviceError::AbiMismatch {
                module: v.abi_version,
                tool: KMEMLAB_ABI_VERSION,
            });
        }
        Ok(dev)
    }

    /// Issues `request` with a pointer to `buf` (the encoded ABI structure).
    fn ioctl_buf(&self, request: u32, what: &'static str, buf: &mut [u8]) -> Result<(), OpError> {
        let call = Buffer {
            opcode: arch_opcode(request),
            buf,
        };
        // SAFETY: see the `Ioctl` impl of `Buffer`: the pointer passed is a
        // buffer of the size `request` encodes, borrowed for the call.
        unsafe { rustix::ioctl::ioctl(&self.file, call) }
            .map(|_| ())
            .map_err(|errno| OpError::new(what, errno))
    }
}

/// Issues an ioctl whose argument is one ABI structure: encodes `$arg`,
/// and decodes what the kernel wrote back (`$what` names it in the error).
macro_rules! abi_call {
    ($dev:expr, $req:expr, $what:expr, $t:ty, $arg:expr) => {{
        let mut buf = <$t>::encode($arg);
        $dev.ioctl_buf($req, $what, &mut buf)
            .map(|()| <$t>::decode(&buf))
    }};
}

/// An address the kernel reads or writes, as the ABI's `__u64`.
fn addr<T>(p: *const T) -> u64 {
    // CAST: a user pointer in a __u64 field, as the ABI defines it.
    p as usize as u64
}

impl DeviceOps for Device {
    fn version(&self) -> Result<KmemlabVersion, OpError> {
        abi_call!(
            self,
            KMEMLAB_IOC_VERSION,
            "version",
            KmemlabVersion,
            &KmemlabVersion::default()
        )
    }

    fn limits(&self) -> Result<KmemlabLimits, OpError> {
        abi_call!(
            self,
            KMEMLAB_IOC_LIMITS,
            "limits",
            KmemlabLimits,
            &KmemlabLimits::default()
        )
    }

    fn alloc(&self, req: &KmemlabAlloc) -> Result<Vec<u32>, OpError> {
        let mut handles = vec![0u32; req.count as usize];
        let req = KmemlabAlloc {
            handles: addr(handles.as_mut_ptr()),
            ..*req
        };
        abi_call!(self, KMEMLAB_IOC_ALLOC, "alloc", KmemlabAlloc, &req)?;
        Ok(handles)
    }

    fn free(&self, handles: &[u32]) -> Result<(), OpError> {
        let req = if handles.is_empty() {
            KmemlabFree {
                flags: KMEMLAB_FREE_ALL,
                count: 0,
                handles: 0,
            }
        } else {
            KmemlabFree {
                flags: 0,
                // CAST: the kernel refuses more than KMEMLAB_BATCH_MAX anyway.
                count: handles.len() as u32,
                handles: addr(handles.as_ptr()),
            }
        };
        abi_call!(self, KMEMLAB_IOC_FREE, "free", KmemlabFree, &req).map(|_| ())
    }

    fn write(&self, handle: u32, offset: u64, data: &[u8]) -> Result<(), OpError> {
        let req = KmemlabIo {
            handle,
            offset,
            len: data.len() as u64,
            addr: addr(data.as_ptr()),
            ..Default::default()
        };
        abi_call!(self, KMEMLAB_IOC_WRITE, "write", KmemlabIo, &req).map(|_| ())
    }

    fn read(&self, handle: u32, offset: u64, len: usize) -> Result<Vec<u8>, OpError> {
        // The module refuses a length past the object's end; the buffer is
        // allocated first, so a length nothing could hold is ENOMEM here,
        // not an abort.
        let mut data = Vec::new();
        data.try_reserve_exact(len)
            .map_err(|_| OpError::new("read", Errno::NOMEM))?;
        data.resize(len, 0);
        let req = KmemlabIo {
            handle,
            offset,
            len: len as u64,
            addr: addr(data.as_mut_ptr()),
            ..Default::default()
        };
        abi_call!(self, KMEMLAB_IOC_READ, "read", KmemlabIo, &req)?;
        Ok(data)
    }

    fn fill(&self, handle: u32, seed: u64, offset: u64, len: u64) -> Result<(), OpError> {
        let req = seeded_io(handle, seed, offset, len);
        abi_call!(self, KMEMLAB_IOC_FILL, "fill", KmemlabIo, &req).map(|_| ())
    }

    fn verify(
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

    fn info(&self, handle: u32) -> Result<KmemlabInfo, OpError> {
        let req = KmemlabInfo {
            handle,
            ..Default::default()
        };
        abi_call!(self, KMEMLAB_IOC_INFO, "info", KmemlabInfo, &req)
    }

    fn list(&self) -> Result<Vec<KmemlabInfo>, OpError> {
        let mut room = 64usize;
        loop {
            let mut raw = vec![0u8; room * KmemlabInfo::SIZE];
            let req = KmemlabList {
                // CAST: room is what the kernel reported, a __u32.
                count: room as u32,
                reserved: 0,
                infos: addr(raw.as_mut_ptr()),
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

    fn cache_create(
        &self,
        name: &str,
        object_size: u32,
        align: u32,
        flags: u32,
    ) -> Result<u32, OpError> {
        let req = KmemlabCacheCreate {
            name: name_field(name),
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

    fn cache_destroy(&self, handle: u32) -> Result<(), OpError> {
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

    fn ioremap(&self, req: &KmemlabIoremap) -> Result<u32, OpError> {
        Ok(abi_call!(self, KMEMLAB_IOC_IOREMAP, "ioremap", KmemlabIoremap, req)?.handle)
    }

    fn mmio(&self, req: &KmemlabMmio) -> Result<u64, OpError> {
        Ok(abi_call!(self, KMEMLAB_IOC_MMIO, "mmio", KmemlabMmio, req)?.value)
    }

    fn dma_copy(&self, req: &KmemlabDmaCopy) -> Result<(), OpError> {
        abi_call!(self, KMEMLAB_IOC_DMA_COPY, "dma copy", KmemlabDmaCopy, req).map(|_| ())
    }

    fn percpu(&self, req: &KmemlabPercpu) -> Result<KmemlabPercpu, OpError> {
        abi_call!(self, KMEMLAB_IOC_PERCPU, "percpu", KmemlabPercpu, req)
    }

    fn percpu_read(&self, handle: u32) -> Result<(Vec<u64>, u64), OpError> {
        // A first call with no room learns nr_cpu_ids.
        let mut values: Vec<u64> = Vec::new();
        loop {
            let req = KmemlabPercpu {
                handle,
                op: KMEMLAB_PERCPU_READ,
                // CAST: nr_cpu_ids, as the kernel reported it, fits its __u32 count.
                count: values.len() as u32,
                values: if values.is_empty() {
                    0
                } else {
                    addr(values.as_mut_ptr())
                },
                ..Default::default()
            };
            let out = self.percpu(&req)?;
            let ids = out.count as usize;
            if ids <= values.len() {
                values.truncate(ids);
                return Ok((values, out.sum));
            }
            values = vec![0u64; ids];
        }
    }

    fn bench(&self, req: &KmemlabBench) -> Result<KmemlabBench, OpError> {
        abi_call!(self, KMEMLAB_IOC_BENCH, "bench", KmemlabBench, req)
    }

    fn mempool(&self, req: &KmemlabMempool) -> Result<KmemlabMempool, OpError> {
        let what = mempool_what(req.op);
        abi_call!(self, KMEMLAB_IOC_MEMPOOL, what, KmemlabMempool, req)
    }

    fn dma_pool(&self, req: &KmemlabDmaPool) -> Result<KmemlabDmaPool, OpError> {
        let what = dma_pool_what(req.op);
        abi_call!(self, KMEMLAB_IOC_DMA_POOL, what, KmemlabDmaPool, req)
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

/// This architecture's number for `request`. The shared ABI mirror
/// (rust/uapi.rs, which the module compiles too) writes its numbers in the
/// asm-generic `_IOC` layout of x86-64 and arm64; the tool takes the
/// direction, type, number and size back out of it and has rustix encode
/// them for the architecture it runs on (powerpc, mips and sparc lay them
/// out otherwise).
fn arch_opcode(request: u32) -> Opcode {
    let direction = match request >> 30 {
        1 => Direction::Write,
        2 => Direction::Read,
        3 => Direction::ReadWrite,
        _ => Direction::None,
    };
    let group = ((request >> 8) & 0xff) as u8;
    let number = (request & 0xff) as u8;
    let size = ((request >> 16) & 0x3fff) as usize;
    opcode::from_components(direction, group, number, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ioctl number of the shared ABI mirror (which computes them
    /// itself, for the kernel's sake), re-encoded for this architecture,
    /// equals what rustix computes from the direction, the number and the
    /// structure.
    #[test]
    fn ioctl_numbers_match_rustix() {
        const M: u8 = 0xBB;
        let want: &[(&str, u32, Opcode)] = &[
            (
                "VERSION",
                KMEMLAB_IOC_VERSION,
                opcode::read::<KmemlabVersion>(M, 0x00),
            ),
            (
                "LIMITS",
                KMEMLAB_IOC_LIMITS,
                opcode::read::<KmemlabLimits>(M, 0x01),
            ),
            (
                "ALLOC",
                KMEMLAB_IOC_ALLOC,
                opcode::write::<KmemlabAlloc>(M, 0x10),
            ),
            (
                "FREE",
                KMEMLAB_IOC_FREE,
                opcode::write::<KmemlabFree>(M, 0x11),
            ),
            (
                "WRITE",
                KMEMLAB_IOC_WRITE,
                opcode::write::<KmemlabIo>(M, 0x12),
            ),
            (
                "READ",
                KMEMLAB_IOC_READ,
                opcode::write::<KmemlabIo>(M, 0x13),
            ),
            (
                "FILL",
                KMEMLAB_IOC_FILL,
                opcode::write::<KmemlabIo>(M, 0x14),
            ),
            (
                "VERIFY",
                KMEMLAB_IOC_VERIFY,
                opcode::read_write::<KmemlabIo>(M, 0x15),
            ),
            (
                "INFO",
                KMEMLAB_IOC_INFO,
                opcode::read_write::<KmemlabInfo>(M, 0x16),
            ),
            (
                "LIST",
                KMEMLAB_IOC_LIST,
                opcode::read_write::<KmemlabList>(M, 0x17),
            ),
            (
                "CACHE_CREATE",
                KMEMLAB_IOC_CACHE_CREATE,
                opcode::read_write::<KmemlabCacheCreate>(M, 0x18),
            ),
            (
                "CACHE_DESTROY",
                KMEMLAB_IOC_CACHE_DESTROY,
                opcode::write::<KmemlabCacheDestroy>(M, 0x19),
            ),
            (
                "IOREMAP",
                KMEMLAB_IOC_IOREMAP,
                opcode::read_write::<KmemlabIoremap>(M, 0x1a),
            ),
            (
                "MMIO",
                KMEMLAB_IOC_MMIO,
                opcode::read_write::<KmemlabMmio>(M, 0x1b),
            ),
            (
                "DMA_COPY",
                KMEMLAB_IOC_DMA_COPY,
                opcode::write::<KmemlabDmaCopy>(M, 0x1c),
            ),
            (
                "PERCPU",
                KMEMLAB_IOC_PERCPU,
                opcode::read_write::<KmemlabPercpu>(M, 0x1d),
            ),
            (
                "BENCH",
                KMEMLAB_IOC_BENCH,
                opcode::read_write::<KmemlabBench>(M, 0x1e),
            ),
            (
                "MEMPOOL",
                KMEMLAB_IOC_MEMPOOL,
                opcode::read_write::<KmemlabMempool>(M, 0x1f),
            ),
            (
                "DMA_POOL",
                KMEMLAB_IOC_DMA_POOL,
                opcode::read_write::<KmemlabDmaPool>(M, 0x20),
            ),
        ];
        // Every ioctl of the ABI is checked here.
        assert_eq!(want.len(), ABI_IOCTLS.len());
        for (name, ours, rustix) in want {
            assert_eq!(arch_opcode(*ours), *rustix, "KMEMLAB_IOC_{name}");
            assert!(
                ABI_IOCTLS
                    .iter()
                    .any(|(n, v)| *n == format!("KMEMLAB_IOC_{name}") && v == ours),
                "KMEMLAB_IOC_{name} is not in ABI_IOCTLS"
            );
        }
    }
}
