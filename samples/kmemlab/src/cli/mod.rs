// SPDX-License-Identifier: GPL-2.0

//! The command line, declared with clap: every command, its arguments and
//! its help. Script lines are parsed by the same definition.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::CommandFactory;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::names;
use crate::uapi::{
    self, KMEMLAB_BATCH_MAX, KMEMLAB_BENCH_ITERATIONS_MAX, KMEMLAB_MEMPOOL_RESERVE_MAX,
};
use crate::units;

/// The device node without `--device`.
pub const DEFAULT_DEVICE: &str = "/dev/kmemlab";
/// Where the module's debugfs files are when debugfs is mounted as usual.
pub const DEFAULT_DEBUGFS: &str = "/sys/kernel/debug/kmemlab";

const AFTER_HELP: &str = "Numbers take 0x hex and k/m/g suffixes (4k = 4096).
Exit status: 0 success, 1 failure, 2 usage error.";

/// Drive the kmemlab kernel module through /dev/kmemlab.
///
/// Objects belong to the open device file and are freed when the tool exits:
/// run several commands on one file with `script`, and keep them alive with
/// --hold. `stats` and `top` read debugfs and need no device.
#[derive(Parser, Debug, Clone, PartialEq)]
#[command(
    name = "kmemlab",
    version,
    after_help = AFTER_HELP,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after its name.
#[derive(Args, Debug, Clone, PartialEq, Default)]
pub struct Global {
    /// Machine-readable output: one JSON document per command
    #[arg(short = 'j', long, global = true)]
    pub json: bool,
    /// The device node [default: /dev/kmemlab]
    #[arg(short = 'd', long, global = true, value_name = "PATH")]
    pub device: Option<PathBuf>,
    /// Keep the device open after the command until interrupted
    #[arg(long, global = true)]
    pub hold: bool,
}

impl Global {
    /// The device node to open.
    pub fn device_path(&self) -> PathBuf {
        self.device
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DEVICE))
    }
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum Command {
    /// ABI version, features, online CPUs, NUMA nodes and the module's limits
    Version,
    /// Allocate objects of one kind
    Alloc(AllocArgs),
    /// Free objects (or every object of the file with --all)
    Free(FreeArgs),
    /// Write bytes into an object
    Write(WriteArgs),
    /// Read bytes of an object (hex)
    Read(RangeArgs),
    /// Fill an object with the pattern of a seed
    Fill(SeededArgs),
    /// Check an object against the pattern of a seed
    Verify(SeededArgs),
    /// One object's kind, size, node, CPU, zone and what served it
    Info(HandleArg),
    /// Every object of the open file
    List,
    /// kmem_cache caches: create, destroy, list
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Mempools: a reserve of elements over kmalloc or a cache
    #[command(subcommand)]
    Mempool(MempoolCommand),
    /// DMA pools: small blocks of coherent memory for one device
    #[command(subcommand)]
    DmaPool(DmaPoolCommand),
    /// Map edu's registers or a physical range
    #[command(subcommand)]
    Ioremap(IoremapCommand),
    /// One access to an ioremap object
    #[command(subcommand)]
    Mmio(MmioCommand),
    /// edu's DMA engine
    #[command(subcommand)]
    Dma(DmaCommand),
    /// Per-CPU counters
    #[command(subcommand)]
    Percpu(PercpuCommand),
    /// The module's limits and the largest allocation each allocator grants
    ///
    /// Every probe is one real allocation, freed at once; vmalloc and
    /// kvmalloc are probed only up to a safety cap: the module's quota,
    /// MemAvailable/2 or --cap, the lowest.
    Limits(LimitsArgs),
    /// Run commands from FILE (or standard input) on one open device
    ///
    /// One command per line, split like a shell does (single and double
    /// quotes); '#' starts a comment at the start of a word. Every line is
    /// checked before the first one runs.
    Script(ScriptArgs),
    /// The module's statistics (debugfs) and its slab caches
    Stats(StatsArgs),
    /// Live view of the statistics
    ///
    /// Keys: l, b, c, r sort by live, bytes, created, rate; q or Ctrl-C
    /// quits. When standard output is not a terminal: no redraw. --json is a
    /// usage error here (the frames are for people): use stats --json.
    Top(TopArgs),
    /// In-kernel benchmarks
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print a shell completion script (not JSON: --json is a usage error)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the man page and the completion scripts into DIR
    #[command(hide = true)]
    Docs {
        /// The directory to write into
        dir: PathBuf,
    },
    /// Print the README's command reference
    #[command(hide = true)]
    ReadmeReference,
    /// Print the `kmemlab ...` examples of a README, one a line
    #[command(hide = true)]
    ReadmeExamples {
        /// The README
        file: PathBuf,
    },
}

/// A handle.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct HandleArg {
    /// The object's handle
    #[arg(value_parser = units::number_u32)]
    pub handle: u32,
}

/// The GFP base of an allocation: the kernel's GFP_* of that name (the
/// modifiers are flags).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gfp {
    // The variants carry no doc comments: clap would print them one a line,
    // and the names say what they are.
    #[default]
    Kernel,
    Atomic,
    Nowait,
    Noio,
    Nofs,
    User,
    Highuser,
    #[value(name = "highuser_movable", alias = "highuser-movable")]
    HighuserMovable,
}

impl Gfp {
    /// The KMEMLAB_GFP_* base.
    pub fn bits(self) -> u32 {
        match self {
            Self::Kernel => uapi::KMEMLAB_GFP_KERNEL,
            Self::Atomic => uapi::KMEMLAB_GFP_ATOMIC,
            Self::Nowait => uapi::KMEMLAB_GFP_NOWAIT,
            Self::Noio => uapi::KMEMLAB_GFP_NOIO,
            Self::Nofs => uapi::KMEMLAB_GFP_NOFS,
            Self::User => uapi::KMEMLAB_GFP_USER,
            Self::Highuser => uapi::KMEMLAB_GFP_HIGHUSER,
            Self::HighuserMovable => uapi::KMEMLAB_GFP_HIGHUSER_MOVABLE,
        }
    }
}

/// The kinds `alloc` and `bench run` take.
fn kind_parser(with_ioremap: bool) -> impl TypedValueParser<Value = u32> {
    let mut names: Vec<&'static str> = uapi::KIND_NAMES
        .iter()
        .map(|(_, n)| *n)
        .filter(|n| with_ioremap || *n != "ioremap")
        .collect();
    names.push("dma");
    PossibleValuesParser::new(names).map(|n| names::kind(&n).unwrap_or(0))
}

/// The DMA devices.
fn dma_device_parser() -> impl TypedValueParser<Value = u32> {
    let names: Vec<&'static str> = uapi::DEVICE_NAMES.iter().map(|(_, n)| *n).collect();
    PossibleValuesParser::new(names)
        .map(|n| names::by_name(uapi::DEVICE_NAMES, "device", &n).unwrap_or(0))
}

/// A DMA pool's name: 1 to 23 of a-z, 0-9, _ and -.
fn dma_pool_name(s: &str) -> Result<String, String> {
    if names::dma_pool_name_ok(s.as_bytes()) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}': a name of 1 to {} characters, each a-z, 0-9, _ or -",
            uapi::KMEMLAB_CACHE_NAME_MAX - 1
        ))
    }
}

/// A count of objects: 1 to KMEMLAB_BATCH_MAX.
fn count(s: &str) -> Result<u32, String> {
    in_range(s, 1, KMEMLAB_BATCH_MAX)
}

/// Elements a mempool keeps in reserve: 1 to KMEMLAB_MEMPOOL_RESERVE_MAX.
fn min_nr(s: &str) -> Result<u32, String> {
    in_range(s, 1, KMEMLAB_MEMPOOL_RESERVE_MAX)
}

/// Samples of a benchmark run: 1 to KMEMLAB_BENCH_ITERATIONS_MAX.
fn iterations(s: &str) -> Result<u32, String> {
    in_range(s, 1, KMEMLAB_BENCH_ITERATIONS_MAX)
}

/// Rounds of a benchmark: 1 to 1000.
fn rounds(s: &str) -> Result<usize, String> {
    in_range(s, 1, 1000).map(|n| n as usize)
}

/// A number from `lo` to `hi`.
fn in_range(s: &str, lo: u32, hi: u32) -> Result<u32, String> {
    units::number(s)
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (lo..=hi).contains(n))
        .ok_or_else(|| format!("'{s}' must be a number from {lo} to {hi}"))
}

/// A NUMA node: a number, or -1 / `any` for any node.
fn node(s: &str) -> Result<i32, String> {
    match s {
        "any" => Ok(uapi::KMEMLAB_NODE_ANY),
        s => s
            .parse()
            .map_err(|_| format!("'{s}' is not a node (a number, or 'any')")),
    }
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct AllocArgs {
    /// What to allocate
    #[arg(value_parser = kind_parser(false))]
    pub kind: u32,
    /// Bytes of each object
    #[arg(value_name = "SIZE", value_parser = units::number, conflicts_with = "size")]
    pub size_arg: Option<u64>,
    /// Bytes of each object (the same as SIZE)
    #[arg(short, long, value_name = "N", value_parser = units::number)]
    pub size: Option<u64>,
    /// Pages of free_pages and pages_node objects: 2^order
    #[arg(short, long, value_name = "N", value_parser = units::number_u32, default_value = "0")]
    pub order: u32,
    /// The NUMA node (-1 or any: any node)
    #[arg(long, value_name = "N", value_parser = node, allow_negative_numbers = true, default_value = "-1")]
    pub node: i32,
    /// The cache handle of kmem_cache objects
    #[arg(long, value_name = "H", value_parser = units::number_u32)]
    pub cache: Option<u32>,
    /// The pool of mempool and dma_pool objects: the handle `mempool create`
    /// or `dma-pool create` gave (mempool objects need --gfp atomic or nowait)
    #[arg(long, value_name = "H", value_parser = units::number_u32)]
    pub pool: Option<u32>,
    /// Objects to allocate at once (1 to 1024)
    #[arg(short = 'n', long, value_name = "N", value_parser = count, default_value = "1")]
    pub count: u32,
    /// The allocation context, GFP_KERNEL etc.; a kind takes those the kernel
    /// allows for it (the module refuses the others: EINVAL). mempool takes
    /// atomic or nowait only; dma_pool no highuser base
    #[arg(long, value_enum, default_value_t)]
    pub gfp: Gfp,
    /// __GFP_ZERO: zeroed memory
    #[arg(long)]
    pub zero: bool,
    /// __GFP_NOWARN: no allocation-failure report
    #[arg(long)]
    pub nowarn: bool,
    /// __GFP_NORETRY: fail rather than reclaim hard
    #[arg(long)]
    pub noretry: bool,
    /// __GFP_ACCOUNT: charge the memory cgroup
    #[arg(long)]
    pub account: bool,
    /// __GFP_DMA: from ZONE_DMA
    #[arg(long)]
    pub dma: bool,
    /// __GFP_DMA32: from ZONE_DMA32 or below
    #[arg(long)]
    pub dma32: bool,
    /// __GFP_THISNODE: on --node or fail
    #[arg(long)]
    pub thisnode: bool,
    /// __GFP_RETRY_MAYFAIL: try hard, but fail rather than call the OOM killer
    #[arg(long)]
    pub retry_mayfail: bool,
    /// The device of dma objects [default: faux]
    #[arg(long, value_name = "DEV", value_parser = dma_device_parser())]
    pub dma_device: Option<u32>,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct FreeArgs {
    /// Handles to free
    #[arg(value_parser = units::number_u32, required_unless_present = "all", conflicts_with = "all")]
    pub handles: Vec<u32>,
    /// Free every object of the file
    #[arg(short, long)]
    pub all: bool,
}

#[derive(Args, Debug, Clone, PartialEq)]
#[command(group(ArgGroup::new("data").required(true).args(["string", "hex"])))]
pub struct WriteArgs {
    /// The object's handle
    #[arg(value_parser = units::number_u32)]
    pub handle: u32,
    /// Where to write, in bytes from the start
    #[arg(long, value_name = "N", value_parser = units::number, default_value = "0")]
    pub offset: u64,
    /// The bytes of TEXT
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub string: Option<String>,
    /// The bytes HEX spells (two digits a byte)
    #[arg(long, value_name = "HEX")]
    pub hex: Option<String>,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct RangeArgs {
    /// The object's handle
    #[arg(value_parser = units::number_u32)]
    pub handle: u32,
    /// Where to start, in bytes
    #[arg(long, value_name = "N", value_parser = units::number, default_value = "0")]
    pub offset: u64,
    /// How many bytes [default: to the end of the object]
    #[arg(long, value_name = "N", value_parser = units::number)]
    pub len: Option<u64>,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct SeededArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// The pattern's seed
    #[arg(long, value_name = "S", value_parser = units::number)]
    pub seed: u64,
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum CacheCommand {
    /// Create a cache (named kmemlab-NAME)
    Create {
        /// The cache's name, after kmemlab-
        name: String,
        /// Bytes of each object
        #[arg(short, long, value_name = "N", value_parser = units::number_u32)]
        size: u32,
        /// Alignment of the objects
        #[arg(long, value_name = "N", value_parser = units::number_u32, default_value = "0")]
        align: u32,
        /// SLAB_HWCACHE_ALIGN
        #[arg(long)]
        hwcache_align: bool,
        /// A constructor that stamps every new object
        #[arg(long)]
        ctor: bool,
        /// SLAB_CACHE_DMA: objects from ZONE_DMA
        #[arg(long)]
        dma: bool,
        /// SLAB_CACHE_DMA32: objects from ZONE_DMA32
        #[arg(long)]
        dma32: bool,
    },
    /// Destroy a cache
    Destroy(HandleArg),
    /// Every kmemlab-* cache in /proc/slabinfo
    List,
}

/// A mempool's or a DMA pool's handle.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct PoolArg {
    /// The pool's handle
    #[arg(value_parser = units::number_u32)]
    pub handle: u32,
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum MempoolCommand {
    /// Create a mempool over kmalloc or over a cache of the file
    ///
    /// The pool fills its reserve at once; its elements are allocated with
    /// `alloc mempool --pool H --gfp atomic` (or nowait: a mask that may
    /// sleep is refused).
    #[command(group(ArgGroup::new("source").required(true).args(["kmalloc", "cache"])))]
    Create {
        /// Elements of SIZE bytes, from kmalloc
        #[arg(long, value_name = "SIZE", value_parser = units::number_u32)]
        kmalloc: Option<u32>,
        /// Elements from the cache H (the handle `cache create` gave)
        #[arg(long, value_name = "H", value_parser = units::number_u32)]
        cache: Option<u32>,
        /// Elements kept in reserve (1 to 1024)
        #[arg(long, value_name = "N", value_parser = min_nr)]
        min: u32,
    },
    /// Destroy a mempool (refused while it has live elements)
    Destroy(PoolArg),
    /// A mempool's source, element size, reserve and live elements
    Status(PoolArg),
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum DmaPoolCommand {
    /// Create a DMA pool (named kmemlab-NAME) of SIZE-byte blocks for a device
    ///
    /// The pool takes coherent pages for the device as its blocks need
    /// them; its blocks are allocated with `alloc dma_pool --pool H`. The
    /// device's `pools` file in sysfs lists it (for faux:
    /// /sys/bus/faux/devices/kmemlab/pools).
    Create {
        /// The pool's name, after kmemlab- (1 to 23 of a-z, 0-9, _ and -)
        #[arg(long, value_name = "NAME", value_parser = dma_pool_name)]
        name: String,
        /// Bytes of each block (1 to the module's dma_pool_block_max)
        #[arg(short, long, value_name = "N", value_parser = units::number_u32)]
        size: u32,
        /// The device the blocks are for
        #[arg(long, value_name = "DEV", value_parser = dma_device_parser(), default_value = "faux")]
        dma_device: u32,
        /// Alignment of the blocks' bus addresses: 0 or a power of two up to the page size
        #[arg(long, value_name = "N", value_parser = units::number_u32, default_value = "0")]
        align: u32,
        /// No block crosses a multiple of N: 0, or a power of two no smaller than a block
        #[arg(long, value_name = "N", value_parser = units::number_u32, default_value = "0")]
        boundary: u32,
    },
    /// Destroy a DMA pool (refused while the file holds blocks of it)
    Destroy(PoolArg),
    /// A DMA pool's name, device, block size, alignment, boundary and live blocks
    Status(PoolArg),
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum IoremapCommand {
    /// Map BAR 0 of QEMU's edu device (its registers)
    Edu,
    /// Map a physical range
    Phys {
        /// The physical address
        #[arg(value_parser = units::number)]
        addr: u64,
        /// Bytes to map
        #[arg(value_parser = units::number)]
        size: u64,
    },
}

/// An MMIO access width in bytes.
fn width_parser() -> impl TypedValueParser<Value = u32> {
    PossibleValuesParser::new(["1", "2", "4", "8"]).map(|w| w.parse().unwrap_or(4))
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum MmioCommand {
    /// Read a register
    Read {
        /// The ioremap object's handle
        #[arg(value_parser = units::number_u32)]
        handle: u32,
        /// The register's offset
        #[arg(value_parser = units::number)]
        offset: u64,
        /// Bytes of the access
        #[arg(short, long, value_parser = width_parser(), default_value = "4")]
        width: u32,
    },
    /// Write a register
    Write {
        /// The ioremap object's handle
        #[arg(value_parser = units::number_u32)]
        handle: u32,
        /// The register's offset
        #[arg(value_parser = units::number)]
        offset: u64,
        /// The value to write
        #[arg(value_parser = units::number)]
        value: u64,
        /// Bytes of the access
        #[arg(short, long, value_parser = width_parser(), default_value = "4")]
        width: u32,
    },
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum DmaCommand {
    /// edu's DMA engine copies between two edu objects
    Copy {
        /// The source object
        #[arg(value_parser = units::number_u32)]
        src: u32,
        /// The destination object
        #[arg(value_parser = units::number_u32)]
        dst: u32,
        /// Bytes to copy
        #[arg(value_parser = units::number)]
        len: u64,
        /// Where to start in the source
        #[arg(long, value_name = "N", value_parser = units::number, default_value = "0")]
        src_offset: u64,
        /// Where to start in the destination
        #[arg(long, value_name = "N", value_parser = units::number, default_value = "0")]
        dst_offset: u64,
    },
    /// Fill, DMA copy and verify two edu objects
    Roundtrip {
        /// Bytes of each object [default: the module's edu DMA maximum]
        #[arg(short, long, value_name = "N", value_parser = units::positive)]
        size: Option<u64>,
        /// The pattern's seed
        #[arg(long, value_name = "S", value_parser = units::number, default_value = "0x5eed")]
        seed: u64,
    },
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum PercpuCommand {
    /// Add VALUE on this CPU (printed) or on CPU N
    Add {
        /// The percpu object's handle
        #[arg(value_parser = units::number_u32)]
        handle: u32,
        /// What to add
        #[arg(value_parser = units::number)]
        value: u64,
        /// The CPU to add on
        #[arg(long, value_name = "N", value_parser = units::number_u32)]
        cpu: Option<u32>,
    },
    /// Every CPU's value and the sum
    Read(HandleArg),
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct LimitsArgs {
    /// Probe vmalloc and kvmalloc up to BYTES at most
    #[arg(long, value_name = "BYTES", value_parser = units::positive)]
    pub cap: Option<u64>,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct ScriptArgs {
    /// The script, - for standard input
    #[arg(default_value = "-")]
    pub file: String,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct StatsArgs {
    /// Add the per-CPU table
    #[arg(short, long)]
    pub percpu: bool,
    /// Add the live objects of every open file
    #[arg(short, long)]
    pub objects: bool,
    /// The module's debugfs directory
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DEBUGFS)]
    pub debugfs: PathBuf,
}

/// What `top` sorts the kinds by (largest first; ties keep the ABI order).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Live,
    Bytes,
    Created,
    /// created/s + freed/s: the allocator traffic
    Rate,
}

/// Seconds between refreshes: 0.01 to 3600.
fn interval(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.01..=3600.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("'{s}': seconds, 0.01 to 3600"))
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct TopArgs {
    /// Seconds between refreshes
    #[arg(short, long, value_name = "SECS", value_parser = interval, default_value = "1")]
    pub interval: Duration,
    /// What to sort by (keys l, b, c, r while running)
    #[arg(short, long, value_enum, default_value_t)]
    pub sort: SortKey,
    /// Refresh N times, then exit
    #[arg(short = 'n', long, value_name = "N", value_parser = units::positive)]
    pub iterations: Option<u64>,
    /// The module's debugfs directory
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DEBUGFS)]
    pub debugfs: PathBuf,
}

/// The benchmark operations.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BenchOp {
    /// Alloc+free pairs
    #[default]
    Alloc,
    /// this_cpu_inc of a per-CPU counter
    PercpuInc,
    /// atomic_inc of one shared counter
    AtomicInc,
}

/// `bench standard --scaling`: whether the set measures scaling across CPUs.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScalingPart {
    /// With the rest of the set
    #[default]
    Include,
    /// Not at all (e.g. under QEMU -icount, where one vCPU runs at a time)
    Skip,
    /// Scaling alone
    Only,
}

/// `--threads`: a number, or every online CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    Count(u32),
    All,
}

fn threads(s: &str) -> Result<Threads, String> {
    match s {
        "all" => Ok(Threads::All),
        s => units::number_u32(s)
            .map(Threads::Count)
            .map_err(|_| format!("'{s}': a number of threads, or 'all'")),
    }
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum BenchCommand {
    /// One in-kernel timed run: ns/op, cycles/op, aggregate ops/s
    Run(BenchRunArgs),
    /// Safe Rust against raw C for every allocator, and a summary
    ///
    /// A size sweep, batches, scaling with threads, the ioctl path and the
    /// cost of statistics, judged against the targets.
    Standard(BenchStandardArgs),
    /// Tiny runs of every op and kind, checked to be well-formed
    Smoke {
        /// Samples per run
        #[arg(long, value_name = "N", value_parser = iterations, default_value_t = crate::bench::SMOKE_ITERATIONS)]
        iterations: u32,
    },
    /// kmem_cache pairs with statistics on and off
    StatsCost {
        /// Pairs per run
        #[arg(long, value_name = "N", value_parser = iterations, default_value_t = crate::bench::STATS_COST_ITERATIONS)]
        iterations: u32,
        /// Bytes of each object
        #[arg(short, long, value_name = "N", value_parser = units::number_u32, default_value_t = 64)]
        size: u32,
        /// Runs each way
        #[arg(long, value_name = "R", value_parser = rounds, default_value_t = crate::bench::STATS_COST_ROUNDS)]
        rounds: usize,
    },
    /// The standard set's figures across placements of the same code
    ///
    /// Each FILE is what `bench standard --json` printed for one build of
    /// the module, its text shifted in memory (LABEL, e.g. the shift in
    /// bytes, heads its column as +LABEL): under emulation the ratios depend
    /// on where the code lands. Every figure is the median across the
    /// placements, judged against the standard targets. Reads the files
    /// only: needs no device.
    Placements(BenchPlacementsArgs),
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct BenchRunArgs {
    /// What to time
    #[arg(long, value_enum, default_value_t)]
    pub op: BenchOp,
    /// The allocator of --op alloc [default: kmalloc]; kmem_cache, mempool
    /// and dma_pool runs make their own cache, kmalloc mempool (16 in
    /// reserve, GFP_ATOMIC) or DMA pool (for --dma-device) of --size-byte
    /// objects
    #[arg(short, long, value_parser = kind_parser(true))]
    pub kind: Option<u32>,
    /// Bytes of each object [default: 64, or 4096 for vmalloc, kvmalloc, dma, ioremap]
    #[arg(short, long, value_name = "N", value_parser = units::number)]
    pub size: Option<u64>,
    /// Pages of free_pages and pages_node: 2^order
    #[arg(short, long, value_name = "N", value_parser = |s: &str| in_range(s, 0, 63))]
    pub order: Option<u32>,
    /// The NUMA node (any: any node)
    #[arg(long, value_name = "N", value_parser = node, allow_negative_numbers = true)]
    pub node: Option<i32>,
    /// The device of dma_coherent and dma_pool runs [default: faux]
    #[arg(long, value_name = "DEV", value_parser = dma_device_parser())]
    pub dma_device: Option<u32>,
    /// Operations per sample (1 to 1024)
    #[arg(short, long, value_name = "K", value_parser = count)]
    pub batch: Option<u32>,
    /// Kernel threads, one per CPU (all: every online CPU) [default: the calling thread]
    #[arg(short, long, value_name = "N|all", value_parser = threads)]
    pub threads: Option<Threads>,
    /// Samples
    #[arg(long, value_name = "N", value_parser = iterations, default_value_t = crate::bench::RUN_ITERATIONS)]
    pub iterations: u32,
    /// The raw C baseline instead of the Rust abstractions
    #[arg(long)]
    pub raw_c: bool,
    /// Without statistics
    #[arg(long)]
    pub no_stats: bool,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct BenchStandardArgs {
    /// Samples per run [default: 20000, 200 with --quick]
    #[arg(long, value_name = "N", value_parser = iterations)]
    pub iterations: Option<u32>,
    /// Rounds per point [default: 9, 1 with --quick]
    #[arg(long, value_name = "R", value_parser = rounds)]
    pub rounds: Option<usize>,
    /// Tiny runs of a reduced sweep
    #[arg(short, long)]
    pub quick: bool,
    /// Plot the sweep into FILE
    #[arg(long, value_name = "FILE")]
    pub svg: Option<String>,
    /// The plot's subtitle
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub subtitle: Option<String>,
    /// Scaling across CPUs: with the rest, skipped, or alone
    #[arg(long, value_enum, default_value_t)]
    pub scaling: ScalingPart,
}

/// One placement of `bench placements`: its label and the file of its
/// `bench standard --json` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub label: String,
    pub file: PathBuf,
}

/// `LABEL=FILE`, neither empty.
fn placement(s: &str) -> Result<Placement, String> {
    match s.split_once('=') {
        Some((label, file)) if !label.is_empty() && !file.is_empty() => Ok(Placement {
            label: label.to_string(),
            file: PathBuf::from(file),
        }),
        _ => Err(format!(
            "'{s}': LABEL=FILE, a label and the file `bench standard --json` wrote (e.g. 832=bench-832.json)"
        )),
    }
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct BenchPlacementsArgs {
    /// Two or more placements: a label (its column: +LABEL) and the file of
    /// its `bench standard --json`
    #[arg(value_name = "LABEL=FILE", value_parser = placement, num_args = 2.., required = true)]
    pub placements: Vec<Placement>,
}

/// Parses a whole command line (its first word is the program's name).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// Whether a command line that clap refused asks for `--json`: read by
/// clap itself (what it parsed before the error), so `-jd PATH` counts and
/// an option's value spelled `--json` does not.
pub fn json_requested<I, T>(args: I) -> bool
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    lenient(Cli::command())
        .ignore_errors(true)
        .try_get_matches_from(args)
        .is_ok_and(|m| json_flag(&m))
}

/// `cmd` taking any value for any option or argument: clap stops at the
/// first value it refuses, even when told to ignore errors, and the flags
/// after it would go unread.
fn lenient(cmd: clap::Command) -> clap::Command {
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.mut_args(|a| {
        if a.get_action().takes_values() {
            a.value_parser(clap::builder::ValueParser::os_string())
        } else {
            a
        }
    });
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, lenient);
    }
    cmd
}

/// `--json` wherever it was given: on the tool or on any subcommand.
fn json_flag(m: &clap::ArgMatches) -> bool {
    matches!(m.try_get_one::<bool>("json"), Ok(Some(true)))
        || m.subcommand().is_some_and(|(_, sub)| json_flag(sub))
}

/// The command (`["cache", "create"]`) a command line's `words` (without
/// the program's name) name: the words that are subcommands, in order.
pub fn command_path(words: &[String]) -> Vec<String> {
    let mut cmd = Cli::command();
    let mut path = Vec::new();
    for w in words {
        let Some(sub) = cmd.find_subcommand(w).cloned() else {
            continue;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path
}

/// The names of the subcommands of the command at `path`.
pub fn subcommands_of(path: &[String]) -> Vec<String> {
    let mut cmd = Cli::command();
    for p in path {
        match cmd.find_subcommand(p).cloned() {
            Some(sub) => cmd = sub,
            None => return Vec::new(),
        }
    }
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect()
}

#[cfg(test)]
mod tests;
