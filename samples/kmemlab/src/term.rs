// SPDX-License-Identifier: GPL-2.0

//! The terminal for `top`: keys without Enter or echo, a hidden cursor, and
//! everything put back on every way out (return, error, panic, SIGINT,
//! SIGTERM, SIGHUP).
//!
//! std has no termios, so the terminal modes are set by running `stty` on
//! it (saved with `stty -g`, restored from that): no structure layouts to
//! get right per architecture and C library. Signals are caught with the C
//! library's `signal()`, whose handler only records the signal; the refresh
//! loop sees it within 0.1 s and returns, and the guard's drop restores the
//! terminal.

use std::ffi::c_int;
use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};

const SIGHUP: c_int = 1;
const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
/// `SIG_IGN` as `signal()` takes and returns it.
const SIG_IGN: usize = 1;

extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
}

/// The last signal caught, 0 for none.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: c_int) {
    // Async-signal-safe: one atomic store.
    CAUGHT.store(sig, Ordering::SeqCst);
}

/// The signal that asked `top` to stop, if one came.
pub fn stop_signal() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Catches SIGINT, SIGTERM and SIGHUP, except a signal that was ignored
/// when the tool started (a shell starts background jobs with SIGINT
/// ignored): that one stays ignored.
fn catch_signals() {
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // SAFETY: `on_signal` is an `extern "C" fn(c_int)` that only stores to
        // an atomic, which is safe in a signal handler; SIG_IGN is a valid
        // disposition.
        unsafe {
            if signal(sig, on_signal as extern "C" fn(c_int) as usize) == SIG_IGN {
                signal(sig, SIG_IGN);
            }
        }
    }
}

/// Runs `stty ARGS` on standard input (the terminal); its output when it worked.
fn stty(args: &[&str]) -> Option<String> {
    let out = Command::new("stty")
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The terminal set up for `top`; dropping it puts everything back.
pub struct Terminal {
    /// `stty -g` of the terminal before, when keys are read from it.
    saved: Option<String>,
}

impl Terminal {
    /// Catches the quitting signals, hides the cursor and, when standard
    /// input is a terminal `stty` can set, reads keys without Enter or echo
    /// (a read returns after at most 0.1 s without a key).
    pub fn enter() -> Self {
        catch_signals();
        let saved = if io::stdin().is_terminal() {
            stty(&["-g"]).filter(|saved| {
                !saved.is_empty() && stty(&["-icanon", "-echo", "min", "0", "time", "1"]).is_some()
            })
        } else {
            None
        };
        let mut out = io::stdout();
        let _ = write!(out, "\x1b[?25l");
        let _ = out.flush();
        Self { saved }
    }

    /// Keys can be read from standard input without blocking.
    pub fn reads_keys(&self) -> bool {
        self.saved.is_some()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let mut out = io::stdout();
        let _ = write!(out, "\x1b[?25h");
        let _ = out.flush();
        if let Some(saved) = &self.saved {
            if stty(&[saved]).is_none() {
                // Whatever happened to the saved modes, leave a usable terminal.
                let _ = stty(&["sane"]);
            }
        }
    }
}
