// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_DMA_COHERENT`: coherent buffers of kmemlab's faux device or
//! of edu.

use kernel::prelude::*;

use super::{
    block_pages,
    Ask,
    Kind,
    CACHE,
    SIZE, //
};
use crate::{
    alloc::{
        device::DmaDevice,
        dma::{
            DmaBuf,
            DMA_MAX, //
        },
        edu,
        gfp::Gfp,
        raw::RawWork,
        topology::Node,
    },
    uapi::{
        KMEMLAB_DEV_EDU,
        KMEMLAB_DEV_FAUX,
        KMEMLAB_KIND_DMA_COHERENT, //
    },
};

/// `dma_alloc_coherent()` / `dma_free_coherent()`: takes a size and a
/// device (in the `cache` field); the device decides where the memory lies.
pub(crate) struct DmaKind;

impl Kind for DmaKind {
    const KIND: u32 = KMEMLAB_KIND_DMA_COHERENT;
    /// The device and the bytes.
    type Request = (DmaDevice, usize);
    type Memory = DmaBuf;
    type Sample<'r> = DmaBuf;

    fn ask(ask: &Ask<'_>) -> Result<(DmaDevice, usize)> {
        ask.uses(SIZE | CACHE)?;
        // The kernel crate's DMA allocations take neither NORETRY nor an
        // accounted mask.
        ask.no_noretry()?;
        let device = match ask.a.cache {
            KMEMLAB_DEV_FAUX => DmaDevice::Faux,
            KMEMLAB_DEV_EDU => DmaDevice::Edu,
            _ => return Err(EINVAL),
        };
        if ask.gfp.account {
            return Err(EINVAL);
        }
        if device == DmaDevice::Edu && !edu::bound() {
            return Err(ENODEV);
        }
        Ok((device, ask.size(DMA_MAX)?))
    }

    fn bytes(req: &(DmaDevice, usize)) -> usize {
        req.1
    }

    /// A buffer is a power-of-two block of pages.
    fn pages(req: &(DmaDevice, usize)) -> usize {
        block_pages(req.1)
    }

    fn tag(req: &(DmaDevice, usize)) -> u32 {
        match req.0 {
            DmaDevice::Faux => KMEMLAB_DEV_FAUX,
            DmaDevice::Edu => KMEMLAB_DEV_EDU,
        }
    }

    fn make(req: &(DmaDevice, usize), mask: Gfp, _node: Node) -> Result<DmaBuf> {
        DmaBuf::new(req.0, req.1, mask)
    }

    fn sample<'r>(req: &'r (DmaDevice, usize), mask: Gfp, node: Node) -> Result<DmaBuf> {
        Self::make(req, mask, node)
    }

    fn raw(req: &(DmaDevice, usize), _node: Node) -> Result<RawWork> {
        Ok(RawWork::Dma(req.0, req.1))
    }
}
