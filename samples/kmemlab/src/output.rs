// SPDX-License-Identifier: GPL-2.0

//! What commands print: a text for people and a JSON document (serde_json)
//! for `--json`. Every document the tool prints carries
//! `"schema_version": 1` as its first field.

use std::io::{self, Write};

pub use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The version of the tool's JSON documents.
pub const SCHEMA_VERSION: u64 = 1;

/// What a command produced: a text for people and an object for `--json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub text: String,
    pub json: Value,
}

impl Output {
    /// An output whose JSON object has `fields`, in order.
    pub fn new(text: String, fields: &[(&str, Value)]) -> Self {
        Self {
            text,
            json: fields_json(fields),
        }
    }

    /// The JSON document to print: the object with `schema_version` first.
    pub fn document(&self) -> Value {
        stamp(self.json.clone())
    }

    /// The output as printed: the text, or the JSON document on one line.
    pub fn render(&self, json: bool) -> String {
        if json {
            self.document().to_string()
        } else {
            self.text.clone()
        }
    }
}

/// An object with `fields`, in order.
pub fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// An object with `fields` (a slice of borrowed names), in order.
pub fn fields_json(fields: &[(&str, Value)]) -> Value {
    object(fields.iter().map(|(k, v)| (*k, v.clone())))
}

/// `v` with `"schema_version": 1` as its first field (a non-object is
/// wrapped as `{"schema_version":1,"value":v}`).
pub fn stamp(v: Value) -> Value {
    let mut out = Map::new();
    out.insert("schema_version".into(), SCHEMA_VERSION.into());
    match v {
        Value::Object(fields) => {
            for (k, v) in fields {
                if k != "schema_version" {
                    out.insert(k, v);
                }
            }
        }
        other => {
            out.insert("value".into(), other);
        }
    }
    Value::Object(out)
}

/// The JSON document of an error: `{"schema_version":1,"error":...,"exit_code":N}`.
pub fn error_document(message: &str, exit_code: u8) -> String {
    stamp(object([
        ("error", Value::from(message)),
        ("exit_code", Value::from(exit_code)),
    ]))
    .to_string()
}

/// Writes `bytes` to `out` and flushes. A closed pipe (the reader went
/// away, `kmemlab ... | head`) is not an error: the output counts as
/// written, so the tool ends with the status it would have had.
pub fn write_out(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Error::Failed(format!("writing the output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Prints `text` and a newline on standard output (see [`write_out`]).
pub fn print_line(text: &str) -> Result<()> {
    write_out(&mut io::stdout().lock(), format!("{text}\n").as_bytes())
}

/// Prints `kmemlab: MESSAGE` on standard error; a failed write is ignored
/// (there is nowhere left to report it).
pub fn note(message: &str) {
    let _ = writeln!(io::stderr().lock(), "kmemlab: {message}");
}

/// A fractional figure for `--json`: a number rounded to `digits` decimals,
/// `null` when it is not a number.
pub fn fixed(x: f64, digits: i32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let scale = 10f64.powi(digits);
    Value::from((x * scale).round() / scale)
}

/// `Some(v)` as a number, `None` as `null`.
pub fn opt_num(v: Option<u64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_carry_the_schema_version_first() {
        let out = Output::new("t".into(), &[("a", 1.into()), ("b", "x".into())]);
        assert_eq!(out.render(true), r#"{"schema_version":1,"a":1,"b":"x"}"#);
        assert_eq!(out.render(false), "t");
        assert_eq!(
            error_document("no \"device\"", 2),
            r#"{"schema_version":1,"error":"no \"device\"","exit_code":2}"#
        );
        assert_eq!(
            stamp(Value::from(3)).to_string(),
            r#"{"schema_version":1,"value":3}"#
        );
    }

    /// A writer whose reader went away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_not_an_error() {
        assert_eq!(write_out(&mut ClosedPipe, b"x\n"), Ok(()));
        let mut full: &mut [u8] = &mut [0u8; 1];
        let e = write_out(&mut full, b"xy").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.message().starts_with("writing the output: "), "{e}");
    }

    #[test]
    fn fractions_are_numbers_or_null() {
        assert_eq!(fixed(209.0, 3).to_string(), "209.0");
        assert_eq!(fixed(1.23456, 3), Value::from(1.235));
        assert_eq!(fixed(f64::NAN, 3), Value::Null);
        assert_eq!(fixed(f64::INFINITY, 1), Value::Null);
        assert_eq!(opt_num(None), Value::Null);
    }
}
