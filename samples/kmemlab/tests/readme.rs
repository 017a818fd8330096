// SPDX-License-Identifier: GPL-2.0

//! The README against the tool's clap definition: its command reference is
//! the tool's `--help` of every command, and every `kmemlab ...` example
//! (and every line of an example script) parses and passes the checks
//! made before the device is opened.

use std::path::PathBuf;

use kmemlab::docs;

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md")
}

fn readme() -> String {
    std::fs::read_to_string(readme_path()).expect("read README.md")
}

#[test]
fn command_reference_is_current() {
    let text = readme();
    let want = docs::readme_reference();
    let want = want.trim_end();
    let have = docs::reference_in(&text).expect("the README has no reference markers");
    if have == want {
        return;
    }
    if std::env::var_os("KMEMLAB_UPDATE_README").is_some() {
        std::fs::write(readme_path(), text.replacen(have, want, 1)).expect("write README.md");
        return;
    }
    panic!(
        "the README's command reference differs from the tool's --help: regenerate it with \
         `scripts/sysroot-run env KMEMLAB_UPDATE_README=1 cargo test --manifest-path \
         samples/kmemlab/Cargo.toml --test readme` (or paste the output of `kmemlab \
         readme-reference`, which `make tool-docs` writes to build/tool-docs/reference.md)"
    );
}

#[test]
fn every_example_parses_and_passes_the_checks() {
    let text = readme();
    let examples = docs::readme_examples(&text);
    assert!(examples.len() >= 10, "only {} examples", examples.len());
    for line in &examples {
        if let Err(e) = docs::parse_example(line) {
            panic!("README example `{line}` is refused before the device opens: {e}");
        }
    }
}

#[test]
fn every_example_script_line_parses() {
    let text = readme();
    let mut scripts = 0;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if !(t.starts_with("kmemlab ") && t.contains(" script - <<'EOF'")) {
            continue;
        }
        scripts += 1;
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "EOF").collect();
        let body = body.join("\n");
        if let Err(e) = kmemlab::script::parse("README", &body) {
            panic!("a README script does not parse: {e}\n{body}");
        }
    }
    assert!(scripts >= 5, "only {scripts} scripts");
}
