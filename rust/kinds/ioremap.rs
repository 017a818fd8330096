// SPDX-License-Identifier: GPL-2.0

//! `KMEMLAB_KIND_IOREMAP`: mappings of device memory, made by
//! `KMEMLAB_IOC_IOREMAP` (edu's registers, or a physical range) and, for
//! benchmarks, of a window of edu's BAR 0.

use kernel::prelude::*;

use super::{
    Ask,
    Contents,
    Kind,
    Plain,
    Purpose,
    Report,
    Request,
    What,
    SIZE, //
};
use crate::{
    alloc::{
        edu::{
            self,
            BarMapping,
            BarWindow,
            EduRegs, //
        },
        gfp::{
            Gfp,
            GfpBase,
            GfpRule,
            Mods, //
        },
        iomem::{
            self,
            IoMapping,
            PhysRange,
            Width, //
        },
        raw::RawWork,
        topology::{
            Backing,
            Node,
            Zone, //
        },
    },
    uapi::{
        KmemlabIoremap,
        KMEMLAB_IOREMAP_EDU,
        KMEMLAB_IOREMAP_MAX,
        KMEMLAB_IOREMAP_PHYS,
        KMEMLAB_KIND_IOREMAP, //
    },
};

/// `ioremap()` / `iounmap()`.
pub(crate) struct IoremapKind;

/// What to map.
pub(crate) enum Source {
    /// edu's register block.
    EduRegs,
    /// A physical range, claimed by a task allowed to map it.
    Phys(PhysRange),
    /// A window of edu's BAR 0: benchmarks only (mapped, never accessed).
    Window(BarWindow),
}

/// A mapping an object owns.
pub(crate) enum Mapping {
    /// An explicit physical range.
    Phys(IoMapping),
    /// edu's registers, held by edu's binding (`ENODEV` once it unbound).
    Edu(EduRegs),
}

impl Mapping {
    /// Bytes mapped.
    pub(crate) fn size(&self) -> usize {
        match self {
            Mapping::Phys(m) => m.size(),
            Mapping::Edu(m) => m.size(),
        }
    }

    /// Reads `width` bytes at `offset`.
    pub(crate) fn read(&self, offset: usize, width: Width) -> Result<u64> {
        match self {
            Mapping::Phys(m) => m.read(offset, width),
            Mapping::Edu(m) => m.read(offset, width),
        }
    }

    /// Writes the low `width` bytes of `value` at `offset` (edu's registers:
    /// `EACCES` for those the driver owns).
    pub(crate) fn write(&self, offset: usize, width: Width, value: u64) -> Result {
        match self {
            Mapping::Phys(m) => m.write(offset, width, value),
            Mapping::Edu(m) => m.write(offset, width, value),
        }
    }
}

/// Registers, not bytes: `KMEMLAB_IOC_MMIO` reads and writes them.
impl Contents for Mapping {
    fn report(&self) -> Report {
        Report {
            size: self.size(),
            order: 0,
            nid: -1,
            zone: Zone::Unknown,
            backing: Backing::None,
        }
    }
}

/// The request a `struct kmemlab_ioremap` makes, checked in the order the
/// header documents (`EINVAL`, `EPERM`, `EACCES`, `EBUSY`; `ENODEV` for edu
/// unbound). A physical range is claimed here, before the quota is looked at.
pub(crate) fn request(m: &KmemlabIoremap) -> Result<Request> {
    let source = match m.source {
        KMEMLAB_IOREMAP_EDU if m.phys == 0 && m.size == 0 => {
            if !edu::bound() {
                return Err(ENODEV);
            }
            Source::EduRegs
        }
        KMEMLAB_IOREMAP_PHYS => {
            if m.size > KMEMLAB_IOREMAP_MAX {
                return Err(EINVAL);
            }
            // CAST: at most KMEMLAB_IOREMAP_MAX.
            let size = m.size as usize;
            iomem::check_range(m.phys, size)?;
            let access = iomem::may_map_physical()?;
            Source::Phys(PhysRange::claim(&access, m.phys, size)?)
        }
        _ => return Err(EINVAL),
    };
    Ok(Request::plain(What::Ioremap(source)))
}

impl Kind for IoremapKind {
    const KIND: u32 = KMEMLAB_KIND_IOREMAP;
    type Request = Source;
    type Memory = Mapping;
    type Sample<'r> = BarMapping<'r>;
    type Sampler<'r> = Plain<'r, Source>;

    /// A mapping allocates no memory: no GFP bits at all.
    const GFP: GfpRule = GfpRule {
        bases: &[GfpBase::Kernel],
        mods: Mods::NONE,
    };

    /// Only a benchmark asks through `ALLOC`'s fields (a window of edu's BAR
    /// 0 of `size` bytes); objects come from [`request`].
    fn ask(ask: &Ask<'_>) -> Result<Source> {
        if ask.purpose != Purpose::Bench || ask.a.gfp != 0 {
            return Err(EINVAL);
        }
        ask.uses(SIZE)?;
        // The window keeps edu bound (and BAR 0 claimed) for the run.
        Ok(Source::Window(BarWindow::new(ask.a.size)?))
    }

    fn bytes(req: &Source) -> usize {
        match req {
            Source::EduRegs => edu::REGS_SIZE,
            Source::Phys(range) => range.len(),
            Source::Window(window) => window.len(),
        }
    }

    fn tag(req: &Source) -> u32 {
        match req {
            Source::EduRegs => KMEMLAB_IOREMAP_EDU,
            Source::Phys(_) => KMEMLAB_IOREMAP_PHYS,
            Source::Window(_) => 0,
        }
    }

    fn make(req: &Source, _gfp: Gfp, _node: Node) -> Result<Mapping> {
        match req {
            Source::EduRegs => Ok(Mapping::Edu(edu::map_registers()?)),
            Source::Phys(range) => Ok(Mapping::Phys(IoMapping::phys(range)?)),
            // Not an object's source: a mapping for timing only.
            Source::Window(_) => Err(EINVAL),
        }
    }

    fn sampler<'r>(req: &'r Source, gfp: Gfp, node: Node) -> Result<Plain<'r, Source>> {
        Plain::new(req, gfp, node)
    }

    fn sample<'r>(s: &Self::Sampler<'r>) -> Result<Self::Sample<'r>> {
        match s.req {
            Source::Window(window) => window.map(),
            Source::EduRegs | Source::Phys(_) => Err(EINVAL),
        }
    }

    fn stopping(req: &Source) -> bool {
        match req {
            Source::Window(window) => window.stopping(),
            Source::EduRegs | Source::Phys(_) => false,
        }
    }

    fn raw(req: &Source, _node: Node) -> Result<RawWork> {
        match req {
            Source::Window(window) => Ok(RawWork::Ioremap(window.raw_parts()?)),
            Source::EduRegs | Source::Phys(_) => Err(EINVAL),
        }
    }
}
