// SPDX-License-Identifier: GPL-2.0

//! SVG plots of the benchmarks (`kmemlab bench standard --svg FILE`).
//!
//! [`svg`] is a pure function: series in, one standalone SVG document out.
//! The plot is a grid of small panels, one per allocator: x is the object size
//! in bytes on a log2 scale, y the nanoseconds per operation on a log10 scale
//! with decade ticks. Each series is one `<path>` with its markers; a
//! [`Style::Solid`] series (safe Rust) is a solid line with circles, a
//! [`Style::Dashed`] one (the raw-C baseline) a dashed line with squares. The
//! axes, grid and legend use `<line>` and `<rect>` only, so a document holds
//! exactly one `<path>` per series that has a point to show.

use std::fmt::Write;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// A solid line with circles.
    Solid,
    /// A dashed line with squares.
    Dashed,
}

impl Style {
    fn color(self) -> &'static str {
        match self {
            Style::Solid => "#b7410e",
            Style::Dashed => "#1f5fa8",
        }
    }

    /// The `stroke-dasharray` attribute, if any.
    fn dash(self) -> &'static str {
        match self {
            Style::Solid => "",
            Style::Dashed => r#" stroke-dasharray="6,4""#,
        }
    }

    /// A marker centred on (`x`, `y`); squares are hollow, so a circle under
    /// one (Rust and C alike) still shows.
    fn marker(self, out: &mut String, x: f64, y: f64) {
        let c = self.color();
        let _ = match self {
            Style::Solid => writeln!(out, r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{c}"/>"#),
            Style::Dashed => writeln!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="6" height="6" fill="none" stroke="{c}" stroke-width="1.5"/>"#,
                x - 3.0,
                y - 3.0
            ),
        };
    }
}

/// One line of a panel: (x, y) points in data units, drawn in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub(crate) label: String,
    pub(crate) style: Style,
    pub(crate) points: Vec<(f64, f64)>,
}

/// One panel: a title and its series.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Panel {
    pub(crate) title: String,
    pub(crate) series: Vec<Series>,
}

/// Escapes `s` for XML text and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Most labelled ticks on an axis; more exponents than this are thinned.
const MAX_TICKS: i32 = 6;

/// A logarithmic axis: `base^lo` to `base^hi` onto the pixels `from` to `to`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LogScale {
    base: f64,
    lo: i32,
    hi: i32,
    from: f64,
    to: f64,
}

impl LogScale {
    /// The smallest range of whole powers of `base` that holds every positive,
    /// finite value of `values`, at least one power wide (a single power `p` is
    /// shown as `p/base` to `p*base`, centred); `0..1` when there is none.
    pub(crate) fn covering(
        base: f64,
        values: impl IntoIterator<Item = f64>,
        from: f64,
        to: f64,
    ) -> Self {
        // Exponents within 1e-9 of a whole number are that number (log10(1000)).
        const EPS: f64 = 1e-9;
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
            let e = v.log(base);
            min = min.min(e);
            max = max.max(e);
        }
        let (mut lo, mut hi) = if min.is_finite() {
            // CAST: exponents of finite f64 values fit an i32 (|e| < 1100 for base 2).
            ((min + EPS).floor() as i32, (max - EPS).ceil() as i32)
        } else {
            (0, 1)
        };
        if hi <= lo {
            lo -= 1;
            hi = lo + 2;
        }
        Self {
            base,
            lo,
            hi,
            from,
            to,
        }
    }

    /// The pixel of value `v` (> 0).
    pub(crate) fn map(&self, v: f64) -> f64 {
        let t = (v.log(self.base) - f64::from(self.lo)) / f64::from(self.hi - self.lo);
        self.from + t * (self.to - self.from)
    }

    /// The exponents that get a labelled tick: every one, or every 2nd, 4th,
    /// 5th or 10th (multiples of the step) when there are more than [`MAX_TICKS`].
    pub(crate) fn ticks(&self) -> Vec<i32> {
        let span = self.hi - self.lo + 1;
        let step = [1, 2, 4, 5, 10, 20, 50, 100]
            .into_iter()
            .find(|s| span / s <= MAX_TICKS)
            .unwrap_or(span);
        (self.lo..=self.hi)
            .filter(|e| e.rem_euclid(step) == 0)
            .collect()
    }
}

/// A power of two as a byte count: 8, 512, 4K, 1M, 2G.
pub(crate) fn bytes_label(exp: i32) -> String {
    match exp {
        e if e < 0 => format!("1/{}", 1u64 << (-e).min(63)),
        e if e < 10 => (1u64 << e).to_string(),
        e if e < 20 => format!("{}K", 1u64 << (e - 10)),
        e if e < 30 => format!("{}M", 1u64 << (e - 20)),
        e if e < 40 => format!("{}G", 1u64 << (e - 30)),
        e => format!("2^{e}"),
    }
}

/// A power of ten: 0.01, 0.1, 1, 10, 100, 1k, 10k, 100k, 1M, ... 1e12.
pub(crate) fn decade_label(exp: i32) -> String {
    match exp {
        e if e < -3 => format!("1e{e}"),
        e if e < 0 => format!("{}", 10f64.powi(e)),
        e if e < 3 => 10u64.pow(e.unsigned_abs()).to_string(),
        e if e < 6 => format!("{}k", 10u64.pow((e - 3).unsigned_abs())),
        e if e < 9 => format!("{}M", 10u64.pow((e - 6).unsigned_abs())),
        e => format!("1e{e}"),
    }
}

// Layout, in pixels.
const PANEL_W: f64 = 300.0;
const PANEL_H: f64 = 220.0;
/// Plot area within a panel: left (y labels), top (title), right, bottom (x labels).
const PAD_L: f64 = 52.0;
const PAD_T: f64 = 26.0;
const PAD_R: f64 = 14.0;
const PAD_B: f64 = 38.0;
const MARGIN: f64 = 16.0;
const HEADER_H: f64 = 78.0;
const MAX_COLS: usize = 4;

/// The series to show in the legend: each (label, style) once, in order of appearance.
fn legend_entries(panels: &[Panel]) -> Vec<(&str, Style)> {
    let mut seen: Vec<(&str, Style)> = Vec::new();
    for s in panels.iter().flat_map(|p| &p.series) {
        if !seen.iter().any(|(l, st)| *l == s.label && *st == s.style) {
            seen.push((&s.label, s.style));
        }
    }
    seen
}

/// Draws one panel, its top left corner at (`x`, `y`).
fn panel(out: &mut String, p: &Panel, x: f64, y: f64, x_label: &str, y_label: &str) {
    let (left, top) = (PAD_L, PAD_T);
    let (right, bottom) = (PANEL_W - PAD_R, PANEL_H - PAD_B);
    let shown = |s: &Series| -> Vec<(f64, f64)> {
        s.points
            .iter()
            .copied()
            .filter(|(a, b)| a.is_finite() && *a > 0.0 && b.is_finite() && *b > 0.0)
            .collect()
    };
    let all: Vec<(f64, f64)> = p.series.iter().flat_map(shown).collect();
    let xs = LogScale::covering(2.0, all.iter().map(|p| p.0), left, right);
    let ys = LogScale::covering(10.0, all.iter().map(|p| p.1), bottom, top);

    let _ = writeln!(
        out,
        r#"<g class="panel" transform="translate({x:.1},{y:.1})">"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="16" text-anchor="middle" font-weight="bold">{}</text>"#,
        (left + right) / 2.0,
        escape(&p.title)
    );
    let _ = writeln!(out, r##"<g class="grid" stroke="#ddd">"##);
    for e in xs.ticks() {
        let px = xs.map(xs.base.powi(e));
        let _ = writeln!(
            out,
            r#"<line x1="{px:.1}" y1="{top:.1}" x2="{px:.1}" y2="{bottom:.1}"/>"#
        );
    }
    for e in ys.ticks() {
        let py = ys.map(ys.base.powi(e));
        let _ = writeln!(
            out,
            r#"<line x1="{left:.1}" y1="{py:.1}" x2="{right:.1}" y2="{py:.1}"/>"#
        );
    }
    let _ = writeln!(out, "</g>");
    let _ = writeln!(
        out,
        r##"<rect x="{left:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
        right - left,
        bottom - top
    );
    let _ = writeln!(out, r##"<g class="ticks" fill="#333" font-size="10">"##);
    for e in xs.ticks() {
        let px = xs.map(xs.base.powi(e));
        let _ = writeln!(
            out,
            r#"<text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 15.0,
            escape(&bytes_label(e))
        );
    }
    for e in ys.ticks() {
        let py = ys.map(ys.base.powi(e));
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 4.0,
            py + 3.5,
            escape(&decade_label(e))
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (left + right) / 2.0,
        bottom + 30.0,
        escape(x_label)
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(12,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (top + bottom) / 2.0,
        escape(y_label)
    );
    let _ = writeln!(out, "</g>");
    for s in &p.series {
        let pts = shown(s);
        if pts.is_empty() {
            continue;
        }
        let d: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                let cmd = if i == 0 { 'M' } else { 'L' };
                format!("{cmd}{:.1},{:.1}", xs.map(a), ys.map(b))
            })
            .collect();
        let _ = writeln!(
            out,
            r#"<path d="{}" fill="none" stroke="{}" stroke-width="1.8"{}><title>{}</title></path>"#,
            d.join(" "),
            s.style.color(),
            s.style.dash(),
            escape(&s.label)
        );
        for &(a, b) in &pts {
            s.style.marker(out, xs.map(a), ys.map(b));
        }
    }
    let _ = writeln!(out, "</g>");
}

/// An SVG document: `title` and `subtitle` on top, a legend, then `panels` in
/// a grid (at most four a row); the axes are labelled `x_label` and `y_label`.
pub(crate) fn svg(
    title: &str,
    subtitle: &str,
    x_label: &str,
    y_label: &str,
    panels: &[Panel],
) -> String {
    let cols = panels.len().clamp(1, MAX_COLS);
    let rows = panels.len().div_ceil(cols).max(1);
    // CAST: a handful of panels.
    let width = MARGIN * 2.0 + PANEL_W * cols as f64;
    let height = HEADER_H + PANEL_H * rows as f64 + MARGIN;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r#"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{MARGIN:.0}" y="24" font-size="16" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        out,
        r##"<text x="{MARGIN:.0}" y="43" fill="#555">{}</text>"##,
        escape(subtitle)
    );
    let _ = writeln!(
        out,
        r#"<g class="legend" transform="translate({MARGIN:.0},60)">"#
    );
    let mut lx = 0.0;
    for (label, style) in legend_entries(panels) {
        let _ = writeln!(
            out,
            r#"<line x1="{lx:.1}" y1="0" x2="{:.1}" y2="0" stroke="{}" stroke-width="1.8"{}/>"#,
            lx + 28.0,
            style.color(),
            style.dash()
        );
        style.marker(&mut out, lx + 14.0, 0.0);
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="4">{}</text>"#,
            lx + 34.0,
            escape(label)
        );
        // CAST: a label's length, for spacing only.
        lx += 60.0 + 6.5 * label.chars().count() as f64;
    }
    let _ = writeln!(out, "</g>");
    for (i, p) in panels.iter().enumerate() {
        // CAST: a handful of panels.
        let x = MARGIN + PANEL_W * (i % cols) as f64;
        let y = HEADER_H + PANEL_H * (i / cols) as f64;
        panel(&mut out, p, x, y, x_label, y_label);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn log_scales_map_endpoints() {
        let x = LogScale::covering(2.0, [8.0, 1048576.0], 10.0, 250.0);
        assert_eq!((x.lo, x.hi), (3, 20));
        assert!(close(x.map(8.0), 10.0) && close(x.map(1048576.0), 250.0));
        // The midpoint of the exponents is the midpoint of the pixels.
        assert!(close(x.map(2f64.powf(11.5)), 130.0));

        // y runs upwards: the bottom pixel is the small end.
        let y = LogScale::covering(10.0, [12.0, 3400.0], 200.0, 20.0);
        assert_eq!((y.lo, y.hi), (1, 4));
        assert!(close(y.map(10.0), 200.0) && close(y.map(10000.0), 20.0));
        assert!(close(y.map(100.0), 140.0));

        // Exact powers stay their own decade; a lone power is centred.
        let y = LogScale::covering(10.0, [1000.0, 100.0], 0.0, 1.0);
        assert_eq!((y.lo, y.hi), (2, 3));
        let one = LogScale::covering(2.0, [8.0], 0.0, 100.0);
        assert_eq!((one.lo, one.hi), (2, 4));
        assert!(close(one.map(8.0), 50.0));
        // Nothing positive: a default range, no panic.
        let none = LogScale::covering(10.0, [0.0, -1.0, f64::NAN], 0.0, 1.0);
        assert_eq!((none.lo, none.hi), (0, 1));
    }

    #[test]
    fn ticks_are_thinned_and_labelled() {
        let x = LogScale::covering(2.0, [8.0, 1048576.0], 0.0, 1.0);
        assert_eq!(x.ticks(), vec![4, 8, 12, 16, 20]);
        let v = LogScale::covering(2.0, [4096.0, 65536.0], 0.0, 1.0);
        assert_eq!(v.ticks(), vec![12, 13, 14, 15, 16]);
        let labels: Vec<String> = [3, 12, 16, 20, 30].map(bytes_label).to_vec();
        assert_eq!(labels, ["8", "4K", "64K", "1M", "1G"]);
        let labels: Vec<String> = [-1, 0, 2, 3, 7].map(decade_label).to_vec();
        assert_eq!(labels, ["0.1", "1", "100", "1k", "10M"]);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"a<b & "c" 'd'>"#),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("x\u{1}y"), "x y");
    }

    fn series(label: &str, style: Style, points: &[(f64, f64)]) -> Series {
        Series {
            label: label.into(),
            style,
            points: points.to_vec(),
        }
    }

    #[test]
    fn document_has_a_path_per_series_and_balanced_groups() {
        let panels = vec![
            Panel {
                title: "kmalloc".into(),
                series: vec![
                    series("Rust", Style::Solid, &[(8.0, 100.0), (64.0, 120.0)]),
                    series("raw C", Style::Dashed, &[(8.0, 95.0), (64.0, 118.0)]),
                ],
            },
            Panel {
                title: "percpu <8 & more>".into(),
                series: vec![
                    series("Rust", Style::Solid, &[(8.0, 900.0)]),
                    series("raw C", Style::Dashed, &[(8.0, 880.0)]),
                ],
            },
            Panel {
                title: "nothing to show".into(),
                series: vec![series("Rust", Style::Solid, &[(8.0, 0.0)])],
            },
        ];
        let doc = svg("Title & co", "Linux 6.1 <test>", "bytes", "ns/op", &panels);
        assert!(doc.starts_with("<svg"));
        assert!(doc.trim_end().ends_with("</svg>"));
        assert_eq!(doc.matches("<path").count(), 4);
        assert_eq!(doc.matches("</path>").count(), 4);
        assert_eq!(doc.matches("<g ").count(), doc.matches("</g>").count());
        assert_eq!(doc.matches("<text").count(), doc.matches("</text>").count());
        assert!(doc.contains("Title &amp; co") && doc.contains("Linux 6.1 &lt;test&gt;"));
        assert!(doc.contains("percpu &lt;8 &amp; more&gt;"));
        assert!(!doc.contains("<8 &"));
        // Circles for the solid series, squares for the dashed one, one legend entry each.
        assert_eq!(doc.matches("stroke-dasharray").count(), 2 + 1);
        assert_eq!(doc.matches("<circle").count(), 3 + 1);
        assert_eq!(legend_entries(&panels).len(), 2);
        // Three panels: one row of three.
        assert!(doc.contains(r#"width="932""#));
    }
}
