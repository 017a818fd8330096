// SPDX-License-Identifier: GPL-2.0

//! The searches of `limits`: the largest size (or order) a probe accepts.

use rustix::io::Errno;

use crate::device::OpError;

/// Why one probe failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// `EINVAL`: beyond the allocator's hard limit.
    Limit,
    /// `ENOMEM`: no memory for that size (or the quota).
    NoMemory,
    /// Anything else: the search stops.
    Error(String),
}

impl Failure {
    pub(crate) fn of(e: &OpError) -> Self {
        match e.errno {
            Errno::INVAL => Self::Limit,
            Errno::NOMEM => Self::NoMemory,
            _ => Self::error(e),
        }
    }

    /// `e` as an error that stops the search, tersely: "free failed (ENOENT)".
    pub(crate) fn error(e: &OpError) -> Self {
        Self::Error(format!("{} failed ({})", e.what, e.errno_name()))
    }
}

/// How a search ended.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    /// `at` failed for `why`: the smallest size seen to fail, or for an
    /// error, where the search stopped.
    Failed { at: u64, why: Failure },
    /// The cap (or the last order) succeeded: nothing larger was tried.
    Cap,
}

/// What a search found.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The largest size (for orders, order) that succeeded, if any did.
    pub largest: Option<u64>,
    pub end: End,
    pub probes: u32,
}

/// The largest size in `1..=cap` that `probe` accepts: doubling from
/// `first` to the first failure, then bisecting to the byte between the
/// last success and the smallest failure. A [`Failure::Error`] ends the
/// search where it happened.
pub fn search_bytes(
    first: u64,
    cap: u64,
    mut probe: impl FnMut(u64) -> Result<(), Failure>,
) -> Found {
    let mut probes = 0;
    let mut run = |size| {
        probes += 1;
        probe(size)
    };
    let mut ok = None;
    let mut size = first.clamp(1, cap.max(1));
    let (mut fail, mut why) = loop {
        match run(size) {
            Ok(()) => {
                ok = Some(size);
                if size >= cap {
                    return Found {
                        largest: ok,
                        end: End::Cap,
                        probes,
                    };
                }
                size = size.saturating_mul(2).min(cap);
            }
            Err(why) => break (size, why),
        }
    };
    let mut lo = ok.unwrap_or(0);
    while !matches!(why, Failure::Error(_)) && fail - lo > 1 {
        let mid = lo + (fail - lo) / 2;
        match run(mid) {
            Ok(()) => lo = mid,
            Err(w) => (fail, why) = (mid, w),
        }
    }
    Found {
        largest: (lo > 0).then_some(lo),
        end: End::Failed { at: fail, why },
        probes,
    }
}

/// The largest order in `0..=last` that `probe` accepts, trying them in
/// turn up to the first failure.
pub fn search_orders(last: u32, mut probe: impl FnMut(u32) -> Result<(), Failure>) -> Found {
    let mut largest = None;
    for order in 0..=last {
        if let Err(why) = probe(order) {
            return Found {
                largest,
                end: End::Failed {
                    at: order.into(),
                    why,
                },
                probes: order + 1,
            };
        }
        largest = Some(order.into());
    }
    Found {
        largest,
        end: End::Cap,
        probes: last + 1,
    }
}

/// `found` of an order search, in bytes of `page`-sized pages.
pub(crate) fn orders_to_bytes(found: Found, page: u64) -> Found {
    let bytes = |order: u64| page.checked_shl(order as u32).unwrap_or(u64::MAX);
    Found {
        largest: found.largest.map(bytes),
        end: match found.end {
            End::Failed { at, why } => End::Failed { at: bytes(at), why },
            End::Cap => End::Cap,
        },
        probes: found.probes,
    }
}
