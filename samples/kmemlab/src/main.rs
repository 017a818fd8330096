// SPDX-License-Identifier: GPL-2.0

//! `kmemlab`: drive the kmemlab kernel module from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

#[path = "../../../rust/uapi.rs"]
#[allow(dead_code)] // The ABI mirror is shared with the module; the tool uses part of it.
mod uapi;

#[cfg(test)]
mod abi_check;
mod device;
mod json;

use device::Device;
use json::Value;

const USAGE: &str = "\
usage: kmemlab [--json] [--device PATH] COMMAND

Drive the kmemlab kernel module through /dev/kmemlab.

commands:
  version     the module's ABI version, features and the CPUs and nodes it sees

options:
  --json          machine-readable output (one JSON object)
  --device PATH   the device node (default: /dev/kmemlab)
  -h, --help      this text
";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Args {
    json: bool,
    device: PathBuf,
    command: String,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut json = false;
    let mut device = PathBuf::from("/dev/kmemlab");
    let mut command = None;
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--json" => json = true,
            "--device" => device = argv.next().ok_or("--device needs a path")?.into(),
            s if s.starts_with("--device=") => device = s["--device=".len()..].into(),
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            s if command.is_none() => command = Some(s.to_string()),
            s => return Err(format!("unexpected argument '{s}'")),
        }
    }
    let command = command.ok_or("no command given")?;
    Ok(Some(Args {
        json,
        device,
        command,
    }))
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
    let result = match args.command.as_str() {
        "version" => Device::open(&args.device)
            .map_err(|e| e.to_string())
            .and_then(|dev| cmd_version(&dev, args.json)),
        other => {
            eprintln!("kmemlab: unknown command '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
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
        let a = parse(&["--json", "--device=/tmp/x", "version"])
            .unwrap()
            .unwrap();
        assert_eq!(
            a,
            Args {
                json: true,
                device: "/tmp/x".into(),
                command: "version".into()
            }
        );
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--bogus", "version"]).is_err());
        assert!(parse(&["version", "extra"]).is_err());
        assert!(parse(&["--device"]).is_err());
    }

    #[test]
    fn names_features_and_unknown_bits() {
        assert!(feature_names(0).is_empty());
        assert_eq!(
            feature_names(uapi::KMEMLAB_FEAT_KMALLOC | uapi::KMEMLAB_FEAT_PERCPU | (1 << 40)),
            vec!["kmalloc", "percpu", "0x10000000000"]
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
