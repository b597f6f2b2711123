//! The shape of a JSON value, read from a TypeScript declaration or from an OpenAPI
//! schema, so that the web client's wire types can be compared with the API's contract.
//!
//! A shape is what both languages can say about a value: string, number, boolean, null,
//! a string literal, an array, a tuple, an object (fields, each required or optional) or
//! a union. Formats, lengths, patterns and descriptions are the contract's business
//! alone and are not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_yaml::Value;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    String,
    Number,
    Boolean,
    Null,
    Literal(String),
    Array(Box<Shape>),
    Tuple(Vec<Shape>),
    Object(BTreeMap<String, Field>),
    /// Two or more members, none of them a union.
    Union(BTreeSet<Shape>),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Field {
    pub required: bool,
    pub shape: Shape,
}

impl Shape {
    /// The union of `members`, flattened; a single member is itself.
    pub fn union(members: impl IntoIterator<Item = Shape>) -> Shape {
        let mut set = BTreeSet::new();
        for m in members {
            match m {
                Shape::Union(inner) => set.extend(inner),
                other => {
                    set.insert(other);
                }
            }
        }
        if set.len() == 1 {
            set.into_iter().next().unwrap_or(Shape::Null)
        } else {
            Shape::Union(set)
        }
    }

    fn members(&self) -> Vec<&Shape> {
        match self {
            Shape::Union(set) => set.iter().collect(),
            other => vec![other],
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::String => f.write_str("string"),
            Shape::Number => f.write_str("number"),
            Shape::Boolean => f.write_str("boolean"),
            Shape::Null => f.write_str("null"),
            Shape::Literal(s) => write!(f, "{s:?}"),
            Shape::Array(item) => write!(f, "Array<{item}>"),
            Shape::Tuple(items) => {
                let parts: Vec<String> = items.iter().map(|s| s.to_string()).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Shape::Object(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}{}: {}", if v.required { "" } else { "?" }, v.shape))
                    .collect();
                write!(f, "{{ {} }}", parts.join(", "))
            }
            Shape::Union(set) => {
                let parts: Vec<String> = set.iter().map(|s| s.to_string()).collect();
                f.write_str(&parts.join(" | "))
            }
        }
    }
}

/// Which way a value travels. What the server sends must be exactly what the client
/// declares; what the client sends may be narrower than what the server accepts (a
/// required field the server defaults, a value never `null`, a `string` where the
/// contract lists the accepted values, which the server checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ToClient,
    ToServer,
}

/// The differences between the client's declaration `ts` and the contract's `api`, each
/// naming where (`path`) and what.
pub fn differences(path: &str, ts: &Shape, api: &Shape, direction: Direction) -> Vec<String> {
    let mut out = Vec::new();
    compare(path, ts, api, direction, &mut out);
    out
}

fn compare(path: &str, ts: &Shape, api: &Shape, direction: Direction, out: &mut Vec<String>) {
    match (ts, api) {
        (Shape::Object(tf), Shape::Object(af)) => {
            for (name, a) in af {
                let here = format!("{path}.{name}");
                match tf.get(name) {
                    None if a.required || direction == Direction::ToClient => {
                        out.push(format!("{here}: in the contract, not in the TypeScript type"))
                    }
                    None => {}
                    Some(t) => {
                        let optional_mismatch = match direction {
                            Direction::ToClient => t.required != a.required,
                            Direction::ToServer => !t.required && a.required,
                        };
                        if optional_mismatch {
                            out.push(format!(
                                "{here}: {} in TypeScript, {} in the contract",
                                presence(t.required),
                                presence(a.required)
                            ));
                        }
                        compare(&here, &t.shape, &a.shape, direction, out);
                    }
                }
            }
            for name in tf.keys().filter(|n| !af.contains_key(*n)) {
                out.push(format!("{path}.{name}: in the TypeScript type, not in the contract"));
            }
        }
        (Shape::Array(t), Shape::Array(a)) => compare(&format!("{path}[]"), t, a, direction, out),
        (Shape::Tuple(t), Shape::Tuple(a)) if t.len() == a.len() => {
            for (i, (t, a)) in t.iter().zip(a).enumerate() {
                compare(&format!("{path}[{i}]"), t, a, direction, out);
            }
        }
        _ if ts == api => {}
        _ if matches!(ts, Shape::Union(_)) || matches!(api, Shape::Union(_)) => {
            compare_unions(path, ts, api, direction, out)
        }
        _ => out.push(format!("{path}: {ts} in TypeScript, {api} in the contract")),
    }
}

fn presence(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}

/// Unions match member by member: literals and scalars by equality, objects by their
/// discriminating literal field (`type`, `action`) or, failing that, one to one.
fn compare_unions(path: &str, ts: &Shape, api: &Shape, direction: Direction, out: &mut Vec<String>) {
    let (tm, am) = (ts.members(), api.members());
    let widened = direction == Direction::ToServer
        && tm.contains(&&Shape::String)
        && am.iter().all(|m| matches!(m, Shape::Literal(_) | Shape::Null));
    if widened {
        return;
    }
    let mut unmatched_api: Vec<&Shape> = Vec::new();
    let mut ts_left: Vec<&Shape> = tm.clone();
    for a in am {
        if direction == Direction::ToServer && *a == Shape::Null && !tm.contains(&&Shape::Null) {
            continue;
        }
        if let Some(i) = ts_left.iter().position(|t| *t == a) {
            ts_left.remove(i);
            continue;
        }
        match ts_left.iter().position(|t| same_variant(t, a)) {
            Some(i) => {
                let t = ts_left.remove(i);
                compare(&format!("{path}<{}>", variant_name(a)), t, a, direction, out);
            }
            None => unmatched_api.push(a),
        }
    }
    for a in unmatched_api {
        out.push(format!("{path}: the contract allows {a}, the TypeScript type does not"));
    }
    for t in ts_left {
        out.push(format!("{path}: the TypeScript type allows {t}, the contract does not"));
    }
}

fn discriminant(shape: &Shape) -> Option<(&str, &str)> {
    let Shape::Object(fields) = shape else { return None };
    fields.iter().find_map(|(k, f)| match &f.shape {
        Shape::Literal(v) if f.required => Some((k.as_str(), v.as_str())),
        _ => None,
    })
}

fn same_variant(t: &Shape, a: &Shape) -> bool {
    match (discriminant(t), discriminant(a)) {
        (Some(x), Some(y)) => x == y,
        _ => matches!(
            (t, a),
            (Shape::Object(_), Shape::Object(_)) | (Shape::Array(_), Shape::Array(_))
        ),
    }
}

fn variant_name(shape: &Shape) -> String {
    discriminant(shape)
        .map(|(k, v)| format!("{k}={v}"))
        .unwrap_or_else(|| "object".into())
}

// ----------------------------------------------------------------------------- OpenAPI

/// The shape an OpenAPI 3.1 schema describes, `$ref`s resolved against `doc`.
pub fn from_openapi(schema: &Value, doc: &Value) -> Result<Shape, String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| format!("unsupported $ref {r}"))?;
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return Err(format!("$ref to a missing schema: {r}"));
        }
        return from_openapi(target, doc);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_sequence) {
        let mut fields = BTreeMap::new();
        for part in parts {
            match from_openapi(part, doc)? {
                Shape::Object(f) => fields.extend(f),
                other => return Err(format!("allOf of a non-object: {other}")),
            }
        }
        return Ok(Shape::Object(fields));
    }
    if let Some(parts) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_sequence)
    {
        let members = parts
            .iter()
            .map(|p| from_openapi(p, doc))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Shape::union(members));
    }
    if let Some(c) = schema.get("const") {
        return Ok(Shape::Literal(scalar_text(c)?));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_sequence) {
        let members = values
            .iter()
            .map(|v| scalar_text(v).map(Shape::Literal))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Shape::union(members));
    }
    match schema.get("type") {
        Some(Value::Sequence(types)) => {
            let members = types
                .iter()
                .map(|t| {
                    let mut one = schema.clone();
                    if let Value::Mapping(m) = &mut one {
                        m.insert(Value::from("type"), t.clone());
                    }
                    from_openapi(&one, doc)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Shape::union(members))
        }
        Some(Value::String(t)) => match t.as_str() {
            "string" => Ok(Shape::String),
            "integer" | "number" => Ok(Shape::Number),
            "boolean" => Ok(Shape::Boolean),
            "null" => Ok(Shape::Null),
            "array" => {
                if let Some(items) = schema.get("prefixItems").and_then(Value::as_sequence) {
                    let items = items
                        .iter()
                        .map(|i| from_openapi(i, doc))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Shape::Tuple(items));
                }
                let items = schema.get("items").ok_or("an array without items")?;
                Ok(Shape::Array(Box::new(from_openapi(items, doc)?)))
            }
            "object" => object_from_openapi(schema, doc),
            other => Err(format!("unsupported type {other}")),
        },
        _ if schema.get("properties").is_some() => object_from_openapi(schema, doc),
        _ => Err(format!(
            "a schema this comparison cannot read: {}",
            serde_yaml::to_string(schema).unwrap_or_default()
        )),
    }
}

fn object_from_openapi(schema: &Value, doc: &Value) -> Result<Shape, String> {
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_sequence)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = BTreeMap::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_mapping) {
        for (name, prop) in props {
            let name = name.as_str().ok_or("a property name that is not a string")?;
            let shape = from_openapi(prop, doc).map_err(|e| format!("{name}: {e}"))?;
            fields.insert(
                name.to_string(),
                Field {
                    required: required.contains(name),
                    shape,
                },
            );
        }
    }
    Ok(Shape::Object(fields))
}

fn scalar_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("a non-scalar literal {other:?}")),
    }
}

// ----------------------------------------------------------------------------- TypeScript

/// Type declarations read from TypeScript source: `export type Name<P> = ...;` and
/// `export interface Name { ... }`, enough of the language for wire types.
#[derive(Debug, Default)]
pub struct TsModule {
    /// By (module, name): the type parameters and the body.
    decls: BTreeMap<(String, String), Decl>,
    /// By module: `import type * as Alias from './dir/module'`, alias to module.
    imports: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug)]
struct Decl {
    params: Vec<String>,
    body: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Punct(char),
}

impl TsModule {
    /// Adds every declaration of `source`, the module `module` (a file's stem: `wire`
    /// for `./api/wire.ts`, which `import type * as Wire from './api/wire'` names).
    pub fn add(&mut self, module: &str, source: &str) -> Result<(), String> {
        let tokens = tokenize(source)?;
        let imports = self.imports.entry(module.to_string()).or_default();
        for w in tokens.windows(7) {
            if let [
                Token::Word(import),
                Token::Word(_),
                Token::Punct('*'),
                Token::Word(r#as),
                Token::Word(alias),
                Token::Word(from),
                Token::Str(path),
            ] = w
                && import == "import"
                && r#as == "as"
                && from == "from"
            {
                let stem = path.rsplit('/').next().unwrap_or(path).trim_end_matches(".ts");
                imports.insert(alias.clone(), stem.to_string());
            }
        }
        let mut i = 0;
        while i < tokens.len() {
            let is_export = tokens[i] == Token::Word("export".into());
            let kind = tokens.get(i + 1);
            let decl_kind = match kind {
                Some(Token::Word(w)) if is_export && (w == "type" || w == "interface") => w.clone(),
                _ => {
                    i += 1;
                    continue;
                }
            };
            let Some(Token::Word(name)) = tokens.get(i + 2) else {
                i += 1;
                continue;
            };
            let mut j = i + 3;
            let mut params = Vec::new();
            if tokens.get(j) == Some(&Token::Punct('<')) {
                j += 1;
                while let Some(Token::Word(p)) = tokens.get(j) {
                    params.push(p.clone());
                    j += 1;
                    if tokens.get(j) == Some(&Token::Punct(',')) {
                        j += 1;
                    }
                }
                j += 1; // '>'
            }
            let body_start;
            let body_end;
            if decl_kind == "type" {
                if tokens.get(j) != Some(&Token::Punct('=')) {
                    return Err(format!("type {name}: expected `=`"));
                }
                body_start = j + 1;
                body_end = end_of_type(&tokens, body_start);
            } else {
                body_start = j;
                body_end = matching(&tokens, j).ok_or_else(|| format!("interface {name}: unclosed"))? + 1;
            }
            let body = tokens[body_start..body_end].to_vec();
            self.decls
                .insert((module.to_string(), name.clone()), Decl { params, body });
            i = body_end;
        }
        Ok(())
    }

    /// The names `module` declares.
    pub fn names<'a>(&'a self, module: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.decls
            .keys()
            .filter(move |(m, _)| m == module)
            .map(|(_, n)| n.as_str())
    }

    /// The shape of a type expression in `module`, e.g. `ListPage<ConversationSummary>`.
    pub fn shape_of(&self, module: &str, expr: &str) -> Result<Shape, String> {
        let tokens = tokenize(expr)?;
        let mut p = Parser {
            tokens: &tokens,
            at: 0,
            types: self,
            module,
            bound: BTreeMap::new(),
            depth: 0,
        };
        let shape = p.union()?;
        if p.at != tokens.len() {
            return Err(format!("{expr}: unexpected {:?}", tokens.get(p.at)));
        }
        Ok(shape)
    }
}

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                s.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err("an unterminated string".into());
            }
            i += 1;
            out.push(Token::Str(s));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut w = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$' || chars[i] == '.')
            {
                w.push(chars[i]);
                i += 1;
            }
            out.push(Token::Word(w));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

/// The index of the bracket closing the one at `open`.
fn matching(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::Punct('{' | '[' | '(' | '<') => depth += 1,
            Token::Punct('}' | ']' | ')' | '>') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where a `type X = ...` body ends: the `;` at depth 0 (or the next `export`).
fn end_of_type(tokens: &[Token], start: usize) -> usize {
    let mut depth = 0i32;
    for (k, t) in tokens.iter().enumerate().skip(start) {
        match t {
            Token::Punct('{' | '[' | '(' | '<') => depth += 1,
            Token::Punct('}' | ']' | ')' | '>') => depth -= 1,
            Token::Punct(';') if depth == 0 => return k,
            Token::Word(w) if depth == 0 && w == "export" => return k,
            _ => {}
        }
    }
    tokens.len()
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    types: &'a TsModule,
    /// The module whose declaration is being read: where unqualified names resolve.
    module: &'a str,
    bound: BTreeMap<String, Shape>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{c}`, found {:?}", self.peek()))
        }
    }

    fn union(&mut self) -> Result<Shape, String> {
        self.eat('|');
        let mut members = vec![self.postfix()?];
        while self.eat('|') {
            members.push(self.postfix()?);
        }
        Ok(Shape::union(members))
    }

    fn postfix(&mut self) -> Result<Shape, String> {
        let mut shape = self.primary()?;
        while self.peek() == Some(&Token::Punct('[')) && self.tokens.get(self.at + 1) == Some(&Token::Punct(']')) {
            self.at += 2;
            shape = Shape::Array(Box::new(shape));
        }
        Ok(shape)
    }

    fn primary(&mut self) -> Result<Shape, String> {
        let token = self.peek().cloned().ok_or("a type expected, found the end")?;
        self.at += 1;
        match token {
            Token::Str(s) => Ok(Shape::Literal(s)),
            Token::Punct('{') => self.object(),
            Token::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    items.push(self.union()?);
                    self.eat(',');
                }
                Ok(Shape::Tuple(items))
            }
            Token::Punct('(') => {
                let inner = self.union()?;
                self.expect(')')?;
                Ok(inner)
            }
            Token::Word(w) => self.named(&w),
            Token::Punct(c) => Err(format!("unexpected `{c}`")),
        }
    }

    fn object(&mut self) -> Result<Shape, String> {
        let mut fields = BTreeMap::new();
        loop {
            if self.eat('}') {
                return Ok(Shape::Object(fields));
            }
            let name = match self.peek().cloned() {
                Some(Token::Word(w)) | Some(Token::Str(w)) => w,
                other => return Err(format!("a field name expected, found {other:?}")),
            };
            self.at += 1;
            let optional = self.eat('?');
            self.expect(':')?;
            let shape = self.union()?;
            if !self.eat(',') {
                self.eat(';');
            }
            fields.insert(
                name,
                Field {
                    required: !optional,
                    shape,
                },
            );
        }
    }

    fn named(&mut self, word: &str) -> Result<Shape, String> {
        let mut args = Vec::new();
        if self.eat('<') {
            loop {
                args.push(self.union()?);
                if self.eat('>') {
                    break;
                }
                self.expect(',')?;
            }
        }
        match word {
            "string" => return Ok(Shape::String),
            "number" => return Ok(Shape::Number),
            "boolean" => return Ok(Shape::Boolean),
            "null" => return Ok(Shape::Null),
            "Array" if args.len() == 1 => return Ok(Shape::Array(Box::new(args.remove(0)))),
            _ => {}
        }
        if let Some(shape) = self.bound.get(word) {
            return Ok(shape.clone());
        }
        let (module, name) = match word.split_once('.') {
            Some((alias, name)) => {
                let module = self.types.imports.get(self.module).and_then(|i| i.get(alias));
                (
                    module
                        .ok_or_else(|| format!("{word}: `{alias}` is not an imported module"))?
                        .as_str(),
                    name,
                )
            }
            None => (self.module, word),
        };
        let key = (module.to_string(), name.to_string());
        let decl = self
            .types
            .decls
            .get(&key)
            .ok_or_else(|| format!("unknown type {word} in {module}"))?;
        if decl.params.len() != args.len() {
            return Err(format!(
                "{name} takes {} type arguments, given {}",
                decl.params.len(),
                args.len()
            ));
        }
        if self.depth > 32 {
            return Err(format!("{name}: types nest too deep (recursive?)"));
        }
        let mut inner = Parser {
            tokens: &decl.body,
            at: 0,
            types: self.types,
            module,
            bound: decl.params.iter().cloned().zip(args).collect(),
            depth: self.depth + 1,
        };
        let shape = inner.union()?;
        if inner.at != decl.body.len() {
            return Err(format!("{name}: unexpected {:?}", decl.body.get(inner.at)));
        }
        Ok(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(src: &str) -> TsModule {
        let mut m = TsModule::default();
        m.add("m", src).unwrap();
        m
    }

    #[test]
    fn reads_objects_unions_generics_and_interfaces() {
        let m = module(
            "export type Id = string;\nexport type Page<T> = { items: Array<T>, next: Id | null, };\n\
             export interface Req {\n  /** doc */ a: 'x' | 'y'\n  b?: string[]\n}\n",
        );
        assert_eq!(
            m.shape_of("m", "Page<number>").unwrap().to_string(),
            "{ items: Array<number>, next: string | null }"
        );
        assert_eq!(
            m.shape_of("m", "Req").unwrap().to_string(),
            "{ a: \"x\" | \"y\", b?: Array<string> }"
        );
    }

    #[test]
    fn resolves_names_through_imported_modules() {
        let mut m = TsModule::default();
        m.add("wire", "export type Role = \"a\" | \"b\";\nexport type Id = string;")
            .unwrap();
        m.add("types", "import type * as Wire from './api/wire'\nexport type Role = Wire.Role\nexport interface U { role: Role, id: Wire.Id }").unwrap();
        assert_eq!(
            m.shape_of("types", "U").unwrap().to_string(),
            "{ id: string, role: \"a\" | \"b\" }"
        );
        assert!(
            m.shape_of("types", "Id").is_err(),
            "unqualified names resolve in their own module"
        );
    }

    #[test]
    fn finds_each_kind_of_difference() {
        let ts = module("export type V = { a: string, b: number | null, c?: boolean, extra: string, };");
        let doc: Value = serde_yaml::from_str(
            "components: {schemas: {V: {type: object, required: [a, b, c, d], properties: \
             {a: {type: integer}, b: {type: integer}, c: {type: boolean}, d: {type: string}}}}}",
        )
        .unwrap();
        let api = from_openapi(&doc["components"]["schemas"]["V"], &doc).unwrap();
        let diffs = differences("V", &ts.shape_of("m", "V").unwrap(), &api, Direction::ToClient);
        assert_eq!(
            diffs,
            vec![
                "V.a: string in TypeScript, number in the contract",
                "V.b: the TypeScript type allows null, the contract does not",
                "V.c: optional in TypeScript, required in the contract",
                "V.d: in the contract, not in the TypeScript type",
                "V.extra: in the TypeScript type, not in the contract",
            ]
        );
    }

    #[test]
    fn requests_may_be_narrower_than_the_contract() {
        let ts = module("export interface R { s: string; n: string }");
        let doc: Value = serde_yaml::from_str(
            "components: {schemas: {R: {type: object, required: [s], properties: \
             {s: {type: string, enum: [a, b]}, n: {type: [string, 'null']}, o: {type: string}}}}}",
        )
        .unwrap();
        let api = from_openapi(&doc["components"]["schemas"]["R"], &doc).unwrap();
        let ts = ts.shape_of("m", "R").unwrap();
        assert!(differences("R", &ts, &api, Direction::ToServer).is_empty());
        assert_eq!(
            differences("R", &ts, &api, Direction::ToClient),
            vec![
                "R.n: required in TypeScript, optional in the contract",
                "R.n: the contract allows null, the TypeScript type does not",
                "R.o: in the contract, not in the TypeScript type",
                "R.s: the contract allows \"a\", the TypeScript type does not",
                "R.s: the contract allows \"b\", the TypeScript type does not",
                "R.s: the TypeScript type allows string, the contract does not",
            ]
        );
    }
}
