// SPDX-License-Identifier: GPL-2.0

//! `kmemlab script FILE|-`: commands, one a line, run on one open device.
//!
//! A line is split into words as a shell would (shlex: single and double
//! quotes, backslash escapes; `#` starts a comment only at the start of a
//! word) and parsed by the tool's own clap definition. Every line is parsed
//! before the device is opened, so a usage error anywhere in the script
//! (exit 2, naming FILE:LINE) runs nothing.

use crate::cli::{self, Cli, Command};
use crate::error::{usage, Error, Result};

/// One parsed line of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Where it came from: `FILE:LINE`.
    pub at: String,
    pub cli: Cli,
}

/// The words of one script line, or why it cannot be split (an unclosed quote).
pub fn split(line: &str) -> Result<Vec<String>, String> {
    shlex::split(line).ok_or_else(|| "unclosed quote or trailing backslash".to_string())
}

/// Reads a script: `-` is standard input.
pub fn read(path: &str) -> Result<String> {
    if path == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Error::Failed(format!("reading standard input: {e}")))
    } else {
        std::fs::read_to_string(path).map_err(|e| Error::Failed(format!("reading {path}: {e}")))
    }
}

/// Parses every line of `text` (read from `name`, `-` for standard input).
pub fn parse(name: &str, text: &str) -> Result<Vec<Line>> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        let words = split(line).map_err(|e| usage(format!("{at}: {e}")))?;
        if words.is_empty() {
            continue;
        }
        let cli = cli::parse(std::iter::once("kmemlab".to_string()).chain(words.clone()))
            .map_err(|e| usage(format!("{at}: {}", line_message(&e, &words))))?;
        let bad = match &cli.command {
            Command::Script(_) => Some("a script cannot run a script"),
            Command::Top(_) => Some("top is interactive: run it on its own, not in a script"),
            Command::Completions { .. }
            | Command::Docs { .. }
            | Command::ReadmeReference
            | Command::ReadmeExamples { .. } => Some("not a command for a script"),
            _ if cli.global.device.is_some() || cli.global.hold => Some(
                "--device and --hold belong on the tool's command line, not on a script's line",
            ),
            _ => None,
        };
        if let Some(why) = bad {
            return Err(usage(format!("{at}: {why}")));
        }
        crate::commands::validate(&cli.command).map_err(|e| e.context(&at))?;
        lines.push(Line { at, cli });
    }
    Ok(lines)
}

/// clap's message of an error on the command line `words` (without the
/// program's name), on one line and without its "error: ".
pub fn clap_message(e: &clap::Error, words: &[String]) -> String {
    use clap::error::ErrorKind;
    let path = cli::command_path(words);
    let name = command_name(&path);
    match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let subs = cli::subcommands_of(&path);
            if subs.is_empty() {
                format!("{name} needs arguments: see {name} --help")
            } else {
                format!("{name} needs a subcommand: one of {}", subs.join(", "))
            }
        }
        ErrorKind::DisplayHelp => format!("help: run {name} --help"),
        ErrorKind::DisplayVersion => "version: run kmemlab --version".to_string(),
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("").trim();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    }
}

/// `kmemlab cache create` of the path `["cache", "create"]`.
fn command_name(path: &[String]) -> String {
    std::iter::once("kmemlab")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The message of a script line's error: help and version are not
/// available there.
fn line_message(e: &clap::Error, words: &[String]) -> String {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp => format!(
            "help is not available in a script: run {} --help",
            command_name(&cli::command_path(words))
        ),
        ErrorKind::DisplayVersion => {
            "the version is not available in a script: run kmemlab --version".to_string()
        }
        _ => clap_message(e, words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split("write 1 --string \"a b#c\"").unwrap(),
            ["write", "1", "--string", "a b#c"]
        );
        assert_eq!(
            split("write 1 --string 'x \"y\"'").unwrap(),
            ["write", "1", "--string", "x \"y\""]
        );
        assert_eq!(
            split("write 1 --string a#b").unwrap(),
            ["write", "1", "--string", "a#b"]
        );
        assert_eq!(
            split("verify 1 --seed 7 # a comment").unwrap(),
            ["verify", "1", "--seed", "7"]
        );
        assert_eq!(split("# only a comment").unwrap(), Vec::<String>::new());
        assert_eq!(split("   ").unwrap(), Vec::<String>::new());
        assert_eq!(split("a\\ b c").unwrap(), ["a b", "c"]);
        assert!(split("write 1 --string \"open").is_err());
    }

    #[test]
    fn parses_every_line_first() {
        let lines = parse(
            "t.km",
            "alloc kmalloc 64\n\n# comment\nwrite 1 --string 'a b'  # c\nversion\nstats --percpu\n",
        )
        .unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1].at, "t.km:4");
        assert!(
            matches!(&lines[1].cli.command, Command::Write(w) if w.string.as_deref() == Some("a b"))
        );
        assert!(parse("t", "version --json\n").unwrap()[0].cli.global.json);
        for (bad, at) in [
            ("version\nalloc kmalloc notanumber\n", "t:2: "),
            ("frobnicate\n", "t:1: "),
            ("list\nwrite 1 --string \"x\n", "t:2: "),
            ("top\n", "t:1: top is interactive"),
            ("script -\n", "t:1: a script cannot"),
            ("list --device /dev/null\n", "t:1: --device and --hold"),
            ("alloc ioremap\n", "t:1: invalid value 'ioremap'"),
            (
                "cache --help\n",
                "t:1: help is not available in a script: run kmemlab cache --help",
            ),
            (
                "version\ncache create -h\n",
                "t:2: help is not available in a script: run kmemlab cache create --help",
            ),
            (
                "--version\n",
                "t:1: the version is not available in a script: run kmemlab --version",
            ),
            (
                "cache\n",
                "t:1: kmemlab cache needs a subcommand: one of create, destroy",
            ),
        ] {
            let e = parse("t", bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().starts_with(at), "{bad}: {e}");
        }
    }
}
