// SPDX-License-Identifier: GPL-2.0

//! The allocator kinds: one type per kind, each implementing [`Kind`], and
//! the one list ([`kinds!`]) that makes the per-kind enums and their dispatch.
//!
//! A kind says, in its own file, everything kmemlab does differently for it:
//! which fields of a request it takes and how it checks them (once, for
//! `ALLOC` and `BENCH` alike), what one object counts against the quota and
//! the statistics, how one is made (through an abstraction of
//! [`crate::alloc`]), what the raw-C baseline does instead, and what `INFO`
//! reports. The object table ([`crate::object`]), the benchmarks' Rust side
//! ([`crate::bench`]) and their raw-C baseline choose through it, so adding
//! a kind is one file here, a line in the list below, and the ABI.
//!
//! Dependencies point one way: ioctl decode -> file state -> objects ->
//! kinds -> abstractions. The kinds read the ABI's request structure; the
//! abstractions never do.

use core::ops::Range;

use kernel::{
    prelude::*,
    sync::Arc, //
};

use crate::{
    alloc::{
        dma::DmaBuf,
        dmapool::DmaPool,
        gfp::{
            Gfp,
            GfpBase,
            GfpRule,
            Mods, //
        },
        mempool::MemPool,
        pages::NodePages,
        percpu::PerCpu,
        raw::RawWork,
        slab::KmemCache,
        topology::{
            Backing,
            Node,
            Zone, //
        },
        Allocation, //
    },
    uapi::KmemlabAlloc,
};

pub(crate) mod dma;
pub(crate) mod dmapool;
pub(crate) mod ioremap;
pub(crate) mod kmalloc;
pub(crate) mod kvmalloc;
pub(crate) mod mempool;
pub(crate) mod pages;
pub(crate) mod percpu;
pub(crate) mod slab;
pub(crate) mod vmalloc;

/// The caches and mempools a request may name: a file's table of them.
pub(crate) trait Caches {
    /// The cache named `handle` (`ENOENT` when there is none).
    fn cache(&self, handle: u32) -> Result<Arc<KmemCache>>;

    /// The mempool named `handle` (`ENOENT` when there is none).
    fn pool(&self, handle: u32) -> Result<Arc<MemPool>>;

    /// The DMA pool named `handle` (`ENOENT` when there is none).
    fn dma_pool(&self, handle: u32) -> Result<Arc<DmaPool>>;
}

/// What a request is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Objects a file keeps (`KMEMLAB_IOC_ALLOC`).
    Objects,
    /// A benchmark run (`KMEMLAB_IOC_BENCH`): made and freed at once.
    Bench,
}

/// An `ALLOC`-shaped request as userspace sent it, with the fields every
/// kind reads the same way already decoded.
pub(crate) struct Ask<'a> {
    /// The request as userspace sent it (`count` and `handles` aside).
    pub(crate) a: &'a KmemlabAlloc,
    /// Its `gfp` bits, decoded.
    pub(crate) gfp: Gfp,
    /// Its `node`, checked online (or any).
    pub(crate) node: Node,
    /// What the objects are for.
    pub(crate) purpose: Purpose,
    /// The caches its `cache` field may name.
    pub(crate) caches: &'a dyn Caches,
}

// The GFP choices the kinds take (`Kind::GFP`; the ABI header has the table).
/// The bases every slab-backed interface takes: not the high-memory ones
/// (`__GFP_HIGHMEM` is in the kernel's `GFP_SLAB_BUG_MASK`).
pub(crate) const LOWMEM_BASES: &[GfpBase] = GfpBase::ALL.split_at(6).0;
/// The modifiers that only change how hard the allocator tries, what it
/// reports, zeroes or charges.
pub(crate) const POLICY: Mods = Mods::ZERO
    .with(Mods::NOWARN)
    .with(Mods::ACCOUNT)
    .with(Mods::NORETRY)
    .with(Mods::RETRY_MAYFAIL);
/// `GFP_KERNEL`, zeroed or not, and no other choice.
pub(crate) const KERNEL_ONLY: GfpRule = GfpRule {
    bases: &[GfpBase::Kernel],
    mods: Mods::ZERO.with(Mods::NOWARN),
};

// The fields of a request a kind may take (`Ask::uses`).
/// `size`.
pub(crate) const SIZE: u32 = 1 << 0;
/// `order`.
pub(crate) const ORDER: u32 = 1 << 1;
/// `cache` (or the DMA device).
pub(crate) const CACHE: u32 = 1 << 2;
/// `node`.
pub(crate) const NODE: u32 = 1 << 3;

impl Ask<'_> {
    /// `EINVAL` unless every field outside `fields` is zero (the node: any).
    pub(crate) fn uses(&self, fields: u32) -> Result {
        let unused = |field: u32, zero: bool| fields & field != 0 || zero;
        let a = self.a;
        if unused(SIZE, a.size == 0)
            && unused(ORDER, a.order == 0)
            && unused(CACHE, a.cache == 0)
            && unused(NODE, self.node == Node::ANY)
        {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// The size asked for, within `1..=max` (`EINVAL` otherwise).
    pub(crate) fn size(&self, max: usize) -> Result<usize> {
        match usize::try_from(self.a.size) {
            Ok(s) if s != 0 && s <= max => Ok(s),
            _ => Err(EINVAL),
        }
    }
}

/// A validated allocation request: what to make, and how.
pub(crate) struct Request {
    pub(crate) what: What,
    /// The mask asked for (the abstractions zero what they lend out).
    pub(crate) gfp: Gfp,
    /// The ABI `gfp` bits, reported back by `INFO`.
    pub(crate) gfp_bits: u32,
    pub(crate) node: Node,
}

impl Request {
    /// Checks `ask` through its kind: its GFP choices ([`Kind::GFP`];
    /// `__GFP_THISNODE` only with a node), then the rest ([`Kind::ask`]).
    pub(crate) fn new(ask: &Ask<'_>) -> Result<Self> {
        Ok(Self {
            what: What::ask(ask)?,
            gfp: ask.gfp,
            gfp_bits: ask.a.gfp,
            node: ask.node,
        })
    }

    /// A request that takes no GFP mask nor node (a mapping).
    pub(crate) fn plain(what: What) -> Self {
        Self {
            what,
            gfp: Gfp::KERNEL,
            gfp_bits: 0,
            node: Node::ANY,
        }
    }

    /// Makes one object's memory (the tests' way; the object table makes
    /// its objects in a loop compiled for the kind).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn make(&self) -> Result<Memory> {
        struct MakeOne(Gfp, Node);
        impl Visit for MakeOne {
            type Out = Result<Memory>;
            fn visit<K: Wrap>(self, r: &K::Request) -> Result<Memory> {
                K::make(r, self.0, self.1).map(K::wrap)
            }
        }
        self.what.visit(MakeOne(self.gfp, self.node))
    }
}

/// Pages of the power-of-two block the page allocator hands out for `bytes`.
pub(crate) fn block_pages(bytes: usize) -> usize {
    bytes.div_ceil(kernel::page::PAGE_SIZE).next_power_of_two()
}

/// What `INFO` reports of an object's memory.
pub(crate) struct Report {
    /// Usable bytes: of the memory, mapped, or per CPU.
    pub(crate) size: usize,
    /// The page order, for the page kinds.
    pub(crate) order: u32,
    /// The NUMA node of the (first page of the) memory; -1 when not RAM on one node.
    pub(crate) nid: i32,
    /// The zone of the (first page of the) memory.
    pub(crate) zone: Zone,
    /// What served the memory.
    pub(crate) backing: Backing,
}

/// A reader of an object's bytes, a piece at a time: `(offset in the
/// object, bytes)`; it returns `false` to stop.
pub(crate) type Reader<'a> = dyn FnMut(usize, &[u8]) -> bool + 'a;

/// A writer of an object's bytes, a piece at a time: `(offset in the
/// object, bytes)`.
pub(crate) type Writer<'a> = dyn FnMut(usize, &mut [u8]) + 'a;

/// Memory whose bytes may be read and written (`READ`, `WRITE`, `FILL`,
/// `VERIFY`), or not: by default (`EINVAL`: device registers and per-CPU
/// counters have commands of their own).
///
/// Bytes are lent a piece at a time, in order: memory that has no
/// permanent kernel mapping (high memory) is mapped a page at a time.
pub(crate) trait Contents {
    /// Runs `f` on the bytes of `range`, in pieces, until it returns
    /// `false`. `f` may run under a device's lock or with a page mapped: it
    /// must not wait (no user copy). `EINVAL` when `range` passes the end.
    fn read(&self, _range: Range<usize>, _f: &mut Reader<'_>) -> Result {
        Err(EINVAL)
    }

    /// Runs `f` on the bytes of `range`, writable, in pieces (as [`Contents::read`]).
    fn write(&mut self, _range: Range<usize>, _f: &mut Writer<'_>) -> Result {
        Err(EINVAL)
    }

    /// How many bytes there are.
    fn byte_len(&self) -> Result<usize> {
        Err(EINVAL)
    }

    /// What `INFO` reports.
    fn report(&self) -> Report;
}

/// Runs a reader on `range` of `bytes`, as one piece.
fn read_slice(bytes: &[u8], range: Range<usize>, f: &mut Reader<'_>) -> Result {
    let start = range.start;
    f(start, bytes.get(range).ok_or(EINVAL)?);
    Ok(())
}

/// Runs a writer on `range` of `bytes`, as one piece.
fn write_slice(bytes: &mut [u8], range: Range<usize>, f: &mut Writer<'_>) -> Result {
    let start = range.start;
    f(start, bytes.get_mut(range).ok_or(EINVAL)?);
    Ok(())
}

/// Plain memory owned outright: its bytes, always there and mapped.
impl<A: Allocation> Contents for A {
    fn read(&self, range: Range<usize>, f: &mut Reader<'_>) -> Result {
        read_slice(self.as_slice(), range, f)
    }

    fn write(&mut self, range: Range<usize>, f: &mut Writer<'_>) -> Result {
        write_slice(self.as_mut_slice(), range, f)
    }

    fn byte_len(&self) -> Result<usize> {
        Ok(self.as_slice().len())
    }

    fn report(&self) -> Report {
        Report {
            size: self.as_slice().len(),
            order: self.order(),
            nid: self.nid(),
            zone: self.zone(),
            backing: self.backing(),
        }
    }
}

/// Pages that may lie in high memory: mapped a page at a time.
impl Contents for NodePages {
    fn read(&self, range: Range<usize>, f: &mut Reader<'_>) -> Result {
        NodePages::read(self, range, f)
    }

    fn write(&mut self, range: Range<usize>, f: &mut Writer<'_>) -> Result {
        NodePages::write(self, range, f)
    }

    fn byte_len(&self) -> Result<usize> {
        Ok(self.len())
    }

    fn report(&self) -> Report {
        Report {
            size: self.len(),
            order: self.order(),
            nid: self.nid(),
            zone: self.zone(),
            backing: Backing::Pages,
        }
    }
}

/// A coherent buffer: its bytes while its device stays bound (`ENODEV` after).
impl Contents for DmaBuf {
    fn read(&self, range: Range<usize>, f: &mut Reader<'_>) -> Result {
        DmaBuf::with_bytes(self, |b| read_slice(b, range, f))?
    }

    fn write(&mut self, range: Range<usize>, f: &mut Writer<'_>) -> Result {
        DmaBuf::with_bytes_mut(self, |b| write_slice(b, range, f))?
    }

    fn byte_len(&self) -> Result<usize> {
        Ok(self.len())
    }

    fn report(&self) -> Report {
        Report {
            size: self.len(),
            order: 0,
            nid: self.nid(),
            zone: self.zone(),
            backing: self.backing(),
        }
    }
}

/// A per-CPU counter: no bytes to read or write (`KMEMLAB_IOC_PERCPU`).
impl Contents for PerCpu<u64> {
    fn report(&self) -> Report {
        Report {
            size: core::mem::size_of::<u64>(),
            order: 0,
            nid: -1,
            zone: Zone::Unknown,
            backing: Backing::None,
        }
    }
}

/// One allocator kind.
///
/// # Examples
///
/// ```ignore
/// // `alloc(kind)`: a `KmemlabAlloc` of one object of `kind`, all else zero.
/// let a = KmemlabAlloc {
///     size: 64,
///     ..alloc(KMEMLAB_KIND_KMALLOC)
/// };
/// let ask = Ask {
///     a: &a,
///     gfp: Gfp::KERNEL,
///     node: Node::ANY,
///     purpose: Purpose::Objects,
///     caches: &NoCaches,
/// };
/// let req = kmalloc::KmallocKind::ask(&ask)?;
/// assert_eq!(kmalloc::KmallocKind::bytes(&req), 64);
/// let mem = kmalloc::KmallocKind::make(&req, Gfp::KERNEL, Node::ANY)?;
/// assert_eq!(mem.report().size, 64);
/// ```
///
/// Compiled and run as the KUnit case `kmemlab_kinds::example_kind`.
pub(crate) trait Kind {
    /// The ABI's `KMEMLAB_KIND_*`.
    const KIND: u32;

    /// A validated request for objects of this kind (less the GFP mask and
    /// the node, which every kind takes the same way). `Sync`: a benchmark's
    /// threads share it, each making objects of it.
    type Request: Sync;

    /// The memory one object owns (`Send`: a file's objects may be freed
    /// by whichever task closes it last).
    type Memory: Contents + Send;

    /// What a benchmark run holds of one object: the memory itself, or a
    /// form that borrows the request (a mapping of a device window the run holds).
    type Sample<'r>;

    /// Checks `ask` and makes the request: `EINVAL` for a field the kind
    /// does not take or a value out of range; kind-specific errors beyond.
    fn ask(ask: &Ask<'_>) -> Result<Self::Request>;

    /// Bytes one object counts against the quota.
    fn bytes(req: &Self::Request) -> usize;

    /// Pages one object takes straight from the page allocator.
    fn pages(_req: &Self::Request) -> usize {
        0
    }

    /// Pages `mem`, made for `req`, took from the page allocator: as
    /// [`Kind::pages`] said, unless the allocator decides per object.
    fn pages_taken(req: &Self::Request, _mem: &Self::Memory) -> usize {
        Self::pages(req)
    }

    /// The GFP choices the kind takes (`EINVAL` for the others).
    const GFP: GfpRule;

    /// What `INFO` reports in its `cache` field: the cache handle, the DMA
    /// device, the ioremap source; 0 for the others.
    fn tag(_req: &Self::Request) -> u32 {
        0
    }

    /// Makes one object with `gfp` on `node`. The memory is initialised
    /// whatever `gfp` says (the abstractions zero it).
    fn make(req: &Self::Request, gfp: Gfp, node: Node) -> Result<Self::Memory>;

    /// What a benchmark run makes its objects with: the request with the
    /// mask and the node, checked once for the run, and for the allocators
    /// kmemlab wraps itself resolved to what each call needs (the kernel's
    /// object, the final mask), so that one object costs what the C call
    /// costs ([`Plain`] for a kind whose objects need nothing more).
    type Sampler<'r>;

    /// The sampler of a run of `req` with `gfp` and `node`: a kind that
    /// resolves them here gives the errors [`Kind::make`] would give for
    /// them now; one with a [`Plain`] sampler gives them from
    /// [`Kind::sample`].
    fn sampler<'r>(req: &'r Self::Request, gfp: Gfp, node: Node) -> Result<Self::Sampler<'r>>;

    /// Makes one object for a benchmark run, as [`Kind::make`] does.
    fn sample<'r>(sampler: &Self::Sampler<'r>) -> Result<Self::Sample<'r>>;

    /// Whether the run of a benchmark of `req` must stop (the device it
    /// uses is unbinding).
    fn stopping(_req: &Self::Request) -> bool {
        false
    }

    /// The raw-C baseline of the same work.
    fn raw(req: &Self::Request, node: Node) -> Result<RawWork>;
}

/// The [`Kind::Sampler`] of a kind with nothing to resolve ahead: the
/// request, the mask and the node, as [`Kind::make`] takes them.
pub(crate) struct Plain<'r, R> {
    pub(crate) req: &'r R,
    pub(crate) gfp: Gfp,
    pub(crate) node: Node,
}

impl<'r, R> Plain<'r, R> {
    pub(crate) fn new(req: &'r R, gfp: Gfp, node: Node) -> Result<Self> {
        Ok(Self { req, gfp, node })
    }
}

/// Code generic over the kind of a request ([`What::visit`]).
pub(crate) trait Visit {
    /// What the visit returns.
    type Out;

    /// Runs on a request of kind `K`.
    fn visit<K: Wrap>(self, req: &K::Request) -> Self::Out;
}

/// A kind's place in [`Memory`] (implemented for each kind by [`kinds!`]),
/// so code generic over the kind can store what it made.
pub(crate) trait Wrap: Kind {
    /// `mem` as a [`Memory`].
    fn wrap(mem: Self::Memory) -> Memory;
}

/// Makes, from the list of kinds, the enums of their requests ([`What`])
/// and memory ([`Memory`]) and the dispatch of each to its kind.
macro_rules! kinds {
    ($($variant:ident => $kind:ty,)*) => {
        /// A validated request, by kind.
        pub(crate) enum What {
            $($variant(<$kind as Kind>::Request),)*
        }

        /// The memory an object owns, by kind.
        pub(crate) enum Memory {
            $($variant(<$kind as Kind>::Memory),)*
        }

        $(
            impl Wrap for $kind {
                #[inline(always)]
                fn wrap(mem: Self::Memory) -> Memory {
                    Memory::$variant(mem)
                }
            }
        )*

        // Each kind has a `KIND` of its own.
        const _: () = {
            let kinds = [$(<$kind as Kind>::KIND,)*];
            let mut i = 0;
            while i < kinds.len() {
                let mut j = i + 1;
                while j < kinds.len() {
                    assert!(kinds[i] != kinds[j]);
                    j += 1;
                }
                i += 1;
            }
        };

        impl What {
            /// The request `ask` makes for its kind (`EINVAL` for an unknown kind).
            pub(crate) fn ask(ask: &Ask<'_>) -> Result<Self> {
                if ask.gfp.has(Mods::THISNODE) && ask.node == Node::ANY {
                    return Err(EINVAL);
                }
                $(
                    if ask.a.kind == <$kind as Kind>::KIND {
                        ask.gfp.check(&<$kind as Kind>::GFP)?;
                        return Ok(What::$variant(<$kind as Kind>::ask(ask)?));
                    }
                )*
                Err(EINVAL)
            }

            /// The `KMEMLAB_KIND_*` of the objects this request makes.
            pub(crate) fn kind(&self) -> u32 {
                match self {
                    $(What::$variant(_) => <$kind as Kind>::KIND,)*
                }
            }

            /// See [`Kind::bytes`].
            pub(crate) fn bytes(&self) -> usize {
                match self {
                    $(What::$variant(r) => <$kind as Kind>::bytes(r),)*
                }
            }

            /// See [`Kind::pages`].
            pub(crate) fn pages(&self) -> usize {
                match self {
                    $(What::$variant(r) => <$kind as Kind>::pages(r),)*
                }
            }

            /// See [`Kind::tag`].
            pub(crate) fn tag(&self) -> u32 {
                match self {
                    $(What::$variant(r) => <$kind as Kind>::tag(r),)*
                }
            }

            /// See [`Kind::raw`].
            pub(crate) fn raw(&self, node: Node) -> Result<RawWork> {
                match self {
                    $(What::$variant(r) => <$kind as Kind>::raw(r, node),)*
                }
            }

            /// Runs `v` on the request, typed by its kind.
            pub(crate) fn visit<V: Visit>(&self, v: V) -> V::Out {
                match self {
                    $(What::$variant(r) => v.visit::<$kind>(r),)*
                }
            }
        }

        impl Memory {
            /// The `KMEMLAB_KIND_*` of this memory.
            pub(crate) fn kind(&self) -> u32 {
                match self {
                    $(Memory::$variant(_) => <$kind as Kind>::KIND,)*
                }
            }

            /// See [`Contents::report`].
            pub(crate) fn report(&self) -> Report {
                match self {
                    $(Memory::$variant(m) => m.report(),)*
                }
            }

            /// See [`Contents::byte_len`].
            pub(crate) fn byte_len(&self) -> Result<usize> {
                match self {
                    $(Memory::$variant(m) => m.byte_len(),)*
                }
            }

            /// See [`Contents::read`].
            pub(crate) fn read(&self, range: Range<usize>, f: &mut Reader<'_>) -> Result {
                match self {
                    $(Memory::$variant(m) => Contents::read(m, range, f),)*
                }
            }

            /// See [`Contents::write`].
            pub(crate) fn write(&mut self, range: Range<usize>, f: &mut Writer<'_>) -> Result {
                match self {
                    $(Memory::$variant(m) => Contents::write(m, range, f),)*
                }
            }
        }
    };
}

kinds! {
    Kmalloc => kmalloc::KmallocKind,
    Cache => slab::CacheKind,
    FreePages => pages::FreePagesKind,
    PagesNode => pages::PagesNodeKind,
    Vmalloc => vmalloc::VmallocKind,
    Dma => dma::DmaKind,
    Ioremap => ioremap::IoremapKind,
    PerCpu => percpu::PerCpuKind,
    Kvmalloc => kvmalloc::KvmallocKind,
    Mempool => mempool::MempoolKind,
    DmaPool => dmapool::DmaPoolKind,
}

#[kunit_tests(kmemlab_kinds)]
mod tests {
    use super::*;
    use crate::uapi::*;

    /// A file with no cache.
    struct NoCaches;

    impl Caches for NoCaches {
        fn cache(&self, _handle: u32) -> Result<Arc<KmemCache>> {
            Err(ENOENT)
        }

        fn pool(&self, _handle: u32) -> Result<Arc<MemPool>> {
            Err(ENOENT)
        }

        fn dma_pool(&self, _handle: u32) -> Result<Arc<DmaPool>> {
            Err(ENOENT)
        }
    }

    /// `ALLOC` of one object of `kind`, every other field zero (any node).
    fn alloc(kind: u32) -> KmemlabAlloc {
        KmemlabAlloc {
            kind,
            gfp: KMEMLAB_GFP_KERNEL,
            size: 0,
            order: 0,
            node: -1,
            cache: 0,
            count: 1,
            handles: 0,
        }
    }

    /// The request `a` makes for `purpose`, as the ioctl path asks.
    fn request(a: &KmemlabAlloc, purpose: Purpose) -> Result<Request> {
        Request::new(&Ask {
            a,
            gfp: crate::ioctl::gfp_from_abi(a.gfp)?,
            node: Node::new(a.node)?,
            purpose,
            caches: &NoCaches,
        })
    }

    #[test]
    fn example_kind() -> Result {
        let a = KmemlabAlloc {
            size: 64,
            ..alloc(KMEMLAB_KIND_KMALLOC)
        };
        let ask = Ask {
            a: &a,
            gfp: Gfp::KERNEL,
            node: Node::ANY,
            purpose: Purpose::Objects,
            caches: &NoCaches,
        };
        let req = kmalloc::KmallocKind::ask(&ask)?;
        assert_eq!(kmalloc::KmallocKind::bytes(&req), 64);
        let mem = kmalloc::KmallocKind::make(&req, Gfp::KERNEL, Node::ANY)?;
        assert_eq!(mem.report().size, 64);
        Ok(())
    }

    #[test]
    fn each_kind_takes_only_its_fields() -> Result {
        // (kind, a valid request) for every kind `ALLOC` makes without a device or cache.
        let valid = [
            KmemlabAlloc {
                size: 64,
                ..alloc(KMEMLAB_KIND_KMALLOC)
            },
            KmemlabAlloc {
                size: 4096,
                ..alloc(KMEMLAB_KIND_VMALLOC)
            },
            KmemlabAlloc {
                order: 1,
                ..alloc(KMEMLAB_KIND_FREE_PAGES)
            },
            KmemlabAlloc {
                order: 1,
                node: 0,
                ..alloc(KMEMLAB_KIND_PAGES_NODE)
            },
            alloc(KMEMLAB_KIND_PERCPU),
            KmemlabAlloc {
                size: 64,
                ..alloc(KMEMLAB_KIND_KVMALLOC)
            },
        ];
        for a in &valid {
            let req = request(a, Purpose::Objects)?;
            assert_eq!(req.what.kind(), a.kind);
            // A field the kind does not take, set: refused.
            let with_order = KmemlabAlloc {
                order: a.order ^ 1,
                ..*a
            };
            let with_size = KmemlabAlloc {
                size: a.size + 64,
                ..*a
            };
            let with_cache = KmemlabAlloc { cache: 1, ..*a };
            let takes_order = matches!(a.kind, KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE);
            let takes_size = matches!(
                a.kind,
                KMEMLAB_KIND_KMALLOC | KMEMLAB_KIND_VMALLOC | KMEMLAB_KIND_KVMALLOC
            );
            assert_eq!(request(&with_order, Purpose::Objects).is_ok(), takes_order);
            assert_eq!(request(&with_size, Purpose::Objects).is_ok(), takes_size);
            assert_eq!(request(&with_cache, Purpose::Objects).err(), Some(EINVAL));
        }
        Ok(())
    }

    #[test]
    fn out_of_range_and_unknown_are_refused() {
        let refused = |a: KmemlabAlloc, e: Error| {
            assert_eq!(request(&a, Purpose::Objects).err(), Some(e));
        };
        refused(alloc(0), EINVAL);
        refused(alloc(KMEMLAB_KIND_DMA_POOL + 1), EINVAL);
        refused(alloc(KMEMLAB_KIND_KMALLOC), EINVAL);
        refused(
            KmemlabAlloc {
                order: crate::alloc::pages::MAX_ORDER + 1,
                ..alloc(KMEMLAB_KIND_FREE_PAGES)
            },
            EINVAL,
        );
        refused(
            KmemlabAlloc {
                cache: 7,
                ..alloc(KMEMLAB_KIND_KMEM_CACHE)
            },
            ENOENT,
        );
        // Objects of device memory come from KMEMLAB_IOC_IOREMAP only.
        refused(
            KmemlabAlloc {
                size: 4096,
                ..alloc(KMEMLAB_KIND_IOREMAP)
            },
            EINVAL,
        );
        // A node for the kinds that place memory themselves.
        for kind in [
            KMEMLAB_KIND_FREE_PAGES,
            KMEMLAB_KIND_DMA_COHERENT,
            KMEMLAB_KIND_PERCPU,
        ] {
            refused(
                KmemlabAlloc {
                    node: 0,
                    ..alloc(kind)
                },
                EINVAL,
            );
        }
        // A per-CPU counter takes GFP_KERNEL and nothing else.
        refused(
            KmemlabAlloc {
                gfp: KMEMLAB_GFP_ZERO,
                ..alloc(KMEMLAB_KIND_PERCPU)
            },
            EINVAL,
        );
    }

    #[test]
    fn gfp_choices_follow_the_table() -> Result {
        let with = |kind: u32, gfp: u32, node: i32| {
            let a = KmemlabAlloc {
                gfp,
                node,
                size: if matches!(
                    kind,
                    KMEMLAB_KIND_FREE_PAGES | KMEMLAB_KIND_PAGES_NODE | KMEMLAB_KIND_PERCPU
                ) {
                    0
                } else {
                    4096
                },
                ..alloc(kind)
            };
            request(&a, Purpose::Objects).map(|_| ())
        };
        // Each base on each kind that takes it, and not on the others.
        for base in 0..=KMEMLAB_GFP_HIGHUSER_MOVABLE {
            let lowmem = base <= KMEMLAB_GFP_USER;
            assert_eq!(with(KMEMLAB_KIND_KMALLOC, base, -1).is_ok(), lowmem);
            assert_eq!(with(KMEMLAB_KIND_KVMALLOC, base, -1).is_ok(), lowmem);
            assert_eq!(with(KMEMLAB_KIND_FREE_PAGES, base, -1).is_ok(), lowmem);
            assert!(with(KMEMLAB_KIND_PAGES_NODE, base, -1).is_ok());
            assert_eq!(with(KMEMLAB_KIND_VMALLOC, base, -1).is_ok(), base == 0);
            assert_eq!(with(KMEMLAB_KIND_PERCPU, base, -1).is_ok(), base == 0);
        }
        // DMA pools: the mask is checked before the pool is looked up.
        for base in 0..=KMEMLAB_GFP_HIGHUSER_MOVABLE {
            let refusal = if base <= KMEMLAB_GFP_USER {
                ENOENT
            } else {
                EINVAL
            };
            let a = KmemlabAlloc {
                gfp: base,
                cache: 1,
                ..alloc(KMEMLAB_KIND_DMA_POOL)
            };
            assert_eq!(request(&a, Purpose::Objects).err(), Some(refusal));
        }
        for (mods, refusal) in [
            (
                KMEMLAB_GFP_ZERO | KMEMLAB_GFP_NOWARN | KMEMLAB_GFP_NORETRY,
                ENOENT,
            ),
            (KMEMLAB_GFP_RETRY_MAYFAIL, ENOENT),
            (KMEMLAB_GFP_ACCOUNT, EINVAL),
            (KMEMLAB_GFP_DMA, EINVAL),
            (KMEMLAB_GFP_DMA32, EINVAL),
        ] {
            let a = KmemlabAlloc {
                gfp: mods,
                cache: 1,
                ..alloc(KMEMLAB_KIND_DMA_POOL)
            };
            assert_eq!(request(&a, Purpose::Objects).err(), Some(refusal));
        }
        // THISNODE: with a node, where the kind has one.
        assert_eq!(
            with(KMEMLAB_KIND_KMALLOC, KMEMLAB_GFP_THISNODE, -1),
            Err(EINVAL)
        );
        with(KMEMLAB_KIND_KMALLOC, KMEMLAB_GFP_THISNODE, 0)?;
        with(KMEMLAB_KIND_PAGES_NODE, KMEMLAB_GFP_THISNODE, 0)?;
        with(KMEMLAB_KIND_KVMALLOC, KMEMLAB_GFP_THISNODE, 0)?;
        assert_eq!(
            with(KMEMLAB_KIND_VMALLOC, KMEMLAB_GFP_THISNODE, 0),
            Err(EINVAL)
        );
        // Zones: kmalloc and kvmalloc take DMA only, pages both, vmalloc neither.
        if cfg!(CONFIG_ZONE_DMA) && cfg!(CONFIG_ZONE_DMA32) {
            with(KMEMLAB_KIND_KMALLOC, KMEMLAB_GFP_DMA, -1)?;
            assert_eq!(
                with(KMEMLAB_KIND_KMALLOC, KMEMLAB_GFP_DMA32, -1),
                Err(EINVAL)
            );
            with(KMEMLAB_KIND_FREE_PAGES, KMEMLAB_GFP_DMA32, -1)?;
            with(KMEMLAB_KIND_PAGES_NODE, KMEMLAB_GFP_DMA, -1)?;
            with(KMEMLAB_KIND_KVMALLOC, KMEMLAB_GFP_DMA, -1)?;
            assert_eq!(
                with(KMEMLAB_KIND_KVMALLOC, KMEMLAB_GFP_DMA32, -1),
                Err(EINVAL)
            );
            assert_eq!(
                with(KMEMLAB_KIND_VMALLOC, KMEMLAB_GFP_DMA32, -1),
                Err(EINVAL)
            );
        }
        // Opposite policies, and unknown bits.
        assert_eq!(
            with(
                KMEMLAB_KIND_KMALLOC,
                KMEMLAB_GFP_NORETRY | KMEMLAB_GFP_RETRY_MAYFAIL,
                -1
            ),
            Err(EINVAL)
        );
        assert_eq!(with(KMEMLAB_KIND_KMALLOC, 0x8, -1), Err(EINVAL));
        assert_eq!(with(KMEMLAB_KIND_KMALLOC, 0x1000, -1), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn errors_come_in_order() {
        let ask = |a: &KmemlabAlloc, gfp: Gfp, purpose: Purpose| {
            Request::new(&Ask {
                a,
                gfp,
                node: Node::ANY,
                purpose,
                caches: &NoCaches,
            })
            .err()
        };
        // An unknown cache before a zeroing mask it could not take.
        let cache = KmemlabAlloc {
            cache: 7,
            gfp: KMEMLAB_GFP_ZERO,
            ..alloc(KMEMLAB_KIND_KMEM_CACHE)
        };
        assert_eq!(
            ask(&cache, Gfp::KERNEL.zeroed(), Purpose::Objects),
            Some(ENOENT)
        );
        // A benchmark window of device memory takes no GFP bits.
        let window = KmemlabAlloc {
            size: 4096,
            gfp: KMEMLAB_GFP_ZERO,
            ..alloc(KMEMLAB_KIND_IOREMAP)
        };
        assert_eq!(
            ask(&window, Gfp::KERNEL.zeroed(), Purpose::Bench),
            Some(EINVAL)
        );
        // Fields before the device: an unknown DMA device is EINVAL.
        let dma = KmemlabAlloc {
            size: 4096,
            cache: 9,
            ..alloc(KMEMLAB_KIND_DMA_COHERENT)
        };
        assert_eq!(ask(&dma, Gfp::KERNEL, Purpose::Objects), Some(EINVAL));
    }

    #[test]
    fn what_is_made_is_what_is_counted_and_reported() -> Result {
        let pages = KmemlabAlloc {
            order: 2,
            ..alloc(KMEMLAB_KIND_FREE_PAGES)
        };
        let req = request(&pages, Purpose::Objects)?;
        assert_eq!(req.what.bytes(), 4 * kernel::page::PAGE_SIZE);
        assert_eq!(req.what.pages(), 4);
        let mem = req.make()?;
        let report = mem.report();
        assert_eq!(
            (report.size, report.order),
            (4 * kernel::page::PAGE_SIZE, 2)
        );
        assert!(report.nid >= 0);
        assert_eq!(mem.byte_len()?, report.size);
        let mut zeroes = 0;
        mem.read(0..report.size, &mut |_, b| {
            zeroes += b.iter().filter(|x| **x == 0).count();
            true
        })?;
        assert_eq!(zeroes, report.size);
        assert_eq!(report.backing, Backing::Pages);

        let counter = request(&alloc(KMEMLAB_KIND_PERCPU), Purpose::Objects)?;
        let mem = counter.make()?;
        assert_eq!(mem.kind(), KMEMLAB_KIND_PERCPU);
        assert_eq!(mem.report().size, 8);
        // Not bytes: READ, WRITE, FILL and VERIFY are refused.
        assert_eq!(mem.byte_len().err(), Some(EINVAL));

        let big = KmemlabAlloc {
            size: 1 << 20,
            ..alloc(KMEMLAB_KIND_KMALLOC)
        };
        // Beyond the kmalloc caches: a block of pages.
        assert_eq!(request(&big, Purpose::Objects)?.what.pages(), 256);
        Ok(())
    }
}
