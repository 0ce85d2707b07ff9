//! A parser for the Python call expressions of fixture cases that come without their `*_expr`
//! tree (ops.json's module cases carry `module` but no `module_expr`): `nn.X(3, 4,
//! num_layers=2, padding='same', bias=False)` and nested calls, tuples, lists, numbers,
//! strings, `True`/`False`/`None`. Produces the fixtures' own node format.

use serde_json::{Map, Value as Json, json};

/// Parses `src` into an expression tree (`{"call": ..., "args": [...], "kwargs": {...}}`, ...).
pub fn parse(src: &str) -> Result<Json, String> {
    let mut p = Parser {
        s: src.as_bytes(),
        i: 0,
    };
    let node = p.expr()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text at {} in {src}", p.i));
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

    fn expr(&mut self) -> Result<Json, String> {
        match self.peek() {
            Some(b'(') | Some(b'[') => {
                let close = if self.s[self.i] == b'(' { b')' } else { b']' };
                let key = if close == b')' { "tuple" } else { "list" };
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(close) {
                    items.push(self.expr()?);
                    if !self.eat(b',') && self.peek() != Some(close) {
                        return Err("expected , in a tuple or list".into());
                    }
                }
                Ok(json!({ key: items }))
            }
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != q {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i])
                    .unwrap()
                    .to_string();
                self.i += 1;
                Ok(json!({ "const": text }))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'.' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b".+-".contains(&self.s[self.i]))
                {
                    if b"+-".contains(&self.s[self.i]) && !b"eE".contains(&self.s[self.i - 1]) {
                        break;
                    }
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                let n: Json = serde_json::from_str(text).map_err(|e| format!("{text}: {e}"))?;
                Ok(json!({ "const": n }))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let name = self.name();
                match name.as_str() {
                    "True" => return Ok(json!({ "const": true })),
                    "False" => return Ok(json!({ "const": false })),
                    "None" => return Ok(json!({ "const": null })),
                    _ => {}
                }
                if !self.eat(b'(') {
                    return Ok(json!({ "var": name }));
                }
                let (mut args, mut kwargs) = (Vec::new(), Map::new());
                while !self.eat(b')') {
                    let save = self.i;
                    let key = self.name();
                    if !key.is_empty()
                        && self.peek() == Some(b'=')
                        && self.s.get(self.i + 1) != Some(&b'=')
                    {
                        self.i += 1;
                        kwargs.insert(key, self.expr()?);
                    } else {
                        self.i = save;
                        args.push(self.expr()?);
                    }
                    if !self.eat(b',') && self.peek() != Some(b')') {
                        return Err("expected , between arguments".into());
                    }
                }
                Ok(json!({ "call": name, "args": args, "kwargs": kwargs }))
            }
            other => Err(format!("unexpected {:?}", other.map(|c| c as char))),
        }
    }

    /// A dotted name (`nn.LSTM`), possibly empty.
    fn name(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || b"._".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .unwrap()
            .to_string()
    }
}
