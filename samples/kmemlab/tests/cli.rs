// SPDX-License-Identifier: GPL-2.0

//! The built `kmemlab` binary, run without the module: parsing, help,
//! exit statuses (0, 1 runtime, 2 usage) and JSON errors.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the tool with `args` (and `stdin`, if any).
fn kmemlab(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmemlab"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kmemlab");
    let input = stdin.unwrap_or("").to_string();
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(input.as_bytes()).expect("write stdin");
    drop(pipe);
    child.wait_with_output().expect("kmemlab output")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit status")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A device node that does not exist.
const NONE: &str = "/nonexistent/kmemlab";

#[test]
fn help_works_without_the_module() {
    let o = kmemlab(&["alloc", "--help"], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Usage: kmemlab alloc"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("--dma-device"), "{}", stdout(&o));
    let o = kmemlab(&["bench", "run", "-h"], None);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("Usage: kmemlab bench run"));
    let o = kmemlab(&["--help"], None);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("Exit status: 0 success, 1 failure, 2 usage error"));
}

#[test]
fn version_flag() {
    let o = kmemlab(&["--version"], None);
    assert_eq!(code(&o), 0);
    assert_eq!(
        stdout(&o).trim(),
        format!("kmemlab {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["stats", "--bogus"],
        &["alloc", "kmalloc", "notanumber"],
        &["alloc"],
        &[],
        &["free", "1", "--all"],
        &["--device"],
        &["alloc", "kmalloc", "64", "--count", "0", "--device", NONE],
        &[
            "mmio", "write", "1", "0", "0x10000", "--width", "2", "--device", NONE,
        ],
        // Found before the device is opened.
        &[
            "bench",
            "run",
            "--kind",
            "kmem_cache",
            "--size",
            "8g",
            "-d",
            NONE,
        ],
        &["alloc", "kmem_cache", "-d", NONE],
        &["alloc", "kmalloc", "64", "--cache", "1", "-d", NONE],
        &["alloc", "vmalloc", "4k", "--order", "1", "-d", NONE],
        &["alloc", "kvmalloc", "4k", "--order", "1", "-d", NONE],
        &["alloc", "kmalloc", "64", "--gfp", "highmem", "-d", NONE],
        // A mempool element needs its pool; --pool is for mempool only.
        &["alloc", "mempool", "--gfp", "atomic", "-d", NONE],
        &["alloc", "kmalloc", "64", "--pool", "1", "-d", NONE],
        // mempool create: exactly one source, and a reserve of 1 to 1024.
        &["mempool", "create", "--min", "4", "-d", NONE],
        &[
            "mempool",
            "create",
            "--kmalloc",
            "64",
            "--cache",
            "1",
            "--min",
            "4",
            "-d",
            NONE,
        ],
        &["mempool", "create", "--kmalloc", "64", "-d", NONE],
        &[
            "mempool",
            "create",
            "--kmalloc",
            "64",
            "--min",
            "0",
            "-d",
            NONE,
        ],
        &[
            "mempool", "create", "--cache", "1", "--min", "1025", "-d", NONE,
        ],
        &["mempool", "status", "-d", NONE],
        &["mempool", "-d", NONE],
        // dma-pool create: a name of a-z, 0-9, _ and -, and a block size.
        &["dma-pool", "create", "--name", "a", "-d", NONE],
        &[
            "dma-pool", "create", "--name", "No", "--size", "64", "-d", NONE,
        ],
        &["dma-pool", "status", "-d", NONE],
        // A DMA pool's block needs its pool; --pool is for the pool kinds.
        &["alloc", "dma_pool", "-d", NONE],
        &["alloc", "vmalloc", "4k", "--pool", "1", "-d", NONE],
        &[
            "cache",
            "create",
            "c",
            "--size",
            "8",
            "--dma=yes",
            "-d",
            NONE,
        ],
        // --json where the output is not a document.
        &["top", "--json", "--debugfs", "/nonexistent"],
        &["completions", "bash", "--json"],
    ] {
        let o = kmemlab(args, None);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).is_empty() || !stdout(&o).is_empty(),
            "{args:?}: no message"
        );
    }
}

#[test]
fn runtime_errors_exit_1() {
    let o = kmemlab(&["alloc", "kmalloc", "64", "--device", NONE], None);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("kmemlab: "), "{}", stderr(&o));
    assert!(stderr(&o).contains(NONE), "{}", stderr(&o));
    // GFP combinations are the module's to refuse: they get as far as the device.
    let o = kmemlab(
        &[
            "alloc", "kmalloc", "64", "--dma", "--dma32", "--gfp", "highuser", "--device", NONE,
        ],
        None,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains(NONE), "{}", stderr(&o));
    let o = kmemlab(&["version", "-d", NONE], None);
    assert_eq!(code(&o), 1);
    // A well-formed mempool command gets as far as the device; so does a
    // mempool element with a GFP base the module refuses (kernel, the default).
    for args in [
        &[
            "mempool",
            "create",
            "--kmalloc",
            "64",
            "--min",
            "16",
            "-d",
            NONE,
        ][..],
        &["mempool", "status", "1", "-d", NONE],
        &["mempool", "destroy", "1", "-d", NONE],
        &["alloc", "mempool", "--pool", "1", "-d", NONE],
        // So do the DMA pool's: a size, alignment or boundary the module
        // refuses is the module's to refuse.
        &[
            "dma-pool", "create", "--name", "a", "--size", "0", "--align", "3", "-d", NONE,
        ],
        &["dma-pool", "status", "1", "-d", NONE],
        &["dma-pool", "destroy", "1", "-d", NONE],
        &[
            "alloc", "dma_pool", "--pool", "1", "--gfp", "highuser", "-d", NONE,
        ],
    ] {
        let o = kmemlab(args, None);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(NONE), "{args:?}: {}", stderr(&o));
    }
    let o = kmemlab(&["stats", "--debugfs", "/nonexistent/debugfs"], None);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot read /nonexistent/debugfs/stats"));
}

#[test]
fn a_node_that_is_not_kmemlab_fails_at_the_open() {
    // /dev/null answers no ioctl: the ABI check on open says so, for every
    // device command.
    for args in [
        &["version"][..],
        &["list"],
        &["alloc", "kmalloc", "64"],
        &["limits"],
    ] {
        let mut argv = args.to_vec();
        argv.extend(["--device", "/dev/null"]);
        let o = kmemlab(&argv, None);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("not a kmemlab device (or a kmemlab module of another ABI)"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn json_errors_are_documents() {
    let o = kmemlab(
        &["--json", "alloc", "kmalloc", "64", "--device", NONE],
        None,
    );
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("JSON on stdout");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["exit_code"], 1);
    assert!(v["error"].as_str().is_some_and(|e| e.contains(NONE)), "{v}");
    // Options after the command, and a usage error under --json.
    let o = kmemlab(&["alloc", "kmalloc", "x", "--json"], None);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("JSON on stdout");
    assert_eq!(
        (v["schema_version"].as_u64(), v["exit_code"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("not a number")),
        "{v}"
    );
}

#[test]
fn options_after_the_command() {
    // Accepted (then the missing device is the failure, not the command line).
    for args in [
        &["alloc", "kmalloc", "64", "--json", "--device", NONE][..],
        &["list", "--hold", "-d", NONE],
        &["limits", "--cap", "64M", "--json", "--device", NONE],
    ] {
        let o = kmemlab(args, None);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn scripts_are_checked_before_the_device_is_opened() {
    let good =
        "alloc kmalloc 64\nwrite 1 --string \"a b#c\" # comment\nwrite 1 --string a#b\nversion\n";
    let o = kmemlab(&["script", "-", "--device", NONE], Some(good));
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains(NONE), "{}", stderr(&o));
    let bad = "alloc kmalloc 64\nread 1 --len notanumber\n";
    let o = kmemlab(&["script", "-", "--device", NONE], Some(bad));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("kmemlab: -:2: "), "{}", stderr(&o));
    let o = kmemlab(
        &["script", "-", "--device", NONE],
        Some("write 1 --string \"open\n"),
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("-:1: unclosed quote"), "{}", stderr(&o));
    let o = kmemlab(&["script", "/nonexistent/script.km"], None);
    assert_eq!(code(&o), 1);
}

#[test]
fn completions_and_docs() {
    let o = kmemlab(&["completions", "bash"], None);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("kmemlab"));
    let o = kmemlab(&["completions", "tcsh"], None);
    assert_eq!(code(&o), 2);
}

/// Runs the tool with `args` and a standard output whose reader is gone.
fn kmemlab_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = rustix::pipe::pipe().expect("pipe");
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_kmemlab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run kmemlab")
}

#[test]
fn a_closed_stdout_is_no_panic() {
    // The error document cannot be written: the status still says it.
    let o = kmemlab_closed_stdout(&["--json", "version", "-d", NONE]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    // Output that cannot be written counts as written.
    for args in [
        &["completions", "bash"][..],
        &["readme-reference"],
        &["stats", "--debugfs", "/nonexistent"],
    ] {
        let o = kmemlab_closed_stdout(args);
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert_ne!(code(&o), 101, "{args:?}");
    }
    assert_eq!(code(&kmemlab_closed_stdout(&["completions", "bash"])), 0);
    assert_eq!(code(&kmemlab_closed_stdout(&["readme-reference"])), 0);
}

/// The module's `stats` file, enough for `top`.
const STATS_TEXT: &str = "\
kind live created freed failed enomem einval enodev other bytes pages hwm_bytes alloc_ns
kmalloc 2 10 8 1 0 1 0 0 20000 8 40000 1234
";

#[test]
fn top_ends_on_sigint_and_sigquit() {
    let dir = std::env::temp_dir().join(format!("kmemlab-cli-top-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stats"), STATS_TEXT).unwrap();
    for sig in ["-INT", "-QUIT"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kmemlab"))
            .args(["top", "--interval", "30", "--debugfs"])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kmemlab top");
        // Its first frame: the handlers are in place by then.
        let mut first = [0u8; 12];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        let killed = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{sig}: {:?} {}",
            o.status,
            stderr(&o)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_and_missing_subcommands_in_a_script() {
    for (script, message) in [
        (
            "cache\n",
            "kmemlab: -:1: kmemlab cache needs a subcommand: one of create, destroy",
        ),
        (
            "mempool\n",
            "kmemlab: -:1: kmemlab mempool needs a subcommand: one of create, destroy, status",
        ),
        (
            "list\ncache --help\n",
            "kmemlab: -:2: help is not available in a script: run kmemlab cache --help",
        ),
        (
            "--version\n",
            "kmemlab: -:1: the version is not available in a script: run kmemlab --version",
        ),
    ] {
        let o = kmemlab(&["script", "-", "-d", NONE], Some(script));
        assert_eq!(code(&o), 2, "{script}: {}", stderr(&o));
        assert!(stderr(&o).starts_with(message), "{script}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{script}: {}", stdout(&o));
    }
}

#[test]
fn json_usage_errors_follow_the_parsed_flag() {
    let o = kmemlab(&["-jd", "/x", "frob"], None);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("JSON on stdout");
    assert_eq!(v["exit_code"], 2);
    // --json is the text of --string here, not the flag.
    let o = kmemlab(&["write", "x", "--string", "--json"], None);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(stderr(&o).contains("not a number"), "{}", stderr(&o));
    let o = kmemlab(&["--json", "cache"], None);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("JSON on stdout");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("kmemlab cache needs a subcommand: one of create")),
        "{v}"
    );
}

/// A `bench standard --json` document of one allocator point, no
/// statistics and no scaling, with the ioctl path's ratio `ioctl`.
fn standard_document(ratio_best: f64, ioctl: f64) -> String {
    format!(
        r#"{{"schema_version":1,"benchmark":"standard","rust_vs_c":[{{"kind":"kmalloc","points":[{{"bytes":64,"ratio_best":{ratio_best}}}]}}],"stats_cost":null,"ioctl":{{"ratio_batch_vs_pairs":{ioctl}}},"scaling":[]}}"#
    )
}

#[test]
fn bench_placements_needs_no_device() {
    let dir = std::env::temp_dir().join(format!("kmemlab-cli-placements-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    std::fs::write(&a, standard_document(1.01, 1.2)).unwrap();
    std::fs::write(&b, standard_document(1.05, 1.4)).unwrap();
    let a = format!("0={}", a.display());
    let b = format!("832={}", b.display());
    let o = kmemlab(&["bench", "placements", &a, &b, "-d", NONE], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("kmemlab bench placements: 2 placements of the same code"),
        "{text}"
    );
    assert!(
        text.contains("\nrust/C kmalloc: worst 1.030 (median of 2 placements) at 64 bytes (target <= 1.03): met\n"),
        "{text}"
    );
    let o = kmemlab(&["--json", "bench", "placements", &a, &b], None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(
            r#"{"schema_version":1,"benchmark":"placements","placements":["0","832"],"rows":["#
        ),
        "{}",
        stdout(&o)
    );
    // A file it cannot read: exit 1; a usage error: exit 2, --hold too.
    let missing = format!("1={}", dir.join("missing.json").display());
    let o = kmemlab(&["bench", "placements", &a, &missing], None);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("kmemlab: cannot read "),
        "{}",
        stderr(&o)
    );
    for args in [
        &["bench", "placements", a.as_str()][..],
        &["bench", "placements", a.as_str(), "b.json"],
        &["bench", "placements", a.as_str(), b.as_str(), "--hold"],
    ] {
        let o = kmemlab(args, None);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
