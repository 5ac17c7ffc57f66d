//! The RFC 9535 JSONPath the overlay's targets are written in, as much of
//! it as an overlay needs: member names (`.name`, `['name']`, unions of
//! them), indices, wildcards, and filters (`[?@.a && !@.a.b]`, `==` and the
//! other comparisons of singular queries and literals, existence tests,
//! `!`, `&&`, `||`, parentheses). Descendant segments, slices and function
//! extensions are refused when the overlay is parsed, never misread.
//!
//! Hand-written for the build's sake: a general JSONPath crate brought a
//! parser combinator library, a proc macro and a plugin registry into
//! every dependent's build, for the dozen shapes the overlay uses.

use std::cmp::Ordering;

use serde_json::Value;

/// A parsed JSONPath query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath(Vec<Segment>);

/// One `[…]` (or `.name`, `.*`) of a query.
type Segment = Vec<Selector>;

#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Name(String),
    Index(i64),
    Wildcard,
    Filter(Expr),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A query as a test: true when it selects anything.
    Exists(Query),
    Compare(Operand, Comparison, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Query(Query),
}

/// `@…` (relative to the filtered node) or `$…` (to the root).
#[derive(Debug, Clone, PartialEq)]
struct Query {
    relative: bool,
    path: JsonPath,
}

impl JsonPath {
    /// Parses `text`, which must start at the root (`$`).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser { text, at: 0 };
        parser.expect('$')?;
        let path = parser.segments()?;
        parser.skip_space();
        match parser.peek() {
            None => Ok(path),
            Some(c) => Err(parser.error(&format!("unexpected `{c}`"))),
        }
    }

    /// The JSON pointers of the nodes the query selects in `root`, in the
    /// RFC's order (each segment applied to each node in turn).
    pub(crate) fn pointers(&self, root: &Value) -> Vec<String> {
        self.select(root, root)
            .into_iter()
            .map(|(pointer, _)| pointer)
            .collect()
    }

    fn select<'a>(&self, start: &'a Value, root: &'a Value) -> Vec<(String, &'a Value)> {
        let mut nodes = vec![(String::new(), start)];
        for segment in &self.0 {
            let mut next = Vec::new();
            for (pointer, node) in &nodes {
                for selector in segment {
                    selector.select(pointer, node, root, &mut next);
                }
            }
            nodes = next;
        }
        nodes
    }
}

/// `pointer` extended by the member or index `key`.
fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

impl Selector {
    fn select<'a>(
        &self,
        pointer: &str,
        node: &'a Value,
        root: &'a Value,
        out: &mut Vec<(String, &'a Value)>,
    ) {
        let children = || -> Vec<(String, &'a Value)> {
            match node {
                Value::Object(map) => map.iter().map(|(k, v)| (child(pointer, k), v)).collect(),
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (child(pointer, &i.to_string()), v))
                    .collect(),
                _ => Vec::new(),
            }
        };
        match self {
            Selector::Name(name) => {
                if let Some(value) = node.as_object().and_then(|map| map.get(name)) {
                    out.push((child(pointer, name), value));
                }
            }
            Selector::Index(index) => {
                let Value::Array(items) = node else { return };
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let at = if *index < 0 { len + index } else { *index };
                if let Some(value) = usize::try_from(at).ok().and_then(|at| items.get(at)) {
                    out.push((child(pointer, &at.to_string()), value));
                }
            }
            Selector::Wildcard => out.extend(children()),
            Selector::Filter(expr) => out.extend(
                children()
                    .into_iter()
                    .filter(|(_, value)| expr.holds(value, root)),
            ),
        }
    }
}

impl Expr {
    fn holds(&self, current: &Value, root: &Value) -> bool {
        match self {
            Expr::Or(a, b) => a.holds(current, root) || b.holds(current, root),
            Expr::And(a, b) => a.holds(current, root) && b.holds(current, root),
            Expr::Not(e) => !e.holds(current, root),
            Expr::Exists(query) => !query.nodes(current, root).is_empty(),
            Expr::Compare(a, op, b) => {
                let (a, b) = (a.value(current, root), b.value(current, root));
                match op {
                    Comparison::Eq => equal(a, b),
                    Comparison::Ne => !equal(a, b),
                    Comparison::Lt => order(a, b) == Some(Ordering::Less),
                    Comparison::Gt => order(a, b) == Some(Ordering::Greater),
                    Comparison::Le => equal(a, b) || order(a, b) == Some(Ordering::Less),
                    Comparison::Ge => equal(a, b) || order(a, b) == Some(Ordering::Greater),
                }
            }
        }
    }
}

/// RFC 9535 equality: nothing equals nothing, numbers by value.
fn equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (a, b) => a == b,
    }
}

/// The order of two numbers or two strings; nothing else is ordered.
fn order(a: Option<&Value>, b: Option<&Value>) -> Option<Ordering> {
    match (a?, b?) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Query {
    fn nodes<'a>(&self, current: &'a Value, root: &'a Value) -> Vec<(String, &'a Value)> {
        let start = if self.relative { current } else { root };
        self.path.select(start, root)
    }
}

impl Operand {
    /// A literal, or a query of names and indices only (one node at most).
    fn singular(&self) -> bool {
        match self {
            Operand::Literal(_) => true,
            Operand::Query(query) => query.path.0.iter().all(|segment| {
                matches!(segment.as_slice(), [Selector::Name(_) | Selector::Index(_)])
            }),
        }
    }

    /// The value a comparison sees: a singular query's node, if any.
    fn value<'a>(&'a self, current: &'a Value, root: &'a Value) -> Option<&'a Value> {
        match self {
            Operand::Literal(value) => Some(value),
            Operand::Query(query) => query.nodes(current, root).first().map(|(_, v)| *v),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at offset {} of `{}`", self.at, self.text)
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            Ok(())
        } else {
            Err(self.error(&format!("expected `{c}`")))
        }
    }

    fn skip_space(&mut self) {
        while self
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            self.at += 1;
        }
    }

    /// The segments after `$` or `@`, up to what cannot continue a query.
    fn segments(&mut self) -> Result<JsonPath, String> {
        let mut segments = Vec::new();
        loop {
            if self.rest().starts_with("..") {
                return Err(self.error("descendant segments (`..`) are not supported"));
            }
            if self.eat(".") {
                if self.eat("*") {
                    segments.push(vec![Selector::Wildcard]);
                } else {
                    segments.push(vec![Selector::Name(self.shorthand()?)]);
                }
            } else if self.eat("[") {
                segments.push(self.bracketed()?);
            } else {
                return Ok(JsonPath(segments));
            }
        }
    }

    fn shorthand(&mut self) -> Result<String, String> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c == '_' || c.is_alphanumeric() || !c.is_ascii())
        {
            self.bump();
        }
        let name = &self.text[start..self.at];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(self.error("expected a member name"));
        }
        Ok(name.to_string())
    }

    /// The selectors of `[…]`, after its `[`.
    fn bracketed(&mut self) -> Result<Segment, String> {
        let mut selectors = Vec::new();
        loop {
            self.skip_space();
            selectors.push(self.selector()?);
            self.skip_space();
            if self.eat("]") {
                return Ok(selectors);
            }
            self.expect(',')?;
        }
    }

    fn selector(&mut self) -> Result<Selector, String> {
        match self.peek() {
            Some('\'' | '"') => Ok(Selector::Name(self.string()?)),
            Some('*') => {
                self.bump();
                Ok(Selector::Wildcard)
            }
            Some('?') => {
                self.bump();
                Ok(Selector::Filter(self.or()?))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let index = self.integer()?;
                self.skip_space();
                if self.peek() == Some(':') {
                    return Err(self.error("slices are not supported"));
                }
                Ok(Selector::Index(index))
            }
            _ => Err(self.error("expected a selector")),
        }
    }

    fn integer(&mut self) -> Result<i64, String> {
        let start = self.at;
        self.eat("-");
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        self.text[start..self.at]
            .parse()
            .map_err(|_| self.error("expected an integer"))
    }

    /// A quoted string, with the JSON escapes (and `\'`).
    fn string(&mut self) -> Result<String, String> {
        let Some(quote) = self.bump() else {
            return Err(self.error("expected a string"));
        };
        let mut value = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some(c) if c == quote => return Ok(value),
                Some('\\') => {
                    let escaped = match self.bump() {
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some(c @ ('/' | '\\' | '\'' | '"')) => c,
                        Some('u') => {
                            let hex = self.rest().get(..4).unwrap_or_default().to_string();
                            self.at += hex.len();
                            u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.error("bad \\u escape"))?
                        }
                        _ => return Err(self.error("bad escape")),
                    };
                    value.push(escaped);
                }
                Some(c) => value.push(c),
            }
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.joined("||", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.joined("&&", Self::basic, Expr::And)
    }

    /// `operand (token operand)*`, joined left to right.
    fn joined(
        &mut self,
        token: &str,
        operand: fn(&mut Self) -> Result<Expr, String>,
        join: fn(Box<Expr>, Box<Expr>) -> Expr,
    ) -> Result<Expr, String> {
        let mut expr = operand(self)?;
        while {
            self.skip_space();
            self.eat(token)
        } {
            expr = join(Box::new(expr), Box::new(operand(self)?));
        }
        Ok(expr)
    }

    /// `!e`, `(e)`, a comparison or an existence test.
    fn basic(&mut self) -> Result<Expr, String> {
        self.skip_space();
        if self.rest().starts_with('!') && !self.rest().starts_with("!=") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.basic()?)));
        }
        if self.eat("(") {
            let expr = self.or()?;
            self.skip_space();
            self.expect(')')?;
            return Ok(expr);
        }
        let left = self.operand()?;
        self.skip_space();
        let op = [
            ("==", Comparison::Eq),
            ("!=", Comparison::Ne),
            ("<=", Comparison::Le),
            (">=", Comparison::Ge),
            ("<", Comparison::Lt),
            (">", Comparison::Gt),
        ]
        .into_iter()
        .find(|(token, _)| self.eat(token));
        match (left, op) {
            (left, Some((_, op))) => {
                self.skip_space();
                let right = self.operand()?;
                if !(left.singular() && right.singular()) {
                    return Err(self.error("a comparison takes singular queries (names, indices)"));
                }
                Ok(Expr::Compare(left, op, right))
            }
            (Operand::Query(query), None) => Ok(Expr::Exists(query)),
            (Operand::Literal(_), None) => Err(self.error("a literal is not a test")),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let relative = match self.peek() {
            Some('@') => true,
            Some('$') => false,
            Some('\'' | '"') => return Ok(Operand::Literal(Value::String(self.string()?))),
            _ => return self.literal().map(Operand::Literal),
        };
        self.bump();
        Ok(Operand::Query(Query {
            relative,
            path: self.segments()?,
        }))
    }

    /// A number, `true`, `false` or `null`.
    fn literal(&mut self) -> Result<Value, String> {
        for (word, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if self.eat(word) {
                return Ok(value);
            }
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.bump();
        }
        serde_json::from_str::<serde_json::Number>(&self.text[start..self.at])
            .map(Value::Number)
            .map_err(|_| self.error("expected a literal, a query or a test"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pointers(path: &str, value: &Value) -> Vec<String> {
        JsonPath::parse(path).unwrap().pointers(value)
    }

    fn spec() -> Value {
        json!({
            "paths": {
                "/a/b": {
                    "get": {"parameters": [
                        {"name": "page", "in": "query"},
                        {"name": "size", "in": "query", "schema": {"type": "integer"}}
                    ]},
                    "post": {"parameters": [{"name": "page"}]}
                },
                "/c~d": {"get": {"parameters": [{"name": "x", "n": 3}]}}
            },
            "components": {"schemas": {
                "A": {"properties": {"vcpu": {"type": "integer"}}, "required": ["vcpu", "id"]},
                "B": {"properties": {"vcpu": {"description": "d"}}},
                "C": {"properties": {"other": {}}}
            }}
        })
    }

    #[test]
    fn names_indices_wildcards_and_unions() {
        let spec = spec();
        assert_eq!(pointers("$", &spec), [""]);
        assert_eq!(
            pointers("$.paths['/a/b'].get.parameters[1].schema", &spec),
            ["/paths/~1a~1b/get/parameters/1/schema"]
        );
        assert_eq!(
            pointers("$.paths[\"/c~d\"].get.parameters[-1]", &spec),
            ["/paths/~1c~0d/get/parameters/0"]
        );
        assert_eq!(
            pointers("$.components.schemas['C','A'].properties", &spec),
            [
                "/components/schemas/C/properties",
                "/components/schemas/A/properties"
            ]
        );
        assert_eq!(
            pointers("$.paths.*.*.parameters[0].name", &spec),
            [
                "/paths/~1a~1b/get/parameters/0/name",
                "/paths/~1a~1b/post/parameters/0/name",
                "/paths/~1c~0d/get/parameters/0/name"
            ]
        );
        assert_eq!(
            pointers("$.components.schemas[*]", &spec).len(),
            3,
            "[*] is .*"
        );
        assert!(pointers("$.paths['/none'].get", &spec).is_empty());
        assert!(pointers("$.paths['/a/b'].get.parameters[2]", &spec).is_empty());
        assert!(pointers("$.paths['/a/b'].get.parameters[-3]", &spec).is_empty());
        assert!(pointers("$.components.schemas.A.required.x", &spec).is_empty());
    }

    #[test]
    fn filters() {
        let spec = spec();
        assert_eq!(
            pointers("$.paths.*.*.parameters[?@.name == 'page']", &spec),
            [
                "/paths/~1a~1b/get/parameters/0",
                "/paths/~1a~1b/post/parameters/0"
            ]
        );
        assert_eq!(
            pointers(
                "$.components.schemas[?@.properties.vcpu && !@.properties.vcpu.description].properties.vcpu",
                &spec
            ),
            ["/components/schemas/A/properties/vcpu"]
        );
        assert_eq!(
            pointers("$.components.schemas.A.required[?@ == 'id']", &spec),
            ["/components/schemas/A/required/1"]
        );
        assert_eq!(
            pointers(
                "$.paths['/c~d'].get.parameters[?@.n >= 3 && @.n < 4]",
                &spec
            )
            .len(),
            1
        );
        assert_eq!(
            pointers(
                "$.paths['/c~d'].get.parameters[?@.n > 3 || (@.n <= 2)]",
                &spec
            )
            .len(),
            0
        );
        for holds in [
            "@.n > 3 || @.n == 3",
            "@.n == 3 || @.n > 3",
            "@.n <= 4",
            "@.n <= 3",
            "@.n >= 2",
            "@.n >= 3",
            "@.n > 2",
            "@.n != 4",
        ] {
            let path = format!("$.paths['/c~d'].get.parameters[?{holds}]");
            assert_eq!(pointers(&path, &spec).len(), 1, "{holds}");
        }
        for fails in ["@.n >= 4", "@.n <= 2", "@.n < 3", "@.n > 3", "@.name >= 3"] {
            let path = format!("$.paths['/c~d'].get.parameters[?{fails}]");
            assert!(pointers(&path, &spec).is_empty(), "{fails}");
        }
        assert_eq!(
            pointers("$.paths['/c~d'].get.parameters[?@.n != 3.0]", &spec).len(),
            0,
            "numbers compare by value"
        );
        assert_eq!(
            pointers(
                "$.paths['/c~d'].get.parameters[?@.missing == @.other]",
                &spec
            )
            .len(),
            1,
            "nothing equals nothing"
        );
        assert_eq!(
            pointers(
                "$.paths['/c~d'].get.parameters[?@.name == \"x\" && $.paths]",
                &spec
            )
            .len(),
            1
        );
        assert_eq!(
            pointers("$.paths['/a/b'].get.parameters[?@.name < 'q']", &spec),
            ["/paths/~1a~1b/get/parameters/0"]
        );
        assert_eq!(
            pointers(
                "$.paths['/a/b'].get.parameters[?@.schema.type == true]",
                &spec
            )
            .len(),
            0
        );
        assert_eq!(
            pointers("$.paths['/a/b'].get.parameters[?@.in == null]", &spec).len(),
            0
        );
    }

    #[test]
    fn strings_take_escapes() {
        let value = json!({"a'b": 1, "c\"d": 2, "é\n/": 3});
        assert_eq!(pointers(r"$['a\'b']", &value), ["/a'b"]);
        assert_eq!(pointers(r#"$["c\"d"]"#, &value), ["/c\"d"]);
        assert_eq!(pointers(r"$['\u00e9\n\/']", &value), ["/é\n~1"]);
        assert_eq!(pointers("$.é", &json!({"é": 1})), ["/é"]);
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        for bad in [
            "",
            "paths",
            "$..paths",
            "$.paths[1:2]",
            "$.paths[?length(@) > 1]",
            "$.paths[?'a']",
            "$.paths['unterminated]",
            "$.paths[",
            "$.paths[?@.a == ]",
            "$.paths[?(@.a]",
            "$.1abc",
            "$.paths]",
            r"$['\q']",
            r"$['\u12']",
            "$[a]",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
        assert!(JsonPath::parse("$.paths[?@.*==1]").is_err(), "not singular");
        assert!(JsonPath::parse("$.paths[?@.a==1]").is_ok());
        assert_eq!(
            JsonPath::parse("$.x y").unwrap_err(),
            "unexpected `y` at offset 4 of `$.x y`"
        );
    }
}
