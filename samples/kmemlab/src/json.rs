// SPDX-License-Identifier: GPL-2.0

//! A minimal JSON object writer for `--json` output.

use std::fmt::Write;

/// A JSON value the tool emits.
#[derive(Clone)]
pub enum Value {
    Num(u64),
    Int(i64),
    Bool(bool),
    Str(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Appends `s` as a JSON string literal.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn value(out: &mut String, v: &Value) {
    match v {
        Value::Num(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Str(s) => quote(out, s),
        Value::Object(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quote(out, k);
                out.push(':');
                value(out, v);
            }
            out.push('}');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value(out, item);
            }
            out.push(']');
        }
    }
}

/// Renders an object with the given fields, in order.
pub fn object(fields: &[(&str, Value)]) -> String {
    let mut out = String::new();
    let owned = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    value(&mut out, &Value::Object(owned));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_values_and_escapes() {
        let s = object(&[
            ("n", Value::Num(42)),
            ("s", Value::Str("a\"b\\c\n\u{1}".into())),
            (
                "l",
                Value::List(vec![Value::Str("x".into()), Value::Num(1)]),
            ),
        ]);
        assert_eq!(s, r#"{"n":42,"s":"a\"b\\c\n\u0001","l":["x",1]}"#);
    }
}
