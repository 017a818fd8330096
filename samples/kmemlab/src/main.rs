// SPDX-License-Identifier: GPL-2.0

//! `kmemlab`: drive the kmemlab kernel module from the command line.
//!
//! Parses the command line (clap), runs it through the library and turns
//! the outcome into an exit status: 0 success, 1 failure, 2 usage error.
//! Under `--json` an error is a JSON document on standard output.

use std::process::ExitCode;

use kmemlab::error::EXIT_USAGE;
use kmemlab::{cli, dispatch, output, script};

/// Reports an error the way the command line asked: JSON on standard
/// output, or `kmemlab: MESSAGE` on standard error.
fn report(message: &str, code: u8, json: bool) -> ExitCode {
    if json {
        // On a closed standard output the status still tells the error.
        let _ = output::print_line(&output::error_document(message, code));
    } else {
        output::note(message);
    }
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(e) if e.exit_code() != i32::from(EXIT_USAGE) => {
            // --help and --version: not errors.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            if cli::json_requested(&args) {
                let words: Vec<String> = args
                    .iter()
                    .skip(1)
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                return report(&script::clap_message(&e, &words), EXIT_USAGE, true);
            }
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(e.message(), e.exit_code(), cli.global.json),
    }
}
