// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_DMA_COHERENT`: coherent buffers of kmemlab's faux device or
//! of edu.

use kernel::prelude::*;

use super::{
    block_pages,
    Ask,
    Kind,
    Purpose,
    CACHE,
    SIZE, //
};
use crate::{
    alloc::{
        device::{
            self as devices,
            DmaDevice, //
        },
        dma::{
            BufScope,
            DmaBuf,
            DmaScope,
            ScopedBuf,
            DMA_MAX, //
        },
        gfp::{
            Gfp,
            GfpBase,
            GfpRule,
            Mods, //
        },
        raw::RawWork,
        topology::Node,
    },
    uapi::{
        KMEMLAB_DEV_EDU,
        KMEMLAB_DEV_FAUX,
        KMEMLAB_KIND_DMA_COHERENT, //
    },
};

/// The DMA device a `KMEMLAB_DEV_*` names (`EINVAL` for another number).
pub(crate) fn device_from_abi(dev: u32) -> Result<DmaDevice> {
    match dev {
        KMEMLAB_DEV_FAUX => Ok(DmaDevice::Faux),
        KMEMLAB_DEV_EDU => Ok(DmaDevice::Edu),
        _ => Err(EINVAL),
    }
}

/// The `KMEMLAB_DEV_*` of `dev`.
pub(crate) fn device_abi(dev: DmaDevice) -> u32 {
    match dev {
        DmaDevice::Faux => KMEMLAB_DEV_FAUX,
        DmaDevice::Edu => KMEMLAB_DEV_EDU,
    }
}

/// `dma_alloc_coherent()` / `dma_free_coherent()`: takes a size and a
/// device (in the `cache` field); the device decides where the memory lies.
pub(crate) struct DmaKind;

/// A coherent buffer to make; for a benchmark run, with the device kept
/// bound for the run, so its samples need nothing per buffer but the
/// allocation.
pub(crate) struct DmaRequest {
    device: DmaDevice,
    len: usize,
    scope: Option<DmaScope>,
}

impl Kind for DmaKind {
    const KIND: u32 = KMEMLAB_KIND_DMA_COHERENT;
    type Request = DmaRequest;
    type Memory = DmaBuf;
    type Sample<'r> = ScopedBuf<'r>;
    type Sampler<'r> = BufScope<'r>;

    /// What the kernel crate's `kernel::alloc::Flags` can say, less
    /// accounting (coherent memory is not charged); the device's DMA mask,
    /// not the request, chooses the zone.
    const GFP: GfpRule = GfpRule {
        bases: &[GfpBase::Kernel, GfpBase::Atomic, GfpBase::Nowait],
        mods: Mods::ZERO.with(Mods::NOWARN),
    };

    fn ask(ask: &Ask<'_>) -> Result<DmaRequest> {
        ask.uses(SIZE | CACHE)?;
        let device = device_from_abi(ask.a.cache)?;
        let len = ask.size(DMA_MAX)?;
        let scope = match ask.purpose {
            // Keeps the device bound for the run (`ENODEV` when it is not).
            Purpose::Bench => Some(DmaScope::new(device)?),
            // The registry DmaBuf::new allocates through.
            Purpose::Objects => {
                devices::current(device)?;
                None
            }
        };
        Ok(DmaRequest { device, len, scope })
    }

    fn bytes(req: &DmaRequest) -> usize {
        req.len
    }

    /// A buffer is a power-of-two block of pages.
    fn pages(req: &DmaRequest) -> usize {
        block_pages(req.len)
    }

    fn tag(req: &DmaRequest) -> u32 {
        device_abi(req.device)
    }

    fn make(req: &DmaRequest, gfp: Gfp, _node: Node) -> Result<DmaBuf> {
        DmaBuf::new(req.device, req.len, gfp)
    }

    /// `EINVAL` for a request made for objects, not for a benchmark run.
    fn sampler<'r>(req: &'r DmaRequest, gfp: Gfp, _node: Node) -> Result<BufScope<'r>> {
        req.scope.as_ref().ok_or(EINVAL)?.buffers(req.len, gfp)
    }

    fn sample<'r>(buffers: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        buffers.alloc()
    }

    /// The device is being unbound: the run stops and lets it go.
    fn stopping(req: &DmaRequest) -> bool {
        req.scope.as_ref().is_some_and(DmaScope::stopping)
    }

    fn raw(req: &DmaRequest, _node: Node) -> Result<RawWork> {
        Ok(RawWork::Dma(req.device, req.len))
    }
}
