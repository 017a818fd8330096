// SPDX-License-Identifier: GPL-2.0

//! Numbers on the command line and sizes for people: the tool's one parser
//! of sizes (decimal, `0x` hex, `k`/`m`/`g` binary suffixes) and its one
//! formatter of bytes and durations.

/// Parses a number: decimal, `0x` hex, or with a `k`/`m`/`g` (binary) suffix.
pub fn number(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is not a number (decimal, 0x hex, k/m/g suffixes)");
    let (digits, shift) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n = if let Some(hex) = digits.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).map_err(|_| bad())?
    } else {
        digits.parse::<u64>().map_err(|_| bad())?
    };
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// [`number`], as a 32-bit value.
pub fn number_u32(s: &str) -> Result<u32, String> {
    u32::try_from(number(s)?).map_err(|_| format!("'{s}' is too large (at most {})", u32::MAX))
}

/// [`number`], at least 1.
pub fn positive(s: &str) -> Result<u64, String> {
    match number(s)? {
        0 => Err(format!("'{s}' must be at least 1")),
        n => Ok(n),
    }
}

/// `n` bytes for people: exact multiples as "4 MiB", others with two
/// decimals ("1.50 KiB").
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut unit = 0;
    while unit + 1 < UNITS.len() && n >> (10 * (unit + 2)) != 0 {
        unit += 1;
    }
    let scale = 1u64 << (10 * (unit + 1));
    if n % scale == 0 {
        format!("{} {}", n / scale, UNITS[unit])
    } else {
        // CAST: display only.
        format!("{:.2} {}", n as f64 / scale as f64, UNITS[unit])
    }
}

/// Signed bytes (a per-CPU net change), as [`human_size`] with a sign.
pub fn human_signed_size(n: i64) -> String {
    let s = human_size(n.unsigned_abs());
    if n < 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// Nanoseconds with a unit: "850 ns", "1.2 us", "3.4 ms", "2.50 s".
pub fn human_ns(n: u64) -> String {
    // CAST: display only.
    let f = n as f64;
    match n {
        0..=999 => format!("{n} ns"),
        1_000..=999_999 => format!("{:.1} us", f / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} ms", f / 1e6),
        _ => format!("{:.2} s", f / 1e9),
    }
}

/// The order of `bytes` of `page`-sized pages (`bytes` a power-of-two multiple).
pub fn order_of(bytes: u64, page: u64) -> u32 {
    (bytes / page.max(1)).trailing_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_hex_and_suffixes() {
        assert_eq!(number("42").unwrap(), 42);
        assert_eq!(number("0x10").unwrap(), 16);
        assert_eq!(number("4k").unwrap(), 4096);
        assert_eq!(number("2M").unwrap(), 2 << 20);
        assert_eq!(number("1g").unwrap(), 1 << 30);
        assert!(number("x").is_err());
        assert!(number("").is_err());
        assert!(number("99999999999999999999g").is_err());
        assert!(number_u32("4g").is_err());
        assert!(positive("0").is_err());
        assert_eq!(positive("0x1").unwrap(), 1);
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(128 << 10), "128 KiB");
        assert_eq!(human_size(4 << 20), "4 MiB");
        assert_eq!(human_size(1 << 30), "1 GiB");
        assert_eq!(human_size(1536), "1.50 KiB");
        assert_eq!(human_size((2 << 20) + (2 << 20) / 4), "2.50 MiB");
        assert_eq!(human_size(u64::MAX), "16.00 EiB");
        assert_eq!(human_signed_size(-2048), "-2 KiB");
        assert_eq!(human_signed_size(i64::MIN), "-8 EiB");
        assert_eq!(order_of(4 << 20, 4096), 10);
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(human_ns(999), "999 ns");
        assert_eq!(human_ns(1234), "1.2 us");
        assert_eq!(human_ns(3_400_000), "3.4 ms");
        assert_eq!(human_ns(2_500_000_000), "2.50 s");
    }
}
