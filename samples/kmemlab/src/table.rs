// SPDX-License-Identifier: GPL-2.0

//! The tool's one table renderer: columns two spaces apart, each left- or
//! right-aligned, cells wrapped at spaces to a column's maximum width,
//! optionally a rule under the header and a blank line between rows. No
//! line has trailing spaces, and the table has no trailing newline.

/// How a column's cells are aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One column: its header, the widest it may be (cells wrap beyond), and
/// its alignment.
#[derive(Clone, Copy, Debug)]
pub struct Column<'a> {
    pub name: &'a str,
    pub max: usize,
    pub align: Align,
}

/// How the rows are set apart.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// A rule of dashes under the header.
    pub rule: bool,
    /// A blank line between rows.
    pub spaced: bool,
}

/// The words of `text`, a size kept with its unit ("8 KiB" is one word).
fn words(text: &str) -> Vec<String> {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "KB", "MB"];
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let unit = word.trim_end_matches(|c: char| c.is_ascii_punctuation());
        match words.last_mut() {
            Some(last) if UNITS.contains(&unit) && last.ends_with(|c: char| c.is_ascii_digit()) => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    words
}

/// `text` broken into lines of at most `width` characters, at spaces where
/// it can be (a longer word is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words(text) {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(&word);
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line.extend(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays `rows` out under `columns`.
pub fn render(columns: &[Column<'_>], rows: &[Vec<String>], style: Style) -> String {
    let cell_lines = |cell: &str, max: usize| -> Vec<String> {
        if cell.chars().count() <= max {
            vec![cell.to_string()]
        } else {
            wrap(cell, max)
        }
    };
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, col)| {
            std::iter::once(col.name)
                .chain(rows.iter().filter_map(|r| r.get(i).map(String::as_str)))
                .flat_map(|cell| cell_lines(cell, col.max))
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0)
                .min(col.max)
        })
        .collect();
    let render_row = |cells: &[String]| -> Vec<String> {
        let wrapped: Vec<Vec<String>> = columns
            .iter()
            .enumerate()
            .map(|(i, col)| {
                cell_lines(
                    cells.get(i).map_or("", String::as_str),
                    widths[i].max(1).min(col.max),
                )
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(0);
        (0..height)
            .map(|n| {
                let line: Vec<String> = wrapped
                    .iter()
                    .zip(columns.iter().zip(&widths))
                    .map(|(lines, (col, &w))| {
                        let cell = lines.get(n).map_or("", String::as_str);
                        match col.align {
                            Align::Left => format!("{cell:<w$}"),
                            Align::Right => format!("{cell:>w$}"),
                        }
                    })
                    .collect();
                line.join("  ").trim_end().to_string()
            })
            .collect()
    };
    let head: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
    let mut out = render_row(&head);
    if style.rule {
        out.push(
            widths
                .iter()
                .map(|&w| "-".repeat(w))
                .collect::<Vec<_>>()
                .join("  "),
        );
    }
    for (i, row) in rows.iter().enumerate() {
        if i > 0 && style.spaced {
            out.push(String::new());
        }
        out.extend(render_row(row));
    }
    out.join("\n")
}

/// A table of figures: the first column and names (`kind`, `name`)
/// left-aligned, the others (numbers) right-aligned, nothing wrapped.
pub fn figures(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns: Vec<Column<'_>> = header
        .iter()
        .enumerate()
        .map(|(i, name)| Column {
            name,
            max: usize::MAX,
            align: if i == 0 || matches!(*name, "kind" | "name") {
                Align::Left
            } else {
                Align::Right
            },
        })
        .collect();
    render(&columns, rows, Style::default())
}

/// A table of prose: left-aligned columns wrapped at `widths`, a rule under
/// the header and a blank line between rows.
pub fn prose(header: &[&str], widths: &[usize], rows: &[Vec<String>]) -> String {
    let columns: Vec<Column<'_>> = header
        .iter()
        .zip(widths)
        .map(|(name, &max)| Column {
            name,
            max,
            align: Align::Left,
        })
        .collect();
    render(
        &columns,
        rows,
        Style {
            rule: true,
            spaced: true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_cells() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a abcdefghij b", 4), ["a", "abcd", "efgh", "ij b"]);
        // A size stays with its unit.
        assert_eq!(wrap("up to 8 KiB, then", 10), ["up to", "8 KiB,", "then"]);
    }

    #[test]
    fn prose_columns_within_their_widths() {
        let t = prose(
            &["a", "bb"],
            &[3, 10],
            &[
                vec!["x".into(), "one two three four".into()],
                vec!["yyyyy".into(), "z".into()],
            ],
        );
        assert_eq!(
            t,
            "a    bb\n---  ----------\nx    one two\n     three four\n\nyyy  z\nyy"
        );
    }

    #[test]
    fn figures_right_aligned() {
        let t = figures(
            &["kind", "live", "bytes"],
            &[
                vec!["kmalloc".into(), "3".into(), "1.50 KiB".into()],
                vec!["percpu".into(), "12".into(), "0 B".into()],
            ],
        );
        assert_eq!(
            t,
            "kind     live     bytes\nkmalloc     3  1.50 KiB\npercpu     12       0 B"
        );
    }
}
