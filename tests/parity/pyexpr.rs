//! A parser for the constructor strings of ops.json's module cases (`"module":
//! "nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)"`), which come without a
//! `module_expr` tree: it builds the same tree the fixtures use elsewhere (`call`, `args`,
//! `kwargs`, `const`, `tuple`, `list`). Only literals and nested calls are accepted; anything
//! else is an error, so a case it cannot read is never run with a guessed module.

use serde_json::{Map, Value as Json, json};

/// Parses one Python call expression such as `nn.Conv2d(2, 3, 3, padding='same')`.
pub fn parse_call(src: &str) -> Result<Json, String> {
    let mut p = Parser {
        s: src.as_bytes(),
        i: 0,
    };
    let node = p.expr()?;
    p.ws();
    if p.i != p.s.len() || node.get("call").is_none() {
        return Err(format!("unsupported: module string {src:?}"));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!(
            "unsupported: module string {:?}: {what} at {}",
            String::from_utf8_lossy(self.s),
            self.i
        ))
    }

    fn expr(&mut self) -> Result<Json, String> {
        match self.peek() {
            Some(b'(') => {
                self.i += 1;
                let items = self.items(b')')?;
                Ok(json!({ "tuple": items }))
            }
            Some(b'[') => {
                self.i += 1;
                let items = self.items(b']')?;
                Ok(json!({ "list": items }))
            }
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != q {
                    self.i += 1;
                }
                if self.i == self.s.len() {
                    return self.err("unterminated string");
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i]).to_string();
                self.i += 1;
                Ok(json!({ "const": text }))
            }
            Some(c) if c == b'-' || c == b'.' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let name = self.name();
                match name.as_str() {
                    "True" => return Ok(json!({ "const": true })),
                    "False" => return Ok(json!({ "const": false })),
                    "None" => return Ok(json!({ "const": null })),
                    _ => {}
                }
                if !self.eat(b'(') {
                    return self.err("a bare name");
                }
                let mut args = Vec::new();
                let mut kwargs = Map::new();
                loop {
                    if self.eat(b')') {
                        break;
                    }
                    let save = self.i;
                    self.ws();
                    let key = self.name();
                    if !key.is_empty() && self.peek() == Some(b'=') {
                        self.i += 1;
                        kwargs.insert(key, self.expr()?);
                    } else {
                        self.i = save;
                        args.push(self.expr()?);
                    }
                    if !self.eat(b',') && self.peek() != Some(b')') {
                        return self.err("expected , or )");
                    }
                }
                Ok(json!({ "call": name, "args": args, "kwargs": kwargs }))
            }
            _ => self.err("unexpected character"),
        }
    }

    /// Comma-separated expressions up to `close` (a trailing comma allowed).
    fn items(&mut self, close: u8) -> Result<Vec<Json>, String> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.expr()?);
            if !self.eat(b',') && self.peek() != Some(close) {
                return self.err("expected a comma");
            }
        }
    }

    fn name(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'_' | b'.'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).to_string()
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric()
                || matches!(self.s[self.i], b'.' | b'-' | b'+'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
        if let Ok(v) = text.parse::<i64>() {
            return Ok(json!({ "const": v }));
        }
        match text.parse::<f64>() {
            Ok(v) => Ok(json!({ "const": v })),
            Err(_) => self.err("a bad number"),
        }
    }
}
