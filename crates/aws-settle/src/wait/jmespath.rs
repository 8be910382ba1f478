//! Bounded JMESPath: the `jmespath` crate's parser and functions under our own evaluator.
//!
//! See [`JsonPath`] for the limits.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use jmespath::ast::{Ast, Comparator as AstComparator};
use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, RuntimeError, ToJmespath, Variable};
use serde_json::Value;

/// The longest expression accepted, in bytes (botocore 1.44's longest waiter argument is 201).
pub const MAX_EXPRESSION_BYTES: usize = 16 * 1024;
/// How deep `(`, `[` and `{` may nest (the compliance suite's deepest is 50, botocore's 4).
pub const MAX_NESTING: usize = 128;
/// How many tokens that open a nested parse (`[ ( { ! & *`) an expression may hold (the
/// compliance suite's deepest projection has 208).
pub const MAX_NESTING_TOKENS: usize = 512;
/// How deep the syntax tree may be (the compliance suite's 104 chained projections fit).
pub const MAX_AST_DEPTH: usize = 256;
/// The evaluation budget of one search.
pub const MAX_EVALUATION_UNITS: usize = 1_000_000;

/// The stack the parser is given (on the heap when the caller's thread has less left).
const PARSER_STACK: usize = 8 << 20;
/// The stack a search, or one of the crate's functions, starts with at least.
const VALUE_STACK: usize = 1 << 20;
/// Below this much stack left, a recursion step continues on a new heap segment ...
const RED_ZONE: usize = 256 << 10;
/// ... of this size.
const SEGMENT: usize = 4 << 20;

/// What kind of JMESPath error; the names are the compliance suite's where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonPathErrorKind {
    /// The expression does not parse.
    Syntax,
    /// A function was given an argument (or an expression returned a value) of the wrong type.
    InvalidType,
    /// A function was given too many or too few arguments.
    InvalidArity,
    /// No function has this name.
    UnknownFunction,
    /// A value is out of range (a slice step of 0).
    InvalidValue,
    /// The expression is longer than [`MAX_EXPRESSION_BYTES`].
    TooLong,
    /// The expression nests deeper than [`MAX_NESTING`], [`MAX_NESTING_TOKENS`] or [`MAX_AST_DEPTH`].
    TooDeep,
    /// Evaluation needed more than [`MAX_EVALUATION_UNITS`].
    TooLarge,
}

impl JsonPathErrorKind {
    /// `syntax`, `invalid-type`, `invalid-arity`, `unknown-function`, `invalid-value`,
    /// `too-long`, `too-deep` or `too-large`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::InvalidType => "invalid-type",
            Self::InvalidArity => "invalid-arity",
            Self::UnknownFunction => "unknown-function",
            Self::InvalidValue => "invalid-value",
            Self::TooLong => "too-long",
            Self::TooDeep => "too-deep",
            Self::TooLarge => "too-large",
        }
    }
}

impl fmt::Display for JsonPathErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JMESPath expression that cannot be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JMESPath {kind} error in `{expression}`: {message}")]
pub struct JsonPathError {
    /// The expression as written (cut to 200 characters).
    pub expression: String,
    /// What kind of error.
    pub kind: JsonPathErrorKind,
    /// What is wrong, and where.
    pub message: String,
}

impl JsonPathError {
    fn new(expression: &str, kind: JsonPathErrorKind, message: impl Into<String>) -> Self {
        let expression = match expression.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &expression[..cut]),
            None => expression.to_string(),
        };
        Self { expression, kind, message: message.into() }
    }

    fn from_jmespath(expression: &str, error: &JmespathError) -> Self {
        let kind = match &error.reason {
            ErrorReason::Parse(_) => JsonPathErrorKind::Syntax,
            ErrorReason::Runtime(runtime) => match runtime {
                RuntimeError::TooManyArguments { .. } | RuntimeError::NotEnoughArguments { .. } => {
                    JsonPathErrorKind::InvalidArity
                }
                RuntimeError::UnknownFunction(_) => JsonPathErrorKind::UnknownFunction,
                RuntimeError::InvalidSlice => JsonPathErrorKind::InvalidValue,
                RuntimeError::InvalidType { .. } | RuntimeError::InvalidReturnType { .. } => {
                    JsonPathErrorKind::InvalidType
                }
            },
        };
        Self::new(expression, kind, error.to_string().replace('\n', " "))
    }
}

/// The JMESPath runtime: the `jmespath` crate's built-in functions, with `avg` patched to return
/// `null` for an empty list as the specification says (the crate fails on the division by zero).
fn runtime() -> &'static jmespath::Runtime {
    static RUNTIME: LazyLock<jmespath::Runtime> = LazyLock::new(|| {
        let mut runtime = jmespath::Runtime::new();
        runtime.register_builtin_functions();
        let numbers = ArgumentType::TypedArray(Box::new(ArgumentType::Number));
        runtime.register_function(
            "avg",
            Box::new(CustomFunction::new(
                Signature::new(vec![numbers], None),
                Box::new(|args: &[Rcvar], _ctx| {
                    let values = args[0].as_array().map(Vec::as_slice).unwrap_or_default();
                    let sum: f64 = values.iter().filter_map(|v| v.as_number()).sum();
                    let avg = (!values.is_empty())
                        .then(|| serde_json::Number::from_f64(sum / values.len() as f64))
                        .flatten();
                    Ok(Rcvar::new(avg.map_or(Variable::Null, Variable::Number)))
                }),
            )),
        );
        runtime
    });
    &RUNTIME
}

/// A compiled JMESPath expression (compiled once, evaluated on every attempt).
///
/// A waiter model is input like any other, so an expression may be hostile. Every stage is
/// bounded, and each bound is a typed [`JsonPathError`] (never a stack overflow, never a hang):
///
/// | stage | bound | kind |
/// |---|---|---|
/// | before parsing | at most [`MAX_EXPRESSION_BYTES`] bytes | [`JsonPathErrorKind::TooLong`] |
/// | before parsing | brackets nested at most [`MAX_NESTING`] deep, at most [`MAX_NESTING_TOKENS`] of `[ ( { ! & *` | [`JsonPathErrorKind::TooDeep`] |
/// | after parsing | a syntax tree at most [`MAX_AST_DEPTH`] deep (`a.a.a…` is left-nested) | [`JsonPathErrorKind::TooDeep`] |
/// | evaluation | at most [`MAX_EVALUATION_UNITS`] units: one per node visited, one per element, entry or byte created or compared | [`JsonPathErrorKind::TooLarge`] |
///
/// Results are shared (`Arc`), never copied while evaluating: `[@,@]|[@,@]|…` builds a
/// graph of 2 × n nodes. Only the final result is turned into a `serde_json::Value`, sized
/// against the same budget first, so a result of 2²⁴ leaves is a `TooLarge` error after a
/// million units instead of gigabytes. The `jmespath` crate parses, and its functions run,
/// but not its interpreter, which cannot be bounded: the functions that evaluate expressions
/// or compare whole values (`map`, `sort_by`, `min_by`, `max_by`, `contains`) are ours, and
/// `to_string`'s argument is sized first. Parsing and evaluation continue on heap stack
/// segments (`stacker`) when the caller's stack runs low.
#[derive(Clone)]
pub struct JsonPath {
    source: Arc<str>,
    ast: Arc<Ast>,
}

impl JsonPath {
    /// Compiles a JMESPath expression; a too long or too deep one is a typed error.
    ///
    /// ```
    /// use aws_settle::wait::{JsonPath, JsonPathErrorKind};
    /// let path = JsonPath::compile("Table.TableStatus").unwrap();
    /// let value = serde_json::json!({"Table": {"TableStatus": "ACTIVE"}});
    /// assert_eq!(path.search(&value).unwrap(), serde_json::json!("ACTIVE"));
    /// assert_eq!(JsonPath::compile("Table.[").unwrap_err().kind, JsonPathErrorKind::Syntax);
    /// let deep = format!("{}a{}", "(".repeat(2000), ")".repeat(2000));
    /// assert_eq!(JsonPath::compile(&deep).unwrap_err().kind, JsonPathErrorKind::TooDeep);
    /// ```
    pub fn compile(expression: &str) -> Result<Self, JsonPathError> {
        check_shape(expression).map_err(|(kind, message)| JsonPathError::new(expression, kind, message))?;
        // The crate's parser recurses per nesting level, with large frames in debug builds:
        // the shape check bounds the depth, and this gives it the stack that depth needs (a
        // rejected deep tree is dropped there too).
        let ast = stacker::maybe_grow(PARSER_STACK, PARSER_STACK, || {
            let ast =
                jmespath::parse(expression).map_err(|e| JsonPathError::from_jmespath(expression, &e))?;
            let depth = ast_depth(&ast);
            if depth > MAX_AST_DEPTH {
                return Err(JsonPathError::new(
                    expression,
                    JsonPathErrorKind::TooDeep,
                    format!("the expression nests {depth} deep (at most {MAX_AST_DEPTH})"),
                ));
            }
            Ok(ast)
        })?;
        Ok(Self { source: expression.into(), ast: Arc::new(ast) })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression against `data` within [`MAX_EVALUATION_UNITS`]; a runtime
    /// error (e.g. a function given a wrong type) or an exhausted budget is a typed error.
    pub fn search(&self, data: &Value) -> Result<Value, JsonPathError> {
        // Converting the input, and dropping deep results, recurse too.
        stacker::maybe_grow(VALUE_STACK, VALUE_STACK, || {
            let fail = |e: JmespathError| JsonPathError::from_jmespath(&self.source, &e);
            let data = data.to_jmespath().map_err(fail)?;
            let mut eval = Eval { ctx: Context::new(&self.source, runtime()), units: MAX_EVALUATION_UNITS };
            let result = eval.interpret(&data, &self.ast)?;
            // Size the result before copying it: a too large one fails without allocating.
            eval.size(&result, 0)?;
            eval.copy_out(&result, 0)
        })
    }
}

impl fmt::Debug for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonPath({:?})", &*self.source)
    }
}

/// Bounds the parser's recursion before it runs: length, bracket nesting, nesting tokens.
fn check_shape(expression: &str) -> Result<(), (JsonPathErrorKind, String)> {
    if expression.len() > MAX_EXPRESSION_BYTES {
        return Err((
            JsonPathErrorKind::TooLong,
            format!("the expression is {} bytes long (at most {MAX_EXPRESSION_BYTES})", expression.len()),
        ));
    }
    let bytes = expression.as_bytes();
    let (mut depth, mut deepest, mut openers, mut i) = (0usize, 0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                openers += 1;
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'!' if bytes.get(i + 1) == Some(&b'=') => i += 1,
            b'&' if bytes.get(i + 1) == Some(&b'&') => i += 1,
            b'!' | b'&' | b'*' => openers += 1,
            _ => {}
        }
        i += 1;
    }
    if deepest > MAX_NESTING {
        return Err((
            JsonPathErrorKind::TooDeep,
            format!("brackets nest {deepest} deep (at most {MAX_NESTING})"),
        ));
    }
    if openers > MAX_NESTING_TOKENS {
        return Err((
            JsonPathErrorKind::TooDeep,
            format!("{openers} of `[ ( {{ ! & *` (at most {MAX_NESTING_TOKENS})"),
        ));
    }
    Ok(())
}

/// The depth of a syntax tree, walked without recursion.
fn ast_depth(ast: &Ast) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(ast, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match node {
            Ast::Comparison { lhs, rhs, .. }
            | Ast::Subexpr { lhs, rhs, .. }
            | Ast::Projection { lhs, rhs, .. }
            | Ast::And { lhs, rhs, .. }
            | Ast::Or { lhs, rhs, .. } => {
                stack.push((lhs, depth + 1));
                stack.push((rhs, depth + 1));
            }
            Ast::Condition { predicate, then, .. } => {
                stack.push((predicate, depth + 1));
                stack.push((then, depth + 1));
            }
            Ast::Expref { ast: node, .. }
            | Ast::Flatten { node, .. }
            | Ast::Not { node, .. }
            | Ast::ObjectValues { node, .. } => stack.push((node, depth + 1)),
            Ast::Function { args: nodes, .. } | Ast::MultiList { elements: nodes, .. } => {
                stack.extend(nodes.iter().map(|n| (n, depth + 1)));
            }
            Ast::MultiHash { elements, .. } => stack.extend(elements.iter().map(|kv| (&kv.value, depth + 1))),
            Ast::Identity { .. }
            | Ast::Field { .. }
            | Ast::Index { .. }
            | Ast::Literal { .. }
            | Ast::Slice { .. } => {}
        }
    }
    deepest
}

/// One evaluation: the crate's context (for its functions and error positions) and what is
/// left of the budget.
struct Eval<'a> {
    ctx: Context<'a>,
    units: usize,
}

fn null() -> Rcvar {
    Rcvar::new(Variable::Null)
}

impl Eval<'_> {
    fn charge(&mut self, units: usize) -> Result<(), JsonPathError> {
        match self.units.checked_sub(units) {
            Some(left) => {
                self.units = left;
                Ok(())
            }
            None => {
                self.units = 0;
                Err(JsonPathError::new(
                    self.ctx.expression,
                    JsonPathErrorKind::TooLarge,
                    format!(
                        "evaluation needs more than {MAX_EVALUATION_UNITS} units (nodes visited, values built)"
                    ),
                ))
            }
        }
    }

    /// Charges a value just built by its own size (not its shared children's).
    fn built(&mut self, value: Variable) -> Result<Rcvar, JsonPathError> {
        self.charge(match &value {
            Variable::Array(a) => 1 + a.len(),
            Variable::Object(o) => 1 + o.len(),
            Variable::String(s) => 1 + s.len(),
            _ => 1,
        })?;
        Ok(Rcvar::new(value))
    }

    fn fail(&self, reason: RuntimeError) -> JsonPathError {
        let error = JmespathError::from_ctx(&self.ctx, ErrorReason::Runtime(reason));
        JsonPathError::from_jmespath(self.ctx.expression, &error)
    }

    /// Every recursion of the evaluator goes through here: it never runs out of stack,
    /// whatever the caller's thread has left.
    fn interpret(&mut self, data: &Rcvar, node: &Ast) -> Result<Rcvar, JsonPathError> {
        stacker::maybe_grow(RED_ZONE, SEGMENT, || self.interpret_node(data, node))
    }

    fn interpret_node(&mut self, data: &Rcvar, node: &Ast) -> Result<Rcvar, JsonPathError> {
        self.charge(1)?;
        Ok(match node {
            Ast::Field { name, .. } => data.get_field(name),
            Ast::Subexpr { lhs, rhs, .. } => {
                let left = self.interpret(data, lhs)?;
                self.interpret(&left, rhs)?
            }
            Ast::Identity { .. } => data.clone(),
            Ast::Literal { value, .. } => value.clone(),
            Ast::Index { idx, .. } => match usize::try_from(*idx) {
                Ok(idx) => data.get_index(idx),
                Err(_) => data.get_negative_index(idx.unsigned_abs() as usize),
            },
            Ast::Or { lhs, rhs, .. } => {
                let left = self.interpret(data, lhs)?;
                if left.is_truthy() { left } else { self.interpret(data, rhs)? }
            }
            Ast::And { lhs, rhs, .. } => {
                let left = self.interpret(data, lhs)?;
                if !left.is_truthy() { left } else { self.interpret(data, rhs)? }
            }
            Ast::Not { node, .. } => {
                let value = self.interpret(data, node)?;
                Rcvar::new(Variable::Bool(!value.is_truthy()))
            }
            Ast::Condition { predicate, then, .. } => {
                if self.interpret(data, predicate)?.is_truthy() {
                    self.interpret(data, then)?
                } else {
                    null()
                }
            }
            Ast::Comparison { comparator, lhs, rhs, .. } => {
                let left = self.interpret(data, lhs)?;
                let right = self.interpret(data, rhs)?;
                let result = match comparator {
                    AstComparator::Equal => Some(self.equal(&left, &right)?),
                    AstComparator::NotEqual => Some(!self.equal(&left, &right)?),
                    ordering => left.compare(ordering, &right),
                };
                result.map_or_else(null, |b| Rcvar::new(Variable::Bool(b)))
            }
            Ast::ObjectValues { node, .. } => match &*self.interpret(data, node)? {
                Variable::Object(o) => self.built(Variable::Array(o.values().cloned().collect()))?,
                _ => null(),
            },
            Ast::Projection { lhs, rhs, .. } => match self.interpret(data, lhs)?.as_array() {
                None => null(),
                Some(left) => {
                    let mut collected = Vec::new();
                    for element in left {
                        let current = self.interpret(element, rhs)?;
                        if !current.is_null() {
                            collected.push(current);
                        }
                    }
                    self.built(Variable::Array(collected))?
                }
            },
            Ast::Flatten { node, .. } => match self.interpret(data, node)?.as_array() {
                None => null(),
                Some(list) => {
                    let mut collected = Vec::new();
                    for element in list {
                        match element.as_array() {
                            Some(inner) => {
                                self.charge(inner.len())?;
                                collected.extend(inner.iter().cloned());
                            }
                            None => collected.push(element.clone()),
                        }
                    }
                    self.built(Variable::Array(collected))?
                }
            },
            Ast::MultiList { elements, .. } => {
                if data.is_null() {
                    null()
                } else {
                    let mut collected = Vec::with_capacity(elements.len());
                    for node in elements {
                        collected.push(self.interpret(data, node)?);
                    }
                    self.built(Variable::Array(collected))?
                }
            }
            Ast::MultiHash { elements, .. } => {
                if data.is_null() {
                    null()
                } else {
                    let mut collected = BTreeMap::new();
                    for kv in elements {
                        let value = self.interpret(data, &kv.value)?;
                        collected.insert(kv.key.clone(), value);
                    }
                    self.built(Variable::Object(collected))?
                }
            }
            Ast::Function { name, args, offset } => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.interpret(data, arg)?);
                }
                self.ctx.offset = *offset;
                self.call(name, &values)?
            }
            Ast::Expref { ast, .. } => Rcvar::new(Variable::Expref((**ast).clone())),
            Ast::Slice { start, stop, step, offset } => {
                if *step == 0 {
                    self.ctx.offset = *offset;
                    return Err(self.fail(RuntimeError::InvalidSlice));
                }
                match data.slice(*start, *stop, *step) {
                    Some(list) => self.built(Variable::Array(list))?,
                    None => null(),
                }
            }
        })
    }

    /// Calls a function: the ones that evaluate expressions or walk whole values here (within
    /// the budget), the others in the crate, their result charged by its size.
    fn call(&mut self, name: &str, args: &[Rcvar]) -> Result<Rcvar, JsonPathError> {
        use ArgumentType::{Any, Array, Expref, String as Str, Union};
        let validate = |eval: &Self, inputs: Vec<ArgumentType>| {
            Signature::new(inputs, None)
                .validate(args, &eval.ctx)
                .map_err(|e| JsonPathError::from_jmespath(eval.ctx.expression, &e))
        };
        match name {
            "map" => {
                validate(self, vec![Expref, Array])?;
                let (ast, list) =
                    (args[0].as_expref().expect("validated"), args[1].as_array().expect("validated"));
                let mut results = Vec::with_capacity(list.len());
                for value in list {
                    results.push(self.interpret(value, ast)?);
                }
                self.built(Variable::Array(results))
            }
            "sort_by" | "min_by" | "max_by" => {
                validate(self, vec![Array, Expref])?;
                let (list, ast) =
                    (args[0].as_array().expect("validated"), args[1].as_expref().expect("validated"));
                let mut keyed: Vec<(Rcvar, Rcvar)> = Vec::with_capacity(list.len());
                for (invocation, value) in list.iter().enumerate() {
                    let key = self.interpret(value, ast)?;
                    let first = keyed.first().map(|(_, k)| k);
                    let bad = match first {
                        None => !(key.is_string() || key.is_number()),
                        Some(first) => key.get_type() != first.get_type(),
                    };
                    if bad {
                        let expected = first
                            .map_or("expression->number|expression->string".to_string(), |f| {
                                format!("expression->{}", f.get_type())
                            });
                        return Err(self.fail(RuntimeError::InvalidReturnType {
                            expected,
                            actual: key.get_type().to_string(),
                            position: 1,
                            invocation: invocation.max(1),
                        }));
                    }
                    keyed.push((value.clone(), key));
                }
                match name {
                    "sort_by" => {
                        self.charge(keyed.len())?;
                        keyed.sort_by(|a, b| a.1.cmp(&b.1));
                        self.built(Variable::Array(keyed.into_iter().map(|(v, _)| v).collect()))
                    }
                    _ => {
                        let wanted = if name == "max_by" { Ordering::Greater } else { Ordering::Less };
                        let mut best: Option<&(Rcvar, Rcvar)> = None;
                        for pair in &keyed {
                            if best.is_none_or(|b| pair.1.partial_cmp(&b.1) == Some(wanted)) {
                                best = Some(pair);
                            }
                        }
                        Ok(best.map_or_else(null, |(v, _)| v.clone()))
                    }
                }
            }
            "contains" => {
                validate(self, vec![Union(vec![Str, Array]), Any])?;
                let found = match &*args[0] {
                    Variable::Array(list) => {
                        let mut found = false;
                        for element in list {
                            if self.equal(element, &args[1])? {
                                found = true;
                                break;
                            }
                        }
                        found
                    }
                    Variable::String(haystack) => {
                        self.charge(haystack.len())?;
                        args[1].as_string().is_some_and(|needle| haystack.contains(needle.as_str()))
                    }
                    _ => false,
                };
                Ok(Rcvar::new(Variable::Bool(found)))
            }
            _ => {
                if name == "to_string" && args.len() == 1 {
                    // Printing a shared graph writes every path: size it first.
                    self.size(&args[0], 0)?;
                }
                let Some(function) = self.ctx.runtime.get_function(name) else {
                    return Err(self.fail(RuntimeError::UnknownFunction(name.to_string())));
                };
                // The crate's functions recurse over values (printing, sorting) as deep as they go.
                let ctx = &mut self.ctx;
                let result = stacker::maybe_grow(VALUE_STACK, VALUE_STACK, || function.evaluate(args, ctx))
                    .map_err(|e| JsonPathError::from_jmespath(self.ctx.expression, &e))?;
                self.charge(match &*result {
                    Variable::Array(a) => a.len(),
                    Variable::Object(o) => o.len(),
                    Variable::String(s) => s.len(),
                    _ => 1,
                })?;
                Ok(result)
            }
        }
    }

    /// JMESPath equality (numbers by value), shared nodes compared once, within the budget.
    fn equal(&mut self, a: &Rcvar, b: &Rcvar) -> Result<bool, JsonPathError> {
        stacker::maybe_grow(RED_ZONE, SEGMENT, || self.equal_step(a, b))
    }

    fn equal_step(&mut self, a: &Rcvar, b: &Rcvar) -> Result<bool, JsonPathError> {
        if Arc::ptr_eq(a, b) {
            return Ok(true);
        }
        self.charge(1)?;
        match (&**a, &**b) {
            (Variable::Array(x), Variable::Array(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y) {
                    if !self.equal(p, q)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Variable::Object(x), Variable::Object(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (key, p) in x {
                    match y.get(key) {
                        Some(q) if self.equal(p, q)? => {}
                        _ => return Ok(false),
                    }
                }
                Ok(true)
            }
            (Variable::String(x), Variable::String(y)) => {
                self.charge(x.len().min(y.len()))?;
                Ok(x == y)
            }
            _ => Ok(a == b),
        }
    }

    /// Charges a value's size as a tree (every path), as printing or copying it would cost.
    fn size(&mut self, value: &Rcvar, depth: usize) -> Result<(), JsonPathError> {
        stacker::maybe_grow(RED_ZONE, SEGMENT, || self.size_step(value, depth))
    }

    fn size_step(&mut self, value: &Rcvar, depth: usize) -> Result<(), JsonPathError> {
        self.check_depth(depth)?;
        self.charge(1)?;
        match &**value {
            Variable::Array(list) => list.iter().try_for_each(|v| self.size(v, depth + 1)),
            Variable::Object(map) => map.values().try_for_each(|v| self.size(v, depth + 1)),
            Variable::String(s) => self.charge(s.len()),
            _ => Ok(()),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), JsonPathError> {
        if depth > 2 * MAX_AST_DEPTH {
            return Err(JsonPathError::new(
                self.ctx.expression,
                JsonPathErrorKind::TooDeep,
                format!("the result nests more than {} deep", 2 * MAX_AST_DEPTH),
            ));
        }
        Ok(())
    }

    /// The result as JSON (a shared graph unfolds into a tree: [`Eval::size`] it first).
    fn copy_out(&mut self, value: &Rcvar, depth: usize) -> Result<Value, JsonPathError> {
        stacker::maybe_grow(RED_ZONE, SEGMENT, || self.copy_out_step(value, depth))
    }

    fn copy_out_step(&mut self, value: &Rcvar, depth: usize) -> Result<Value, JsonPathError> {
        self.check_depth(depth)?;

        Ok(match &**value {
            Variable::Null => Value::Null,
            Variable::Bool(b) => Value::Bool(*b),
            Variable::Number(n) => Value::Number(n.clone()),
            Variable::String(s) => Value::String(s.clone()),
            Variable::Array(list) => {
                Value::Array(list.iter().map(|v| self.copy_out(v, depth + 1)).collect::<Result<_, _>>()?)
            }
            Variable::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.copy_out(v, depth + 1)?)))
                    .collect::<Result<_, JsonPathError>>()?,
            ),
            Variable::Expref(_) => Value::Null,
        })
    }
}
