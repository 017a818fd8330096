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
        device::{
            self as devices,
            DmaDevice, //
        },
        dma::{
            DmaBuf,
            DMA_MAX, //
        },
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

/// A coherent buffer to make.
pub(crate) struct DmaRequest {
    device: DmaDevice,
    len: usize,
}

impl Kind for DmaKind {
    const KIND: u32 = KMEMLAB_KIND_DMA_COHERENT;
    type Request = DmaRequest;
    type Memory = DmaBuf;
    type Sample<'r> = DmaBuf;

    fn ask(ask: &Ask<'_>) -> Result<DmaRequest> {
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
        // The registry DmaBuf::new allocates through.
        if devices::current(device).is_err() {
            return Err(ENODEV);
        }
        Ok(DmaRequest {
            device,
            len: ask.size(DMA_MAX)?,
        })
    }

    fn bytes(req: &DmaRequest) -> usize {
        req.len
    }

    /// A buffer is a power-of-two block of pages.
    fn pages(req: &DmaRequest) -> usize {
        block_pages(req.len)
    }

    fn tag(req: &DmaRequest) -> u32 {
        match req.device {
            DmaDevice::Faux => KMEMLAB_DEV_FAUX,
            DmaDevice::Edu => KMEMLAB_DEV_EDU,
        }
    }

    fn make(req: &DmaRequest, gfp: Gfp, _node: Node) -> Result<DmaBuf> {
        DmaBuf::new(req.device, req.len, gfp)
    }

    fn sample<'r>(req: &'r DmaRequest, gfp: Gfp, node: Node) -> Result<DmaBuf> {
        Self::make(req, gfp, node)
    }

    fn raw(req: &DmaRequest, _node: Node) -> Result<RawWork> {
        Ok(RawWork::Dma(req.device, req.len))
    }
}
