// SPDX-License-Identifier: GPL-2.0

//! `kmemlab`: drive the kmemlab kernel module from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

#[path = "../../../rust/uapi.rs"]
#[allow(dead_code)] // The ABI mirror is shared with the module; the tool uses part of it.
mod uapi;

#[cfg(test)]
mod abi_check;
mod bench;
mod commands;
mod device;
mod json;
mod limits;
mod plot;
mod stats;
mod term;

use device::Device;
use json::Value;

const USAGE: &str = "\
usage: kmemlab [--json] [--device PATH] [--hold] COMMAND [ARGS...]
       kmemlab [--json] [--device PATH] [--hold] script [FILE|-]
       kmemlab [--json] stats [--percpu] [--objects] [--debugfs DIR]
       kmemlab top [--interval SECS] [--sort KEY] [--iterations N] [--debugfs DIR]

Drive the kmemlab kernel module through /dev/kmemlab. Objects belong to the
open device file and are freed when the tool exits: run several commands on
one file with `script`, and keep them alive with --hold. `stats` and `top`
read debugfs and need no device (in a script, `stats` shows the script's own
objects live).

commands:
  version                       ABI version, features, online CPUs and NUMA nodes
  alloc KIND [SIZE|--size N] [--order N] [--node N] [--cache H] [--count N]
             [--gfp kernel|atomic|nowait] [--zero] [--nowarn] [--noretry] [--account]
                                KIND: kmalloc, kmem_cache, free_pages, pages_node,
                                vmalloc, dma (dma_coherent), percpu
  alloc dma SIZE [--device faux|edu] [--count N]
                                coherent DMA memory for a device (default faux)
  alloc percpu [--count N]      a u64 counter per CPU
  free HANDLE... | free --all
  write HANDLE [--offset N] (--string TEXT | --hex HEX)
  read HANDLE [--offset N] [--len N]
  fill HANDLE --seed S [--offset N] [--len N]
  verify HANDLE --seed S [--offset N] [--len N]
  info HANDLE
  list
  cache create NAME --size N [--align N] [--hwcache-align] [--ctor]
  cache destroy HANDLE
  cache list                    every kmemlab-* cache in /proc/slabinfo
  ioremap edu | ioremap phys ADDR SIZE
                                map edu's registers or a physical range
  mmio read HANDLE OFFSET [--width 1|2|4|8]
  mmio write HANDLE OFFSET VALUE [--width 1|2|4|8]
                                one access to an ioremap object (width 4)
  dma copy SRC DST LEN [--src-offset N] [--dst-offset N]
                                edu's DMA engine copies between two edu objects
  dma roundtrip [--size N] [--seed S]
                                fill, DMA copy and verify two edu objects (4096)
  percpu add HANDLE VALUE [--cpu N]
                                add on this CPU (prints it) or on CPU N
  percpu read HANDLE            every CPU's value and the sum
  limits [--json] [--cap BYTES]
                                the largest allocation each allocator grants on this
                                kernel (allocated and freed at once), beside the
                                classic table; vmalloc only up to a safety cap: the
                                quota, MemAvailable/2 or BYTES, the lowest
  script [FILE|-]               one command per line ('#' comments), on one open file
  stats [--json] [--percpu] [--objects] [--debugfs DIR]
                                the module's statistics (debugfs, default DIR
                                /sys/kernel/debug/kmemlab) and its slab caches
                                with /proc/slabinfo's figures; --percpu and
                                --objects add those tables; --json prints
                                stats.json plus the slabinfo rows
  top [--interval SECS] [--sort live|bytes|created|rate] [--iterations N]
      [--debugfs DIR]           live view of the statistics every SECS (1);
                                rate: created/s + freed/s; q or Ctrl-C quits;
                                N refreshes then exits (no redraw when stdout
                                is not a terminal)
  bench run [--op alloc|percpu-inc|atomic-inc] [--kind KIND] [--size N]
            [--order N] [--node N] [--device faux|edu] [--batch K]
            [--threads N|all] [--iterations N] [--raw-c] [--no-stats]
                                one in-kernel timed run (default kmalloc 64,
                                Rust, statistics on, 10000 samples): ns/op,
                                cycles/op, aggregate ops/s
  bench standard [--iterations N] [--rounds R] [--quick] [--svg FILE]
                 [--subtitle TEXT]
                                safe Rust against raw C for every allocator
                                over a size sweep, batches, scaling with
                                threads, the ioctl path, statistics cost, and a
                                summary against the targets; --svg plots the
                                sweep; --quick: tiny runs of a reduced sweep
  bench smoke [--iterations N]  tiny runs of every op and kind, checked to be
                                well-formed (fails listing the malformed ones)
  bench stats-cost [--iterations N] [--size N] [--rounds R]
                                kmem_cache pairs with statistics on and off

options:
  --json          machine-readable output (one JSON object per command)
  --device PATH   the device node (default: /dev/kmemlab)
  --hold          keep the device open after the commands until interrupted
  -h, --help      this text

Numbers take 0x hex and k/m/g suffixes. Exit status: 0 success, 1 failure,
2 usage error.
";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Args {
    json: bool,
    hold: bool,
    device: PathBuf,
    command: Vec<String>,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut json = false;
    let mut hold = false;
    let mut device = PathBuf::from("/dev/kmemlab");
    let mut command = Vec::new();
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--json" => json = true,
            "--hold" => hold = true,
            "--device" => device = argv.next().ok_or("--device needs a path")?.into(),
            s if s.starts_with("--device=") => device = s["--device=".len()..].into(),
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            s => {
                command.push(s.to_string());
                command.extend(argv.by_ref());
            }
        }
    }
    if command.is_empty() {
        return Err("no command given".into());
    }
    Ok(Some(Args {
        json,
        hold,
        device,
        command,
    }))
}

/// Prints a command's output in the chosen form.
fn print(out: &commands::Output, json: bool) {
    if json {
        println!("{}", out.json);
    } else {
        println!("{}", out.text);
    }
}

/// Runs the commands of a script (`-`: standard input) on one open device.
fn run_script(dev: &Device, path: &str, json: bool) -> Result<(), String> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("reading stdin: {e}"))?
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        run_one(dev, &words, json).map_err(|e| format!("{path}:{}: {e}", n + 1))?;
    }
    Ok(())
}

/// Runs one command line of a script and prints its output.
fn run_one(dev: &Device, words: &[String], json: bool) -> Result<(), String> {
    match words[0].as_str() {
        "stats" => stats::stats(&words[1..], json).map(|out| println!("{out}")),
        "top" => Err("top is interactive: run it on its own, not in a script".into()),
        _ => commands::run(dev, words).map(|out| print(&out, json)),
    }
}

/// Runs `stats` or `top`, which read debugfs and need no device.
fn run_debugfs_command(args: &Args) -> ExitCode {
    if args.hold {
        eprintln!("kmemlab: --hold keeps objects of /dev/kmemlab alive: it is for device commands\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let words = &args.command[1..];
    let result = match args.command[0].as_str() {
        "stats" => stats::stats(words, args.json).map(|out| println!("{out}")),
        _ => stats::top(words),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kmemlab: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Keeps `dev` (and every object it owns) open until the process is interrupted.
fn hold(dev: Device) -> ! {
    eprintln!("kmemlab: holding /dev/kmemlab open; interrupt (Ctrl-C) to release its objects");
    let _dev = dev;
    loop {
        std::thread::park();
    }
}

/// The names of the feature bits set in `bits`, plus any unknown bits as hex.
fn feature_names(bits: u64) -> Vec<String> {
    let mut names: Vec<String> = uapi::FEATURE_NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| name.to_string())
        .collect();
    let known = uapi::FEATURE_NAMES
        .iter()
        .fold(0, |acc, (bit, _)| acc | bit);
    if bits & !known != 0 {
        names.push(format!("{:#x}", bits & !known));
    }
    names
}

fn cmd_version(dev: &Device, json: bool) -> Result<(), String> {
    let v = dev.version().map_err(|e| e.to_string())?;
    let names = feature_names(v.features);
    if json {
        println!(
            "{}",
            json::object(&[
                ("abi_version", Value::Num(v.abi_version.into())),
                (
                    "tool_abi_version",
                    Value::Num(uapi::KMEMLAB_ABI_VERSION.into())
                ),
                ("features", Value::Num(v.features)),
                (
                    "feature_names",
                    Value::List(names.into_iter().map(Value::Str).collect())
                ),
                ("nr_cpus", Value::Num(v.nr_cpus.into())),
                ("nr_nodes", Value::Num(v.nr_nodes.into())),
            ])
        );
    } else {
        println!("module ABI:  {}", v.abi_version);
        println!("tool ABI:    {}", uapi::KMEMLAB_ABI_VERSION);
        let shown = if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(" ")
        };
        println!("features:    {:#x} {shown}", v.features);
        println!("online CPUs: {}", v.nr_cpus);
        println!("NUMA nodes:  {}", v.nr_nodes);
    }
    if v.abi_version != uapi::KMEMLAB_ABI_VERSION {
        return Err(format!(
            "the module speaks ABI {} but this tool was built for ABI {}: rebuild one of them",
            v.abi_version,
            uapi::KMEMLAB_ABI_VERSION
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kmemlab: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if matches!(args.command[0].as_str(), "stats" | "top") {
        return run_debugfs_command(&args);
    }
    let dev = match Device::open(&args.device) {
        Ok(dev) => dev,
        Err(e) => {
            eprintln!("kmemlab: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.command[0].as_str() {
        "version" => cmd_version(&dev, args.json),
        "script" => match args.command.get(1..) {
            Some([path]) => run_script(&dev, path, args.json),
            Some([]) => run_script(&dev, "-", args.json),
            _ => {
                eprintln!("kmemlab: script takes one FILE (or -)\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => commands::run(&dev, &args.command).map(|out| print(&out, args.json)),
    };
    if result.is_ok() && args.hold {
        hold(dev);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kmemlab: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Result<Option<Args>, String> {
        parse_args(s.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options_and_command() {
        let a = parse(&[
            "--json",
            "--device=/tmp/x",
            "alloc",
            "kmalloc",
            "--size",
            "64",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            a,
            Args {
                json: true,
                hold: false,
                device: "/tmp/x".into(),
                command: vec![
                    "alloc".into(),
                    "kmalloc".into(),
                    "--size".into(),
                    "64".into()
                ],
            }
        );
        assert!(parse(&["--hold", "script"]).unwrap().unwrap().hold);
        // After the command, --device is the command's (alloc dma --device edu).
        let a = parse(&["alloc", "dma", "4k", "--device", "edu"])
            .unwrap()
            .unwrap();
        assert_eq!(a.device, PathBuf::from("/dev/kmemlab"));
        assert_eq!(a.command[3..], ["--device", "edu"]);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--bogus", "version"]).is_err());
        assert!(parse(&["--device"]).is_err());
    }

    #[test]
    fn names_features_and_unknown_bits() {
        assert!(feature_names(0).is_empty());
        assert_eq!(
            feature_names(uapi::KMEMLAB_FEAT_KMALLOC | uapi::KMEMLAB_FEAT_PERCPU | (1 << 40)),
            vec!["kmalloc", "percpu", "0x10000000000"]
        );
        assert_eq!(
            feature_names(
                uapi::KMEMLAB_FEAT_DMA_COHERENT
                    | uapi::KMEMLAB_FEAT_IOREMAP
                    | uapi::KMEMLAB_FEAT_EDU
                    | uapi::KMEMLAB_FEAT_STATS
            ),
            vec!["dma_coherent", "ioremap", "edu", "stats"]
        );
    }

    #[test]
    fn missing_device_is_explained() {
        let e = Device::open(std::path::Path::new("/nonexistent/kmemlab"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("not loaded") || e.to_string().contains("devtmpfs"));
    }
}
