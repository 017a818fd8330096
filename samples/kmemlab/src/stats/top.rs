// SPDX-License-Identifier: GPL-2.0

//! `top`: the statistics every few seconds. On a terminal (crossterm: raw
//! mode, the alternate screen, key events) it redraws in place, and keys
//! change the sort (l live, b bytes, c created, r rate) or quit (q, Esc,
//! Ctrl-C); SIGTERM, SIGHUP, SIGINT and SIGQUIT also end it with the
//! terminal restored, and so does a panic.
//! Elsewhere it prints one frame after the other, a blank line apart.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use rustix::event::{PollFd, PollFlags, Timespec};

use super::text::caches_text;
use super::{caches_now, kind_counts, read_required, KindCounts, Table, STATS};
use crate::cli::{SortKey, TopArgs};
use crate::error::{Error, Result};
use crate::table::figures;
use crate::units::human_size;

/// One reading of the `stats` file.
pub(crate) struct Sample {
    pub(crate) at: Instant,
    pub(crate) kinds: Vec<KindCounts>,
}

/// Events a second between two readings of a counter `secs` apart; `None`
/// when it cannot be told (no time passed, or the counter went back: the
/// module was reloaded).
pub fn rate(before: u64, now: u64, secs: f64) -> Option<f64> {
    // CAST: display only.
    (now >= before && secs > 0.0).then(|| (now - before) as f64 / secs)
}

/// created/s and freed/s of each kind of `now` since `prev` (matched by kind).
pub(crate) fn rates(prev: Option<&Sample>, now: &Sample) -> Vec<(Option<f64>, Option<f64>)> {
    now.kinds
        .iter()
        .map(|k| {
            let Some(prev) = prev else {
                return (None, None);
            };
            let secs = now.at.saturating_duration_since(prev.at).as_secs_f64();
            match prev.kinds.iter().find(|p| p.kind == k.kind) {
                Some(p) => (
                    rate(p.created, k.created, secs),
                    rate(p.freed, k.freed, secs),
                ),
                None => (None, None),
            }
        })
        .collect()
}

/// The order to show the kinds in: indices into `kinds`.
pub(crate) fn sorted(
    kinds: &[KindCounts],
    rates: &[(Option<f64>, Option<f64>)],
    key: SortKey,
) -> Vec<usize> {
    let traffic = |i: usize| {
        let (c, f) = rates.get(i).copied().unwrap_or_default();
        c.unwrap_or(0.0) + f.unwrap_or(0.0)
    };
    let mut order: Vec<usize> = (0..kinds.len()).collect();
    // Stable: equal keys keep the ABI order.
    match key {
        SortKey::Live => order.sort_by_key(|&i| std::cmp::Reverse(kinds[i].live)),
        SortKey::Bytes => order.sort_by_key(|&i| std::cmp::Reverse(kinds[i].bytes)),
        SortKey::Created => order.sort_by_key(|&i| std::cmp::Reverse(kinds[i].created)),
        SortKey::Rate => order.sort_by(|&a, &b| traffic(b).total_cmp(&traffic(a))),
    }
    order
}

fn show_rate(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{r:.1}"))
}

fn sort_name(key: SortKey) -> &'static str {
    match key {
        SortKey::Live => "live",
        SortKey::Bytes => "bytes",
        SortKey::Created => "created",
        SortKey::Rate => "rate (created/s + freed/s)",
    }
}

/// One refresh of `top`, without escapes; ends with a newline.
fn frame(
    a: &TopArgs,
    sort: SortKey,
    now: &Sample,
    prev: Option<&Sample>,
    caches: &str,
    keys: bool,
) -> String {
    let r = rates(prev, now);
    let rows: Vec<Vec<String>> = sorted(&now.kinds, &r, sort)
        .into_iter()
        .map(|i| {
            let k = &now.kinds[i];
            vec![
                k.kind.clone(),
                k.live.to_string(),
                human_size(k.bytes),
                k.pages.to_string(),
                show_rate(r[i].0),
                show_rate(r[i].1),
                k.failed.to_string(),
            ]
        })
        .collect();
    let quit = if keys {
        "; keys l b c r sort, q quits"
    } else {
        ""
    };
    format!(
        "kmemlab top: every {}s, sorted by {}{quit}\n{}\n\n{}\n",
        a.interval.as_secs_f64(),
        sort_name(sort),
        figures(
            &[
                "kind",
                "live",
                "bytes",
                "pages",
                "created/s",
                "freed/s",
                "failed"
            ],
            &rows
        ),
        caches
    )
}

fn sample(dir: &Path) -> Result<Sample> {
    let t = Table::parse(&read_required(dir, "stats")?, &STATS)?;
    Ok(Sample {
        at: Instant::now(),
        kinds: kind_counts(&t),
    })
}

/// The terminal set up for `top`; dropping it puts everything back.
struct Terminal;

impl Terminal {
    fn enter(out: &mut impl Write) -> io::Result<Self> {
        // A panic puts the terminal back before its message is printed
        // (the message would be lost on the alternate screen).
        restore_on_panic(restore_terminal);
        terminal::enable_raw_mode()?;
        let guard = Self;
        execute!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
        Ok(guard)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Leaves raw mode and the alternate screen (harmless when not in them).
fn restore_terminal() {
    let mut out = io::stdout();
    let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
    let _ = terminal::disable_raw_mode();
}

/// Has a panic call `restore` before the panic hook in place prints.
fn restore_on_panic(restore: fn()) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// What a key asks for.
#[derive(Debug, PartialEq)]
enum Key {
    Quit,
    Sort(SortKey),
    Other,
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Key {
    match code {
        KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => Key::Quit,
        KeyCode::Char('q' | 'Q') | KeyCode::Esc => Key::Quit,
        KeyCode::Char('l') => Key::Sort(SortKey::Live),
        KeyCode::Char('b') => Key::Sort(SortKey::Bytes),
        KeyCode::Char('c') => Key::Sort(SortKey::Created),
        KeyCode::Char('r') => Key::Sort(SortKey::Rate),
        _ => Key::Other,
    }
}

/// How a wait between refreshes ended.
#[derive(Debug, PartialEq)]
enum Wait {
    Elapsed,
    Quit,
    Sort(SortKey),
}

/// Where `wait` takes keys from: crossterm's events on a terminal.
trait Keys {
    /// The next key already read and waiting (none when there is none).
    fn pending(&mut self) -> io::Result<Option<Key>>;
    /// Waits up to `d` for more input.
    fn input(&mut self, d: Duration) -> Input;
}

/// The terminal's keys, through crossterm.
struct TerminalKeys;

impl Keys for TerminalKeys {
    fn pending(&mut self) -> io::Result<Option<Key>> {
        while event::poll(Duration::ZERO)? {
            if let Event::Key(k) = event::read()? {
                if k.kind != KeyEventKind::Release {
                    return Ok(Some(key(k.code, k.modifiers)));
                }
            }
        }
        Ok(None)
    }

    fn input(&mut self, d: Duration) -> Input {
        stdin_ready(d)
    }
}

/// Waits `d`: for a key when `keys` is given, watching `stop` (a signal)
/// all along.
fn wait(d: Duration, mut keys: Option<&mut dyn Keys>, stop: &AtomicBool) -> Result<Wait> {
    let end = Instant::now() + d;
    let fail = |e: io::Error| Error::Failed(format!("reading the terminal: {e}"));
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Wait::Quit);
        }
        // First the keys crossterm has already read: several keys read at
        // once wait in its queue, and the terminal has nothing more to
        // show for them.
        if let Some(keys) = keys.as_deref_mut() {
            while let Some(k) = keys.pending().map_err(fail)? {
                match k {
                    Key::Quit => return Ok(Wait::Quit),
                    Key::Sort(s) => return Ok(Wait::Sort(s)),
                    Key::Other => {}
                }
            }
        }
        let now = Instant::now();
        if now >= end {
            return Ok(Wait::Elapsed);
        }
        let slice = (end - now).min(Duration::from_millis(100));
        let Some(keys) = keys.as_deref_mut() else {
            std::thread::sleep(slice);
            continue;
        };
        // Waited for here, not in crossterm: once the terminal hangs up,
        // crossterm's poll spins on end-of-file and never returns.
        if keys.input(slice) == Input::HangUp {
            return Ok(Wait::Quit);
        }
    }
}

/// What standard input (the terminal) has.
#[derive(Debug, PartialEq)]
enum Input {
    None,
    Ready,
    /// The terminal went away (its window closed).
    HangUp,
}

/// Waits up to `d` for standard input.
fn stdin_ready(d: Duration) -> Input {
    let stdin = io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: 0,
        // CAST: d is at most 100 ms.
        tv_nsec: d.subsec_nanos().into(),
    };
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(0) | Err(rustix::io::Errno::INTR) => Input::None,
        Ok(_)
            if fds[0]
                .revents()
                .intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) =>
        {
            Input::HangUp
        }
        Ok(_) => Input::Ready,
        Err(_) => Input::HangUp,
    }
}

/// Writes one frame: on a terminal (`tty`) in place of the last.
fn show(out: &mut impl Write, view: &str, tty: bool) -> io::Result<()> {
    if tty {
        // Raw mode: lines end with CR LF.
        queue!(
            out,
            terminal::Clear(terminal::ClearType::All),
            cursor::MoveTo(0, 0)
        )?;
        write!(out, "{}", view.replace('\n', "\r\n"))?;
    } else {
        writeln!(out, "{view}")?;
    }
    out.flush()
}

/// The refresh loop, writing frames to `out`; on a terminal (`tty`) each
/// frame replaces the last and keys are read.
pub(crate) fn top_loop(
    a: &TopArgs,
    out: &mut impl Write,
    tty: bool,
    stop: &AtomicBool,
) -> Result<()> {
    let mut prev: Option<Sample> = None;
    let mut terminal_keys = TerminalKeys;
    let mut sort = a.sort;
    let mut shown = 0u64;
    loop {
        let now = sample(&a.debugfs)?;
        let (caches, note) = caches_now(&a.debugfs)?;
        let view = frame(
            a,
            sort,
            &now,
            prev.as_ref(),
            &caches_text(&caches, note.as_deref()),
            tty,
        );
        match show(out, &view, tty) {
            Ok(()) => {}
            // The reader went away (`kmemlab top | head`): done.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Error::Failed(format!("writing the view: {e}"))),
        }
        shown += 1;
        if a.iterations.is_some_and(|n| shown >= n) {
            return Ok(());
        }
        let keys = if tty {
            Some(&mut terminal_keys as &mut dyn Keys)
        } else {
            None
        };
        match wait(a.interval, keys, stop)? {
            Wait::Quit => return Ok(()),
            Wait::Sort(s) => {
                // Redrawn at once with the rates of the same two samples.
                sort = s;
                continue;
            }
            Wait::Elapsed => prev = Some(now),
        }
    }
}

/// `top [--interval SECS] [--sort KEY] [--iterations N] [--debugfs DIR]`.
pub fn top(a: &TopArgs) -> Result<()> {
    // Fail before touching the terminal when nothing can be shown.
    sample(&a.debugfs)?;
    let stop = Arc::new(AtomicBool::new(false));
    // Any of them sent from outside (kill -INT: in raw mode the terminal
    // sends no SIGINT for Ctrl-C, that is a key) ends the loop, and the
    // terminal is put back.
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    for sig in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| Error::Failed(format!("catching signal {sig}: {e}")))?;
    }
    let mut stdout = io::stdout();
    if !stdout.is_terminal() || !io::stdin().is_terminal() {
        return top_loop(a, &mut stdout.lock(), false, &stop);
    }
    let term = Terminal::enter(&mut stdout)
        .map_err(|e| Error::Failed(format!("setting up the terminal: {e}")))?;
    let result = top_loop(a, &mut stdout.lock(), true, &stop);
    // Restored before the caller prints any error.
    drop(term);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_and_quit() {
        let none = KeyModifiers::NONE;
        assert_eq!(key(KeyCode::Char('q'), none), Key::Quit);
        assert_eq!(key(KeyCode::Esc, none), Key::Quit);
        assert_eq!(key(KeyCode::Char('c'), KeyModifiers::CONTROL), Key::Quit);
        assert_eq!(key(KeyCode::Char('c'), none), Key::Sort(SortKey::Created));
        assert_eq!(key(KeyCode::Char('b'), none), Key::Sort(SortKey::Bytes));
        assert_eq!(key(KeyCode::Char('r'), none), Key::Sort(SortKey::Rate));
        assert_eq!(key(KeyCode::Char('l'), none), Key::Sort(SortKey::Live));
        assert_eq!(key(KeyCode::Char('x'), none), Key::Other);
    }

    #[test]
    fn a_signal_ends_the_wait() {
        let stop = AtomicBool::new(true);
        assert_eq!(
            wait(Duration::from_secs(5), None, &stop).unwrap(),
            Wait::Quit
        );
        let go = AtomicBool::new(false);
        assert_eq!(
            wait(Duration::from_millis(1), None, &go).unwrap(),
            Wait::Elapsed
        );
    }

    /// Keys already read (crossterm's queue); the terminal has no more.
    struct Queued(Vec<Key>);

    impl Keys for Queued {
        fn pending(&mut self) -> io::Result<Option<Key>> {
            Ok((!self.0.is_empty()).then(|| self.0.remove(0)))
        }
        fn input(&mut self, d: Duration) -> Input {
            std::thread::sleep(d);
            Input::None
        }
    }

    #[test]
    fn keys_read_together_are_all_seen() {
        let go = AtomicBool::new(false);
        let mut keys = Queued(vec![
            Key::Other,
            Key::Sort(SortKey::Bytes),
            Key::Sort(SortKey::Rate),
            Key::Quit,
        ]);
        let long = Duration::from_secs(30);
        let mut next = || wait(long, Some(&mut keys), &go).unwrap();
        assert_eq!(next(), Wait::Sort(SortKey::Bytes));
        assert_eq!(next(), Wait::Sort(SortKey::Rate));
        assert_eq!(next(), Wait::Quit);
    }

    static RESTORED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[test]
    fn a_panic_restores_first() {
        restore_on_panic(|| {
            RESTORED.fetch_add(1, Ordering::SeqCst);
        });
        let r = std::panic::catch_unwind(|| panic!("test panic in top"));
        assert!(r.is_err());
        assert!(RESTORED.load(Ordering::SeqCst) >= 1);
    }
}
