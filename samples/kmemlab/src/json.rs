// SPDX-License-Identifier: GPL-2.0

//! Minimal JSON: a writer for `--json` output, and a reader for the
//! documents the module writes (debugfs `stats.json`).
//!
//! The reader takes standard JSON except numbers with a fraction or an
//! exponent, which nothing kmemlab reads has: integers become [`Value::Num`]
//! (0 to `u64::MAX`) or [`Value::Int`] (negative).

use std::fmt::Write;

/// A JSON value the tool emits or reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
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
        Value::Null => out.push_str("null"),
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

/// Renders any value.
pub fn render(v: &Value) -> String {
    let mut out = String::new();
    value(&mut out, v);
    out
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

impl Value {
    /// The value of field `key`, for an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }
}

/// Deepest nesting the reader accepts (it recurses once per level).
const MAX_DEPTH: usize = 64;

/// Parses one JSON document (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Value, String> {
    let mut r = Reader {
        s: text.as_bytes(),
        at: 0,
    };
    let v = r.value(0)?;
    r.blanks();
    if r.at != r.s.len() {
        return Err(r.error("trailing characters after the document"));
    }
    Ok(v)
}

/// The reader's position in the text.
struct Reader<'a> {
    s: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> String {
        // Where, as people count: line and column of the offending byte.
        let before = &self.s[..self.at.min(self.s.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!("JSON line {line} column {column}: {what}")
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `b` (after blanks) or fails.
    fn expect(&mut self, b: u8) -> Result<(), String> {
        self.blanks();
        if self.peek() != Some(b) {
            return Err(self.error(&format!("expected '{}'", b as char)));
        }
        self.at += 1;
        Ok(())
    }

    /// Consumes `word` (true, false, null) and returns `v`.
    fn word(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if !self.s[self.at..].starts_with(word.as_bytes()) {
            return Err(self.error("unknown literal"));
        }
        self.at += word.len();
        Ok(v)
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.blanks();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.list(depth),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of the document")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut fields = Vec::new();
        self.blanks();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(fields));
        }
        loop {
            self.blanks();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a field name"));
            }
            let key = self.string()?;
            self.expect(b':')?;
            fields.push((key, self.value(depth + 1)?));
            self.blanks();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(fields));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn list(&mut self, depth: usize) -> Result<Value, String> {
        self.at += 1;
        let mut items = Vec::new();
        self.blanks();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.blanks();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::List(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .s
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("bad \\u escape"))?;
        self.at += 4;
        Ok(u32::from_str_radix(digits, 16).unwrap_or(0))
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character.
            let start = self.at;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.at += 1;
            }
            // The input is a str and the run stops at ASCII bytes: valid UTF-8.
            out.push_str(std::str::from_utf8(&self.s[start..self.at]).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.error("bad escape")),
                    };
                    self.at += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// The character of a `\uXXXX` escape (after the `u`), with its low
    /// surrogate escape when it is a high one.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let hi = self.hex4()?;
        let code = match hi {
            0xd800..=0xdbff => {
                if !self.s[self.at..].starts_with(b"\\u") {
                    return Err(self.error("lone high surrogate"));
                }
                self.at += 2;
                let lo = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&lo) {
                    return Err(self.error("bad low surrogate"));
                }
                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.error("lone low surrogate")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error("bad \\u escape"))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let digits = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let magnitude = &self.s[digits..self.at];
        if magnitude.is_empty() || (magnitude.len() > 1 && magnitude[0] == b'0') {
            return Err(self.error("bad number"));
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(self.error("numbers with a fraction or an exponent are not supported"));
        }
        // Sign and digits only: ASCII.
        let text = std::str::from_utf8(&self.s[start..self.at]).unwrap_or_default();
        let parsed = if digits > start {
            // With the sign, so that i64::MIN fits; -0 is 0.
            text.parse::<i64>()
                .map(|n| if n == 0 { Value::Num(0) } else { Value::Int(n) })
                .ok()
        } else {
            text.parse().map(Value::Num).ok()
        };
        parsed.ok_or_else(|| self.error(&format!("{text} does not fit 64 bits")))
    }
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

    #[test]
    fn reads_what_it_writes() {
        let v = Value::Object(vec![
            ("n".into(), Value::Num(u64::MAX)),
            ("i".into(), Value::Int(i64::MIN)),
            ("s".into(), Value::Str("a\"b\\c\n\u{1}é€😀".into())),
            (
                "l".into(),
                Value::List(vec![Value::Bool(true), Value::Bool(false), Value::Null]),
            ),
            ("o".into(), Value::Object(vec![])),
            ("e".into(), Value::List(vec![])),
        ]);
        assert_eq!(parse(&render(&v)).unwrap(), v);
    }

    #[test]
    fn reads_the_module_documents() {
        let doc = "{\"version\": 1,\n \"kinds\": [\n  {\"kind\": \"kmalloc\", \"live\": 2, \
                   \"bytes\": 128}],\n \"percpu\": [\n  {\"cpu\": 1, \"bytes\": -64}],\n \
                   \"objects\": []}\n";
        let v = parse(doc).unwrap();
        assert_eq!(v.get("version").and_then(Value::as_u64), Some(1));
        let kinds = v.get("kinds").and_then(Value::as_list).unwrap();
        assert_eq!(
            kinds[0].get("kind").and_then(Value::as_str),
            Some("kmalloc")
        );
        assert_eq!(kinds[0].get("bytes"), Some(&Value::Num(128)));
        let percpu = v.get("percpu").and_then(Value::as_list).unwrap();
        assert_eq!(percpu[0].get("bytes"), Some(&Value::Int(-64)));
        assert_eq!(percpu[0].get("bytes").and_then(Value::as_u64), None);
        assert_eq!(v.get("objects").and_then(Value::as_list), Some(&[][..]));
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::Num(1).get("x"), None);
    }

    #[test]
    fn reads_escapes_and_numbers() {
        assert_eq!(
            parse(r#""\u00e9\ud83d\ude00\/\b\f\r\t""#).unwrap(),
            Value::Str("é😀/\u{8}\u{c}\r\t".into())
        );
        assert_eq!(parse(" -0 ").unwrap(), Value::Num(0));
        assert_eq!(parse("-12").unwrap(), Value::Int(-12));
        assert_eq!(parse("0").unwrap(), Value::Num(0));
        assert_eq!(parse("18446744073709551615").unwrap(), Value::Num(u64::MAX));
        assert_eq!(parse("[1,[2,[3]]]").unwrap().as_list().unwrap().len(), 2);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{a:1}",
            "01",
            "-",
            "1.5",
            "1e3",
            "18446744073709551616",
            "-9223372036854775809",
            "\"unterminated",
            "\"tab\there\"",
            r#""\x""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\u12""#,
            "tru",
            "nul",
            "{} {}",
            "[1] x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse(&deep).unwrap_err().contains("deeply"));
        let at = parse("{\"a\": 1,\n \"b\": x}").unwrap_err();
        assert!(at.contains("line 2 column 7"), "{at}");
    }
}
