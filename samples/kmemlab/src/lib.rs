// SPDX-License-Identifier: GPL-2.0

//! The library behind the `kmemlab` tool: the ABI mirror, the device and
//! its typed ioctls, the commands, and what they read from debugfs and
//! /proc. The binary (`main.rs`) parses the command line and calls
//! [`dispatch`].

#[path = "../../../rust/uapi.rs"]
#[allow(dead_code)] // The ABI mirror is shared with the module; the tool uses part of it.
mod uapi;

#[cfg(test)]
mod abi_check;
mod bench;
pub mod cli;
mod commands;
mod device;
pub mod docs;
pub mod error;
mod limits;
mod names;
pub mod output;
mod plot;
pub mod script;
mod stats;
mod table;
pub mod units;

use cli::{Cli, Command};
use device::{Device, DeviceOps};
use error::{usage, Result};
use output::Output;

/// Prints one command's output in the chosen form.
fn print(out: &Output, json: bool) -> Result<()> {
    output::print_line(&out.render(json))
}

/// Checks a command line as far as it can be without the device (a
/// script's lines are checked when the script is read).
pub fn check(cli: &Cli) -> Result<()> {
    if !commands::needs_device(&cli.command) && cli.global.hold {
        return Err(usage(
            "--hold keeps objects of /dev/kmemlab alive: it is for device commands",
        ));
    }
    let json_refused = match &cli.command {
        Command::Top(_) => Some("top shows frames for people, not JSON: use stats --json"),
        Command::Completions { .. } => Some("completions prints shell code, not JSON"),
        _ => None,
    };
    if let Some(why) = json_refused.filter(|_| cli.global.json) {
        return Err(usage(format!("--json: {why}")));
    }
    commands::validate(&cli.command)
}

/// Runs a command that needs no device.
fn run_without_device(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Stats(a) => print(&stats::stats(a, cli.global.json)?, cli.global.json),
        Command::Bench(b) => print(&bench::without_device(b)?, cli.global.json),
        Command::Top(a) => stats::top::top(a),
        Command::Completions { shell } => docs::completions(*shell, &mut std::io::stdout()),
        Command::Docs { dir } => docs::write_all(dir),
        Command::ReadmeExamples { file } => docs::print_examples(file),
        Command::ReadmeReference => output::write_out(
            &mut std::io::stdout().lock(),
            docs::readme_reference().as_bytes(),
        ),
        _ => Err(usage("this command needs the device")),
    }
}

/// Runs one script line on `dev`; `json` is the tool's `--json`.
fn run_line(dev: &dyn DeviceOps, line: &script::Line, json: bool) -> Result<()> {
    let json = json || line.cli.global.json;
    let out = match &line.cli.command {
        Command::Stats(a) => stats::stats(a, json),
        cmd => commands::run(dev, cmd),
    };
    print(&out.map_err(|e| e.context(&line.at))?, json)
}

/// Keeps `dev` (and every object it owns) open until the process is interrupted.
fn hold(dev: Device) -> ! {
    output::note("holding the device open; interrupt (Ctrl-C) to release its objects");
    let _dev = dev;
    loop {
        std::thread::park();
    }
}

/// Runs a parsed command line: checks it whole, opens the device (checking
/// its ABI) when the command needs it, runs, and holds it with `--hold`.
pub fn dispatch(cli: &Cli) -> Result<()> {
    check(cli)?;
    if !commands::needs_device(&cli.command) {
        return run_without_device(cli);
    }
    let script = match &cli.command {
        Command::Script(s) => {
            let name = if s.file == "-" { "-" } else { s.file.as_str() };
            Some(script::parse(name, &script::read(&s.file)?)?)
        }
        _ => None,
    };
    let dev = Device::open(&cli.global.device_path())?;
    match &script {
        Some(lines) => {
            for line in lines {
                run_line(&dev, line, cli.global.json)?;
            }
        }
        None => print(&commands::run(&dev, &cli.command)?, cli.global.json)?,
    }
    if cli.global.hold {
        hold(dev);
    }
    Ok(())
}
