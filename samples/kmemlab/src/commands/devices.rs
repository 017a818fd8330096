// SPDX-License-Identifier: GPL-2.0

//! Device memory: ioremap, mmio, dma, percpu.

use crate::cli::{DmaCommand, IoremapCommand, MmioCommand, PercpuCommand};
use crate::device::{limits_if_supported, DeviceOps};
use crate::error::{usage, Error, Result};
use crate::names::source_name;
use crate::output::Output;
use crate::uapi::*;

use super::objects::alloc_req;

pub(crate) fn ioremap(dev: &dyn DeviceOps, c: &IoremapCommand) -> Result<Output> {
    let req = match c {
        IoremapCommand::Edu => KmemlabIoremap {
            source: KMEMLAB_IOREMAP_EDU,
            ..Default::default()
        },
        IoremapCommand::Phys { addr, size } => KmemlabIoremap {
            source: KMEMLAB_IOREMAP_PHYS,
            phys: *addr,
            size: *size,
            ..Default::default()
        },
    };
    let h = dev.ioremap(&req)?;
    let what = match req.source {
        KMEMLAB_IOREMAP_PHYS => format!("phys {:#x}+{:#x}", req.phys, req.size),
        s => source_name(s),
    };
    Ok(Output::new(
        format!("ioremap {what}: handle {h}"),
        &[("handle", h.into())],
    ))
}

/// The request of `mmio read|write`.
pub(crate) fn mmio_request(c: &MmioCommand) -> Result<KmemlabMmio> {
    let req = match *c {
        MmioCommand::Read {
            handle,
            offset,
            width,
        } => KmemlabMmio {
            handle,
            op: KMEMLAB_MMIO_READ,
            width,
            offset,
            ..Default::default()
        },
        MmioCommand::Write {
            handle,
            offset,
            value,
            width,
        } => KmemlabMmio {
            handle,
            op: KMEMLAB_MMIO_WRITE,
            width,
            offset,
            value,
            ..Default::default()
        },
    };
    if req.value.checked_shr(8 * req.width).unwrap_or(0) != 0 {
        return Err(usage(format!(
            "value {:#x} does not fit in a {}-byte access",
            req.value, req.width
        )));
    }
    Ok(req)
}

pub(crate) fn mmio(dev: &dyn DeviceOps, c: &MmioCommand) -> Result<Output> {
    let req = mmio_request(c)?;
    let value = dev.mmio(&req)?;
    // CAST: the width is at most 8.
    let shown = format!("{value:#0digits$x}", digits = 2 + 2 * req.width as usize);
    let text = if req.op == KMEMLAB_MMIO_READ {
        shown
    } else {
        format!("wrote {shown} at {:#x}", req.offset)
    };
    Ok(Output::new(
        text,
        &[
            ("offset", req.offset.into()),
            ("width", req.width.into()),
            ("value", value.into()),
        ],
    ))
}

/// A `KMEMLAB_IOC_DMA_COPY` request for `len` bytes from `src` to `dst`.
fn dma_copy_req(src: u32, dst: u32, len: u64) -> KmemlabDmaCopy {
    KmemlabDmaCopy {
        src,
        dst,
        len,
        ..Default::default()
    }
}

/// The most edu's DMA engine copies at once: what the module says; the
/// ABI's constant, said so, for a module without `KMEMLAB_IOC_LIMITS`.
fn edu_dma_max(dev: &dyn DeviceOps) -> Result<u64> {
    match limits_if_supported(dev)? {
        Some(l) if l.edu_dma_max > 0 => Ok(l.edu_dma_max),
        Some(_) => Err(Error::Failed(
            "the module's limits give edu's DMA maximum as 0 bytes".into(),
        )),
        None => {
            crate::output::note(&format!(
                "the module has no KMEMLAB_IOC_LIMITS: edu's DMA maximum is the ABI's \
                 {KMEMLAB_EDU_DMA_MAX} bytes"
            ));
            Ok(KMEMLAB_EDU_DMA_MAX)
        }
    }
}

/// Fills `src` with `seed`, has edu copy it into `dst` (at most `chunk`
/// bytes a copy) and verifies `dst`: the first mismatching offset, if any.
fn roundtrip_on(
    dev: &dyn DeviceOps,
    [src, dst]: [u32; 2],
    size: u64,
    seed: u64,
    chunk: u64,
) -> Result<Option<u64>> {
    dev.fill(src, seed, 0, size)?;
    let mut off = 0;
    while off < size {
        let len = (size - off).min(chunk);
        let req = KmemlabDmaCopy {
            src_offset: off,
            dst_offset: off,
            ..dma_copy_req(src, dst, len)
        };
        dev.dma_copy(&req)?;
        off += len;
    }
    Ok(dev.verify(dst, seed, 0, size)?)
}

fn dma_roundtrip(dev: &dyn DeviceOps, size: Option<u64>, seed: u64) -> Result<Output> {
    let v = dev.version()?;
    if v.features & KMEMLAB_FEAT_EDU == 0 {
        return Err(Error::Failed(
            "dma roundtrip: the edu device is not bound (no 'edu' in the module's \
             features): it needs QEMU's edu PCI device (-device edu)"
                .into(),
        ));
    }
    let chunk = edu_dma_max(dev)?;
    let size = size.unwrap_or(chunk);
    let req = KmemlabAlloc {
        size,
        cache: KMEMLAB_DEV_EDU,
        count: 2,
        ..alloc_req(KMEMLAB_KIND_DMA_COHERENT)
    };
    let handles = dev.alloc(&req)?;
    let result = match <[u32; 2]>::try_from(handles.as_slice()) {
        Ok(pair) => roundtrip_on(dev, pair, size, seed, chunk),
        Err(_) => Err(Error::Failed(format!(
            "alloc returned {} handles, not 2",
            handles.len()
        ))),
    };
    // Free both objects whatever happened; the round trip's error comes first.
    let freed = dev.free(&handles);
    let mismatch = result?;
    freed?;
    let head = format!("dma roundtrip: {size} bytes, seed {seed:#x}");
    match mismatch {
        None => Ok(Output::new(
            format!("{head}: ok"),
            &[
                ("size", size.into()),
                ("seed", seed.into()),
                ("match", true.into()),
            ],
        )),
        Some(at) => Err(Error::Failed(format!("{head}: mismatch at byte {at}"))),
    }
}

pub(crate) fn dma(dev: &dyn DeviceOps, c: &DmaCommand) -> Result<Output> {
    match *c {
        DmaCommand::Copy {
            src,
            dst,
            len,
            src_offset,
            dst_offset,
        } => {
            let r = KmemlabDmaCopy {
                src_offset,
                dst_offset,
                ..dma_copy_req(src, dst, len)
            };
            dev.dma_copy(&r)?;
            Ok(Output::new(
                format!(
                    "copied {} bytes from {} at {} to {} at {}",
                    r.len, r.src, r.src_offset, r.dst, r.dst_offset
                ),
                &[("copied", r.len.into())],
            ))
        }
        DmaCommand::Roundtrip { size, seed } => dma_roundtrip(dev, size, seed),
    }
}

pub(crate) fn percpu(dev: &dyn DeviceOps, c: &PercpuCommand) -> Result<Output> {
    match c {
        &PercpuCommand::Add { handle, value, cpu } => {
            let req = KmemlabPercpu {
                handle,
                op: if cpu.is_some() {
                    KMEMLAB_PERCPU_ADD_ON
                } else {
                    KMEMLAB_PERCPU_ADD
                },
                cpu: cpu.unwrap_or(0),
                value,
                ..Default::default()
            };
            let out = dev.percpu(&req)?;
            // ADD reports the CPU it ran on; ADD_ON ran where it was asked to.
            let cpu = cpu.unwrap_or(out.cpu);
            Ok(Output::new(
                format!("added {value} on cpu {cpu}"),
                &[("cpu", cpu.into()), ("value", value.into())],
            ))
        }
        PercpuCommand::Read(h) => {
            let (values, sum) = dev.percpu_read(h.handle)?;
            let mut lines: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(cpu, v)| format!("cpu {cpu:<4} {v}"))
                .collect();
            lines.push(format!("sum      {sum}"));
            Ok(Output::new(
                lines.join("\n"),
                &[("values", values.into()), ("sum", sum.into())],
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::commands::tests::command;
    use crate::device::fake::{FakeDevice, ALL_FEATURES};

    fn mmio_of(line: &str) -> Result<KmemlabMmio> {
        match command(&format!("mmio {line}")) {
            Command::Mmio(m) => mmio_request(&m),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mmio_widths_and_values() {
        let r = mmio_of("read 3 0x8").unwrap();
        assert_eq!((r.handle, r.op, r.offset), (3, KMEMLAB_MMIO_READ, 8));
        assert_eq!((r.width, r.value, r.reserved), (4, 0, 0));
        for w in [1, 2, 4, 8] {
            assert_eq!(mmio_of(&format!("read 1 0 --width {w}")).unwrap().width, w);
        }
        let r = mmio_of("write 1 4 0x1234 --width 2").unwrap();
        assert_eq!(
            (r.op, r.offset, r.value, r.width),
            (KMEMLAB_MMIO_WRITE, 4, 0x1234, 2)
        );
        assert!(mmio_of("write 1 4 0x12345 --width 2")
            .unwrap_err()
            .to_string()
            .contains("does not fit"));
        let r = mmio_of("write 1 0 0xffffffffffffffff --width 8").unwrap();
        assert_eq!(r.value, u64::MAX);
    }

    #[test]
    fn roundtrip_needs_edu() {
        let dev = crate::device::fake::FakeDevice::default();
        let e = dma(
            &dev,
            &DmaCommand::Roundtrip {
                size: None,
                seed: 1,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("edu device is not bound"), "{e}");
        assert_eq!(edu_dma_max(&dev), Ok(KMEMLAB_EDU_DMA_MAX));
        let limits = crate::device::fake::default_limits();
        let old = FakeDevice::new(ALL_FEATURES & !KMEMLAB_FEAT_LIMITS, limits);
        assert_eq!(edu_dma_max(&old), Ok(KMEMLAB_EDU_DMA_MAX));
        // A module with the ioctl that fails it: an error, not the constant.
        let failing = FakeDevice::new(ALL_FEATURES, limits).failing_limits();
        let e = edu_dma_max(&failing).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.to_string().starts_with("reading the module's limits: "),
            "{e}"
        );
    }
}
