//! The JSON a safetensors header needs, read in place: the caller walks objects and arrays and
//! takes strings and integers as it meets them, so nothing is built but the strings it keeps
//! (no value tree, whose size could be many times the input's). Values the caller does not
//! want are skipped with a nesting limit (serde_json's 128), so no input recurses without bound.

use std::fmt;

/// How deep `skip_value` follows nested arrays and objects.
const MAX_DEPTH: usize = 128;

/// Where and why the header stopped being JSON.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    what: String,
    at: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {} of the header", self.what, self.at)
    }
}

type Parsed<T> = Result<T, SyntaxError>;

/// A cursor over the header's text.
pub(crate) struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    /// For each open object or array: whether no item has been read yet.
    first: Vec<bool>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Reader<'a> {
        Reader {
            s: text.as_bytes(),
            pos: 0,
            first: Vec::new(),
        }
    }

    fn err<T>(&self, what: impl Into<String>) -> Parsed<T> {
        Err(SyntaxError {
            what: what.into(),
            at: self.pos,
        })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Parsed<()> {
        self.ws();
        match self.s.get(self.pos) {
            Some(&b) if b == c => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => self.err(format!("expected `{}`", c as char)),
            None => self.err(format!("expected `{}`, found the end", c as char)),
        }
    }

    /// Whether the next value starts with `c` (after whitespace).
    pub(crate) fn peek_is(&mut self, c: u8) -> bool {
        self.ws();
        self.s.get(self.pos) == Some(&c)
    }

    /// Consumes a `null` if one is next.
    pub(crate) fn null(&mut self) -> Parsed<bool> {
        self.ws();
        if self.s[self.pos..].starts_with(b"null") {
            self.pos += 4;
            return Ok(true);
        }
        Ok(false)
    }

    pub(crate) fn begin_object(&mut self) -> Parsed<()> {
        self.expect(b'{')?;
        self.first.push(true);
        Ok(())
    }

    pub(crate) fn begin_array(&mut self) -> Parsed<()> {
        self.expect(b'[')?;
        self.first.push(true);
        Ok(())
    }

    /// Before each item of the open object or array: `true` when one follows (the separating
    /// comma consumed), `false` at the closing bracket (consumed, the container closed).
    fn more(&mut self, close: u8) -> Parsed<bool> {
        self.ws();
        let first = *self.first.last().expect("an open container");
        if self.s.get(self.pos) == Some(&close) {
            self.pos += 1;
            self.first.pop();
            return Ok(false);
        }
        if !first {
            if self.s.get(self.pos) != Some(&b',') {
                return self.err(format!("expected `,` or `{}`", close as char));
            }
            self.pos += 1;
            self.ws();
            if self.s.get(self.pos) == Some(&close) {
                return self.err("trailing comma");
            }
        }
        *self.first.last_mut().expect("an open container") = false;
        Ok(true)
    }

    /// The next key of the open object (its `:` consumed), or `None` at its end.
    pub(crate) fn next_key(&mut self) -> Parsed<Option<String>> {
        if !self.more(b'}')? {
            return Ok(None);
        }
        self.ws();
        if self.s.get(self.pos) != Some(&b'"') {
            return self.err("expected a string key");
        }
        let k = self.string()?;
        self.expect(b':')?;
        Ok(Some(k))
    }

    /// Whether another item of the open array follows.
    pub(crate) fn next_item(&mut self) -> Parsed<bool> {
        self.more(b']')
    }

    /// After the top-level value: only whitespace may remain.
    pub(crate) fn end(&mut self) -> Parsed<()> {
        self.ws();
        if self.pos != self.s.len() {
            return self.err("trailing characters");
        }
        Ok(())
    }

    /// A string, its escapes decoded.
    pub(crate) fn string(&mut self) -> Parsed<String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.s.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The header was checked to be UTF-8 and these bounds are ASCII bytes.
            out.push_str(std::str::from_utf8(&self.s[start..self.pos]).expect("UTF-8"));
            match self.s.get(self.pos) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return self.err("control character in a string"),
            }
        }
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let Some(digits) = self.s.get(self.pos..self.pos + 4) else {
            return self.err("incomplete \\u escape");
        };
        let mut v = 0u32;
        for &d in digits {
            let x = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return self.err("invalid \\u escape"),
            };
            v = v * 16 + x as u32;
        }
        self.pos += 4;
        Ok(v)
    }

    /// The character of an escape (after its backslash).
    fn escape(&mut self) -> Parsed<char> {
        let Some(&c) = self.s.get(self.pos) else {
            return self.err("unterminated escape");
        };
        self.pos += 1;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                if (0xDC00..0xE000).contains(&hi) {
                    return self.err("lone trailing surrogate in a \\u escape");
                }
                if (0xD800..0xDC00).contains(&hi) {
                    if !self.s[self.pos..].starts_with(b"\\u") {
                        return self.err("lone leading surrogate in a \\u escape");
                    }
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return self.err("invalid surrogate pair in a \\u escape");
                    }
                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(cp).expect("a valid surrogate pair")
                } else {
                    char::from_u32(hi).expect("not a surrogate")
                }
            }
            _ => {
                self.pos -= 1;
                return self.err("invalid escape");
            }
        })
    }

    /// A non-negative integer (`Some`), or `None` where the next value is another kind of
    /// value (a negative, fractional or exponent number, a string, ...; nothing consumed then).
    pub(crate) fn uint(&mut self) -> Parsed<Option<u64>> {
        self.ws();
        let start = self.pos;
        let mut v: u64 = 0;
        while let Some(&d @ b'0'..=b'9') = self.s.get(self.pos) {
            if self.pos > start && self.s[start] == b'0' {
                self.pos = start;
                return self.err("leading zero in a number");
            }
            v = match v
                .checked_mul(10)
                .and_then(|v| v.checked_add((d - b'0') as u64))
            {
                Some(v) => v,
                None => {
                    self.pos = start;
                    return self.err("integer too large");
                }
            };
            self.pos += 1;
        }
        if self.pos == start || matches!(self.s.get(self.pos), Some(b'.' | b'e' | b'E')) {
            self.pos = start;
            return Ok(None);
        }
        Ok(Some(v))
    }

    /// Skips one value of any kind.
    pub(crate) fn skip_value(&mut self) -> Parsed<()> {
        self.skip(0)
    }

    fn skip(&mut self, depth: usize) -> Parsed<()> {
        if depth >= MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.ws();
        match self.s.get(self.pos) {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => {
                self.begin_object()?;
                while self.next_key()?.is_some() {
                    self.skip(depth + 1)?;
                }
                Ok(())
            }
            Some(b'[') => {
                self.begin_array()?;
                while self.next_item()? {
                    self.skip(depth + 1)?;
                }
                Ok(())
            }
            Some(b't') if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(())
            }
            Some(b'f') if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(())
            }
            Some(b'n') if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("expected a value"),
            None => self.err("expected a value, found the end"),
        }
    }

    /// A number of any kind, by JSON's grammar.
    fn number(&mut self) -> Parsed<()> {
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |r: &mut Self| {
            let start = r.pos;
            while let Some(b'0'..=b'9') = r.s.get(r.pos) {
                r.pos += 1;
            }
            r.pos - start
        };
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 {
            return self.err("expected a digit");
        }
        if n > 1 && self.s[int_start] == b'0' {
            return self.err("leading zero in a number");
        }
        if self.s.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return self.err("expected a digit after `.`");
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.s.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return self.err("expected a digit in the exponent");
            }
        }
        Ok(())
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it (which is what the
/// reference writer uses): `"`, `\` and control characters only, other text as UTF-8.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_escapes() {
        let mut r = Reader::new(r#" "a\"b\\c\/\n\u00e9\ud83d\ude00" "#);
        assert_eq!(r.string().unwrap(), "a\"b\\c/\né😀");
        r.end().unwrap();
        for bad in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\x""#,
            "\"a",
            "\"\u{1}\"",
            r#""\u12""#,
        ] {
            assert!(Reader::new(bad).string().is_err(), "{bad}");
        }
    }

    #[test]
    fn skipping_and_depth() {
        let mut r = Reader::new(r#"{"a": [1, -2.5e+3, true, null, {"b": "c"}], "d": false}"#);
        r.skip_value().unwrap();
        r.end().unwrap();
        let deep = "[".repeat(200) + &"]".repeat(200);
        let e = Reader::new(&deep).skip_value().unwrap_err();
        assert!(e.to_string().starts_with("nested too deeply"), "{e}");
        for bad in ["[1,]", "[01]", "{\"a\" 1}", "[1 2]", "-", "1.", "1e", "tru"] {
            assert!(Reader::new(bad).skip_value().is_err(), "{bad}");
        }
    }

    #[test]
    fn unsigned_integers() {
        let mut r = Reader::new("[0, 18446744073709551615, 1.5]");
        r.begin_array().unwrap();
        assert!(r.next_item().unwrap());
        assert_eq!(r.uint().unwrap(), Some(0));
        assert!(r.next_item().unwrap());
        assert_eq!(r.uint().unwrap(), Some(u64::MAX));
        assert!(r.next_item().unwrap());
        assert_eq!(r.uint().unwrap(), None);
        assert!(Reader::new("18446744073709551616").uint().is_err());
        assert!(Reader::new("007").uint().is_err());
        assert_eq!(Reader::new("-1").uint().unwrap(), None);
    }

    #[test]
    fn written_strings_escape_like_serde_json() {
        let mut s = String::new();
        write_string(&mut s, "q\"\n\u{1}é\\");
        assert_eq!(s, r#""q\"\n\u0001é\\""#);
    }
}
