//! Recursive-descent parser over the nom token recognisers of [`crate::lexer`].
//!
//! The structure follows libsinsp's `filter/parser.cpp` (libs 0.25.4): a cursor that
//! skips blanks explicitly, tries alternatives in a fixed order, backtracks only where
//! libsinsp does, and reports errors at the position where it stopped.
//!
//! Nested constructs (groups, transformer calls, transformer lists) are kept on explicit
//! stacks rather than the call stack, so stack use does not grow with nesting. Nesting
//! is still counted: more than [`MAX_DEPTH`] levels is an error, which bounds the depth
//! of the returned AST (whose `Drop`, `Display`, etc. recurse).

use std::borrow::Cow;
use std::sync::Arc;

use crate::ast::{Check, Expr, FieldRef, Modifier, Operand, Rhs, Span, Transformer};
use crate::escape::unescape_quoted;
use crate::lexer::{self, LexResult, OperatorToken};
use crate::{ParseError, Position, MAX_DEPTH};

type PResult<T> = Result<T, ParseError>;

/// Parses a whole condition.
///
/// The whole text must be consumed; trailing text is the libsinsp error
/// `unexpected token after '<last token>', expecting 'or', 'and'`.
pub fn parse_condition(text: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser::new(text);
    if text.is_empty() {
        return Err(parser.error("filter input string is empty"));
    }
    let expr = parser.parse_or()?;
    if parser.pos != text.len() {
        return Err(parser.error(format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            parser.last_token
        )));
    }
    Ok(expr)
}

/// Parses the longest field or transformer expression at the start of `text` (used by
/// output templates after `%`). Returns the operand and the number of bytes consumed.
///
/// The rest of the text is not looked at. `val(...)` is not accepted here.
pub fn parse_operand(text: &str) -> Result<(Operand, usize), ParseError> {
    let mut parser = Parser::new(text);
    let operand = parser.parse_field_or_transformer()?;
    Ok((operand, parser.pos))
}

/// A saved cursor, for the few places where libsinsp backtracks.
struct Checkpoint<'a> {
    pos: usize,
    last_token: Cow<'a, str>,
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the cursor; always on a character boundary.
    pos: usize,
    /// Current nesting level (groups, transformer calls, transformer lists).
    depth: usize,
    /// The last token read (blanks excluded), quoted strings un-escaped; used in the
    /// "unexpected token" message.
    last_token: Cow<'a, str>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            pos: 0,
            depth: 0,
            last_token: Cow::Borrowed(""),
        }
    }

    // ----------------------------------------------------------------------------------
    // Boolean structure: or > and > not > check
    //
    // Grammar (libsinsp):
    //   Or    := And ("or" Sep And')*
    //   And   := Not ("and" Sep Not')*
    //   Sep   := blanks, or nothing when "(" follows; after "and(" / "or(" the group is
    //            the operand itself (so `a or(b) and c` leaves `and c` unparsed)
    //   Not   := NotPrefix* ("not(" Group | "(" Group | Check)
    //   Group := Or ")"
    //
    // Groups nest, so instead of recursing the parser keeps the constructs still waiting
    // for an operand on an explicit stack (`Pending`). Stack use is therefore constant
    // whatever the nesting; the depth counter only enforces MAX_DEPTH.

    /// Parses an `Or` expression (the whole condition, at the top level).
    fn parse_or(&mut self) -> PResult<Expr> {
        let mut pending = Vec::new();
        let mut step = Step::Or;
        loop {
            step = match step {
                Step::Or => self.begin_chain(&mut pending, Pending::Or, Step::And),
                Step::And => self.begin_chain(&mut pending, Pending::And, Step::Not),
                Step::Not => self.begin_not(&mut pending)?,
                Step::Group => self.begin_group(&mut pending)?,
                Step::Done(expr) => match pending.pop() {
                    None => return Ok(expr),
                    Some(waiting) => self.resume(waiting, expr, &mut pending)?,
                },
            };
        }
    }

    /// Opens an `or`/`and` chain; its first operand comes next.
    fn begin_chain(
        &mut self,
        pending: &mut Vec<Pending>,
        chain: fn(Chain) -> Pending,
        operand: Step,
    ) -> Step {
        self.skip_blanks();
        pending.push(chain(Chain::starting_at(self.pos)));
        operand
    }

    /// `NotPrefix* ("not(" Group | "(" Group | Check)`; every `not` toggles negation.
    fn begin_not(&mut self, pending: &mut Vec<Pending>) -> PResult<Step> {
        self.skip_blanks();
        let start = self.pos;
        let mut negated = false;
        while self.lex(lexer::not_prefix).is_some() {
            negated = !negated;
        }
        if self.lex_literal("not(") {
            pending.push(Pending::Not {
                start,
                negated: !negated,
            });
            return Ok(Step::Group);
        }
        self.skip_blanks();
        if self.lex_literal("(") {
            pending.push(Pending::Not { start, negated });
            return Ok(Step::Group);
        }
        let check = self.parse_check()?;
        Ok(Step::Done(self.negate_if(negated, check, start)))
    }

    /// After a `(`: a nested `Or`, then `)`.
    fn begin_group(&mut self, pending: &mut Vec<Pending>) -> PResult<Step> {
        self.enter_nesting()?;
        self.skip_blanks();
        pending.push(Pending::Group);
        Ok(Step::Or)
    }

    /// Hands a finished operand to the construct that was waiting for it.
    fn resume(
        &mut self,
        waiting: Pending,
        expr: Expr,
        pending: &mut Vec<Pending>,
    ) -> PResult<Step> {
        match waiting {
            Pending::Group => {
                self.skip_blanks();
                if !self.lex_literal(")") {
                    return Err(self.error("expected a ')' token"));
                }
                self.leave_nesting();
                Ok(Step::Done(expr))
            }
            Pending::Not { start, negated } => Ok(Step::Done(self.negate_if(negated, expr, start))),
            Pending::Or(chain) => self.continue_chain(chain, expr, pending, ChainKind::Or),
            Pending::And(chain) => self.continue_chain(chain, expr, pending, ChainKind::And),
        }
    }

    /// Adds an operand to an `or`/`and` chain, then either waits for the operand after
    /// the next keyword or finishes the chain.
    fn continue_chain(
        &mut self,
        mut chain: Chain,
        operand: Expr,
        pending: &mut Vec<Pending>,
        kind: ChainKind,
    ) -> PResult<Step> {
        chain.children.push(operand);
        chain.end = self.pos;
        self.skip_blanks();
        if !self.lex_literal(kind.keyword()) {
            return Ok(Step::Done(chain.finish(kind)));
        }
        let next = if self.skip_blanks() {
            kind.operand_step()
        } else if self.lex_literal("(") {
            Step::Group
        } else {
            return Err(self.error(format!("expected blank or '(' after '{}'", kind.keyword())));
        };
        pending.push(kind.pending(chain));
        Ok(next)
    }

    fn negate_if(&self, negated: bool, expr: Expr, start: usize) -> Expr {
        if negated {
            Expr::Not(Box::new(expr), self.span_from(start))
        } else {
            expr
        }
    }

    /// `Check := Field Cond | Transformer Cond | Identifier` (groups are handled by the
    /// caller).
    fn parse_check(&mut self) -> PResult<Expr> {
        let start = self.pos;
        if let Some(field) = self.lex_field()? {
            return self.parse_check_rest(Operand::Field(field), start);
        }
        if let Some(kind) = self.lex_transformer_open() {
            let lhs = self.parse_transformer_rest(kind, start)?;
            return self.parse_check_rest(lhs, start);
        }
        if let Some(name) = self.lex(lexer::identifier) {
            return Ok(Expr::Macro(name.to_string(), self.span_from(start)));
        }
        Err(self.error("expected a '(' token, a field check, or an identifier"))
    }

    // ----------------------------------------------------------------------------------
    // Checks: operator and right-hand side

    /// `Cond`: the operator and its right-hand side, after the left-hand side.
    fn parse_check_rest(&mut self, lhs: Operand, start: usize) -> PResult<Expr> {
        self.skip_blanks();
        let (op, rhs) = if let Some(exists) = self.lex_operator(lexer::UNARY_OPERATORS) {
            (exists.op, Rhs::None)
        } else if let Some(numeric) = self.lex_operator(lexer::NUMERIC_OPERATORS) {
            (numeric.op, self.parse_number_rhs()?)
        } else if let Some(string) = self.lex_operator(lexer::STRING_OPERATORS) {
            // Word operators consumed their mandatory blank already.
            let had_blank = string.needs_blank || self.skip_blanks();
            (string.op, self.parse_string_rhs(had_blank)?)
        } else if let Some(list) = self.lex_operator(lexer::LIST_OPERATORS) {
            (list.op, self.parse_list_rhs()?)
        } else {
            return Err(self.error(format!(
                "expected a valid check operator: one of {}",
                operator_list()
            )));
        };
        Ok(Expr::Check(Arc::new(Check {
            lhs,
            op,
            rhs,
            span: self.span_from(start),
        })))
    }

    /// Right-hand side of `<`, `<=`, `>`, `>=`: a number or a transformer.
    fn parse_number_rhs(&mut self) -> PResult<Rhs> {
        self.skip_blanks();
        if let Some(operand) = self.try_parse_rhs_transformer()? {
            return Ok(Rhs::Field(operand));
        }
        let start = self.pos;
        if let Some(number) = self.lex(lexer::any_number) {
            return Ok(Rhs::Value(number.to_string(), self.span_from(start)));
        }
        Err(self.error(format!(
            "expected a number value or a field with a valid transformer: {}",
            transformer_list()
        )))
    }

    /// Right-hand side of a string operator: a modifier and a list, a transformer, or a
    /// single string.
    fn parse_string_rhs(&mut self, had_blank: bool) -> PResult<Rhs> {
        if had_blank {
            if let Some(modified) = self.try_parse_modifier_list()? {
                return Ok(modified);
            }
        }
        self.skip_blanks();
        if let Some(operand) = self.try_parse_rhs_transformer()? {
            return Ok(Rhs::Field(operand));
        }
        if let Some((value, span)) = self.lex_string_value()? {
            return Ok(Rhs::Value(value, span));
        }
        Err(self.error(format!(
            "expected a string value or a field with a valid transformer: {}",
            transformer_list()
        )))
    }

    /// `Modifier ListValue`, taken only when the modifier keyword is followed by a blank
    /// and then by `(` or an identifier that is not `and`/`or`/`not`. Otherwise the
    /// cursor is restored and the keyword is read as a plain string.
    fn try_parse_modifier_list(&mut self) -> PResult<Option<Rhs>> {
        let checkpoint = self.checkpoint();
        if let Some(modifier) = self.lex_modifier() {
            if self.list_value_follows() && !self.bool_keyword_follows() {
                let (values, span) = self.parse_modifier_values()?;
                return Ok(Some(Rhs::Modified(modifier, values, span)));
            }
        }
        self.restore(checkpoint);
        Ok(None)
    }

    /// `ListValue := List | Identifier` after a modifier.
    fn parse_modifier_values(&mut self) -> PResult<(Vec<String>, Span)> {
        self.skip_blanks();
        if let Some(list) = self.try_parse_value_list()? {
            return Ok(list);
        }
        let start = self.pos;
        match self.lex(lexer::identifier) {
            Some(name) => Ok((vec![name.to_string()], self.span_from(start))),
            None => Err(self.error("expected a list or an identifier")),
        }
    }

    /// Right-hand side of `in`, `intersects`, `pmatch`: a list, a transformer, or an
    /// identifier (a one-element list).
    fn parse_list_rhs(&mut self) -> PResult<Rhs> {
        self.skip_blanks();
        if let Some((values, span)) = self.try_parse_value_list()? {
            return Ok(Rhs::List(values, span));
        }
        if let Some(operand) = self.try_parse_rhs_transformer()? {
            return Ok(Rhs::Field(operand));
        }
        let start = self.pos;
        if let Some(name) = self.lex(lexer::identifier) {
            return Ok(Rhs::List(vec![name.to_string()], self.span_from(start)));
        }
        Err(self.error(format!(
            "expected a list, an identifier, or a field with a valid transformer: {}",
            transformer_list()
        )))
    }

    /// `List := "(" [Str ("," Str)*] ")"`, or `None` when no `(` is at the cursor.
    fn try_parse_value_list(&mut self) -> PResult<Option<(Vec<String>, Span)>> {
        let start = self.pos;
        if !self.lex_literal("(") {
            return Ok(None);
        }
        self.skip_blanks();
        let mut values = Vec::new();
        // Quirk kept from libsinsp: any failure to read the first value means "empty
        // list", keeping the position reached (even past a string with a bad escape).
        if let Ok(first) = self.parse_list_item() {
            values.push(first);
            self.skip_blanks();
            while self.lex_literal(",") {
                values.push(self.parse_list_item()?);
                self.skip_blanks();
            }
        }
        if !self.lex_literal(")") {
            return Err(self.error("expected a ')' token"));
        }
        Ok(Some((values, self.span_from(start))))
    }

    /// One element of a value list: a quoted or bare string.
    fn parse_list_item(&mut self) -> PResult<String> {
        self.skip_blanks();
        match self.lex_string_value()? {
            Some((value, _)) => Ok(value),
            None => Err(self.error("expected a string value")),
        }
    }

    /// A quoted (un-escaped) or bare string.
    fn lex_string_value(&mut self) -> PResult<Option<(String, Span)>> {
        if let Some(quoted) = self.lex_quoted()? {
            return Ok(Some(quoted));
        }
        let start = self.pos;
        Ok(self
            .lex(lexer::bare_string)
            .map(|bare| (bare.to_string(), self.span_from(start))))
    }

    // ----------------------------------------------------------------------------------
    // Fields and transformers

    /// `%` operands of output templates: a field or a transformer expression.
    fn parse_field_or_transformer(&mut self) -> PResult<Operand> {
        let start = self.pos;
        if let Some(field) = self.lex_field()? {
            return Ok(Operand::Field(field));
        }
        if let Some(kind) = self.lex_transformer_open() {
            return self.parse_transformer_rest(kind, start);
        }
        // (sic) libsinsp's message has no closing quote here.
        Err(self.error(format!("unexpected token after '{}", self.last_token)))
    }

    /// `val(field)` or a transformer expression on the right-hand side, if one starts at
    /// the cursor. `val(f)` becomes `Operand::Field(f)`.
    fn try_parse_rhs_transformer(&mut self) -> PResult<Option<Operand>> {
        self.skip_blanks();
        let start = self.pos;
        if self.lex_literal("val(") {
            return self.parse_val_rest().map(Some);
        }
        match self.lex_transformer_open() {
            Some(kind) => self.parse_transformer_rest(kind, start).map(Some),
            None => Ok(None),
        }
    }

    /// The rest of `val(field)`, after `val(`.
    fn parse_val_rest(&mut self) -> PResult<Operand> {
        self.skip_blanks();
        let Some(field) = self.lex_field()? else {
            return Err(self.error("expected a field within 'val' transformer"));
        };
        self.skip_blanks();
        if !self.lex_literal(")") {
            return Err(self.error("expected a ')' token closing the transformer"));
        }
        // libsinsp rejects this when compiling; the AST has no place to keep it.
        if self.parse_optional_field_arg()?.is_some() {
            return Err(
                self.error("filter error: transformer 'val' does not support field arguments")
            );
        }
        Ok(Operand::Field(field))
    }

    // Transformer expressions nest (`b64(tolower(f))`, `join(",", (tolower(f), g))`);
    // like groups, the calls and lists still collecting arguments are kept on an
    // explicit stack (`OpenCall`).

    /// The rest of a transformer expression, after `name(`:
    /// `TArg ("," TArg)* ")" ["[" arg "]"]`.
    fn parse_transformer_rest(&mut self, kind: Transformer, start: usize) -> PResult<Operand> {
        let mut open = Vec::new();
        let mut step = self.open_call(&mut open, OpenCall::transform(kind, start))?;
        loop {
            step = match step {
                ArgStep::Expect => self.parse_argument(&mut open)?,
                ArgStep::Done(operand) => match open.pop() {
                    None => return Ok(operand),
                    Some(call) => self.continue_call(call, operand, &mut open)?,
                },
            };
        }
    }

    /// Enters a transformer call or list whose opening `(` was just read.
    fn open_call(&mut self, open: &mut Vec<OpenCall>, call: OpenCall) -> PResult<ArgStep> {
        self.enter_nesting()?;
        self.skip_blanks();
        if matches!(call, OpenCall::List { .. }) && self.lex_literal(")") {
            self.leave_nesting();
            return Ok(ArgStep::Done(call.into_operand(self.pos, None)));
        }
        open.push(call);
        Ok(ArgStep::Expect)
    }

    /// One argument of the innermost open call or list: either a complete operand, or a
    /// nested call/list that was opened.
    fn parse_argument(&mut self, open: &mut Vec<OpenCall>) -> PResult<ArgStep> {
        self.skip_blanks();
        let start = self.pos;
        let in_list = matches!(open.last(), Some(OpenCall::List { .. }));
        if let Some(number) = self.lex(lexer::any_number) {
            return Ok(ArgStep::Done(Operand::Literal(
                number.to_string(),
                self.span_from(start),
            )));
        }
        if let Some((value, span)) = self.lex_quoted()? {
            return Ok(ArgStep::Done(Operand::Literal(value, span)));
        }
        if !in_list && self.lex_literal("(") {
            return self.open_call(open, OpenCall::list(start));
        }
        if let Some(kind) = self.lex_transformer_open() {
            return self.open_call(open, OpenCall::transform(kind, start));
        }
        if let Some(field) = self.lex_field()? {
            return Ok(ArgStep::Done(Operand::Field(field)));
        }
        Err(self.error(if in_list {
            "expected transformer list argument: field, transformer, quoted string, or number"
        } else {
            "expected field transformer argument: \
             field, transformer, quoted string, number, or transformer list"
        }))
    }

    /// Adds an argument to an open call or list, then waits for the next one after a
    /// `,` or closes it with `)`.
    fn continue_call(
        &mut self,
        mut call: OpenCall,
        argument: Operand,
        open: &mut Vec<OpenCall>,
    ) -> PResult<ArgStep> {
        call.push(argument);
        self.skip_blanks();
        if self.lex_literal(",") {
            open.push(call);
            return Ok(ArgStep::Expect);
        }
        self.skip_blanks();
        if !self.lex_literal(")") {
            return Err(self.error(match call {
                OpenCall::Transform { .. } => "expected a ')' token closing the transformer",
                OpenCall::List { .. } => "expected ')'",
            }));
        }
        self.leave_nesting();
        let arg = match call {
            OpenCall::Transform { .. } => self.parse_optional_field_arg()?,
            OpenCall::List { .. } => None,
        };
        Ok(ArgStep::Done(call.into_operand(self.pos, arg)))
    }

    /// `Field := FieldName ["[" arg "]"]` (no blank before `[`), if a field name starts
    /// at the cursor.
    fn lex_field(&mut self) -> PResult<Option<FieldRef>> {
        let start = self.pos;
        let Some(name) = self.lex(lexer::field_name) else {
            return Ok(None);
        };
        let arg = self.parse_optional_field_arg()?;
        Ok(Some(FieldRef {
            name: name.to_string(),
            arg,
            span: self.span_from(start),
        }))
    }

    /// `["[" (QuotedString | FieldArgBare) "]"]` right at the cursor.
    fn parse_optional_field_arg(&mut self) -> PResult<Option<String>> {
        if !self.lex_literal("[") {
            return Ok(None);
        }
        let arg = if let Some((value, _)) = self.lex_quoted()? {
            value
        } else if let Some(bare) = self.lex(lexer::field_arg_bare) {
            bare.to_string()
        } else {
            return Err(
                self.error("expected a valid field argument: a quoted string or a bare string")
            );
        };
        if !self.lex_literal("]") {
            return Err(self.error("expected a ']' token"));
        }
        Ok(Some(arg))
    }

    // ----------------------------------------------------------------------------------
    // Cursor primitives

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.pos)
    }

    fn checkpoint(&self) -> Checkpoint<'a> {
        Checkpoint {
            pos: self.pos,
            last_token: self.last_token.clone(),
        }
    }

    fn restore(&mut self, checkpoint: Checkpoint<'a>) {
        self.pos = checkpoint.pos;
        self.last_token = checkpoint.last_token;
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            pos: position_at(self.text, self.pos),
        }
    }

    fn enter_nesting(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave_nesting(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips blanks; tells whether there were any. The last token is left alone.
    fn skip_blanks(&mut self) -> bool {
        let skipped = lexer::blanks(self.rest()).map_or(0, |(_, blanks)| blanks.len());
        self.pos += skipped;
        skipped > 0
    }

    /// Runs a token recogniser at the cursor and consumes its token on success.
    fn lex(&mut self, recogniser: fn(&'a str) -> LexResult<'a>) -> Option<&'a str> {
        let (_, token) = recogniser(self.rest()).ok()?;
        self.pos += token.len();
        self.last_token = Cow::Borrowed(token);
        Some(token)
    }

    /// Consumes `literal` if the text at the cursor starts with it (case-sensitive).
    fn lex_literal(&mut self, literal: &'static str) -> bool {
        if !self.rest().starts_with(literal) {
            return false;
        }
        self.pos += literal.len();
        self.last_token = Cow::Borrowed(literal);
        true
    }

    /// Consumes `word` and the blanks after it; consumes nothing if no blank follows.
    fn lex_word_then_blank(&mut self, word: &'static str) -> bool {
        let checkpoint = self.checkpoint();
        if self.lex_literal(word) && self.skip_blanks() {
            return true;
        }
        self.restore(checkpoint);
        false
    }

    /// The first operator of `table` found at the cursor.
    fn lex_operator(&mut self, table: &'static [OperatorToken]) -> Option<&'static OperatorToken> {
        table.iter().find(|operator| {
            if operator.needs_blank {
                self.lex_word_then_blank(operator.text)
            } else {
                self.lex_literal(operator.text)
            }
        })
    }

    /// `oneof`/`anyof`/`allof` followed by blanks.
    fn lex_modifier(&mut self) -> Option<Modifier> {
        lexer::MODIFIERS
            .iter()
            .find(|(word, _)| self.lex_word_then_blank(word))
            .map(|(_, modifier)| *modifier)
    }

    /// `name(` of a transformer other than `val`.
    fn lex_transformer_open(&mut self) -> Option<Transformer> {
        let rest = self.rest();
        let (opener, kind) = lexer::TRANSFORMER_OPENERS
            .iter()
            .find(|(opener, _)| rest.starts_with(opener))?;
        self.pos += opener.len();
        self.last_token = Cow::Borrowed(kind.name());
        Some(*kind)
    }

    /// A quoted string at the cursor, un-escaped. An unterminated string is `None`;
    /// a bad escape is an error positioned after the closing quote.
    fn lex_quoted(&mut self) -> PResult<Option<(String, Span)>> {
        let start = self.pos;
        let Some(token) = self.lex(lexer::quoted_string) else {
            return Ok(None);
        };
        let value = unescape_quoted(token).map_err(|message| self.error(message))?;
        self.last_token = Cow::Owned(value.clone());
        Ok(Some((value, self.span_from(start))))
    }

    /// Peek: `(` or an identifier follows.
    fn list_value_follows(&self) -> bool {
        let rest = self.rest();
        rest.starts_with('(') || lexer::identifier(rest).is_ok()
    }

    /// Peek: `and`, `or` or `not` follows, not glued to a letter or digit.
    fn bool_keyword_follows(&self) -> bool {
        let rest = self.rest();
        ["and", "or", "not"].iter().any(|keyword| {
            rest.strip_prefix(keyword).is_some_and(|after| {
                !after
                    .as_bytes()
                    .first()
                    .is_some_and(|next| next.is_ascii_alphanumeric())
            })
        })
    }
}

/// The next thing the boolean-structure loop does.
enum Step {
    /// Start an `or` chain.
    Or,
    /// Start an `and` chain.
    And,
    /// Start a possibly negated operand.
    Not,
    /// Continue after an opening `(`.
    Group,
    /// An expression is complete; give it to the innermost pending construct.
    Done(Expr),
}

/// A construct waiting for an operand.
enum Pending {
    Or(Chain),
    And(Chain),
    /// Negation (possibly cancelled out) of the operand, which is a group.
    Not {
        start: usize,
        negated: bool,
    },
    /// An open `(`: the operand is followed by `)`.
    Group,
}

/// The operands of an `or`/`and` chain read so far.
struct Chain {
    start: usize,
    end: usize,
    children: Vec<Expr>,
}

impl Chain {
    fn starting_at(start: usize) -> Self {
        Chain {
            start,
            end: start,
            children: Vec::new(),
        }
    }

    /// One operand stays itself; several become an n-ary node.
    fn finish(mut self, kind: ChainKind) -> Expr {
        if self.children.len() == 1 {
            if let Some(only) = self.children.pop() {
                return only;
            }
        }
        let span = Span::new(self.start, self.end);
        match kind {
            ChainKind::Or => Expr::Or(self.children, span),
            ChainKind::And => Expr::And(self.children, span),
        }
    }
}

#[derive(Clone, Copy)]
enum ChainKind {
    Or,
    And,
}

impl ChainKind {
    fn keyword(self) -> &'static str {
        match self {
            ChainKind::Or => "or",
            ChainKind::And => "and",
        }
    }

    /// What an operand after the keyword and a blank is.
    fn operand_step(self) -> Step {
        match self {
            ChainKind::Or => Step::And,
            ChainKind::And => Step::Not,
        }
    }

    fn pending(self, chain: Chain) -> Pending {
        match self {
            ChainKind::Or => Pending::Or(chain),
            ChainKind::And => Pending::And(chain),
        }
    }
}

/// The next thing the transformer loop does.
enum ArgStep {
    /// Read an argument of the innermost open call or list.
    Expect,
    /// An operand is complete; give it to the innermost open call or list.
    Done(Operand),
}

/// A transformer call or a transformer argument list, still collecting arguments.
enum OpenCall {
    Transform {
        kind: Transformer,
        start: usize,
        args: Vec<Operand>,
    },
    List {
        start: usize,
        items: Vec<Operand>,
    },
}

impl OpenCall {
    fn transform(kind: Transformer, start: usize) -> Self {
        OpenCall::Transform {
            kind,
            start,
            args: Vec::new(),
        }
    }

    fn list(start: usize) -> Self {
        OpenCall::List {
            start,
            items: Vec::new(),
        }
    }

    fn push(&mut self, operand: Operand) {
        match self {
            OpenCall::Transform { args, .. } => args.push(operand),
            OpenCall::List { items, .. } => items.push(operand),
        }
    }

    /// The finished operand, ending at byte `end`.
    fn into_operand(self, end: usize, arg: Option<String>) -> Operand {
        match self {
            OpenCall::Transform { kind, start, args } => Operand::Transform {
                kind,
                args,
                arg,
                span: Span::new(start, end),
            },
            OpenCall::List { start, items } => Operand::List(items, Span::new(start, end)),
        }
    }
}

/// libsinsp's position of a byte offset: every byte advances the column; `\r` and `\n`
/// each start a new line.
fn position_at(text: &str, index: usize) -> Position {
    let mut line = 1;
    let mut column = 1;
    for &byte in text.as_bytes().iter().take(index) {
        column += 1;
        if byte == b'\r' || byte == b'\n' {
            line += 1;
            column = 1;
        }
    }
    Position {
        index,
        line,
        column,
    }
}

/// `'exists', '<=', ...` in libsinsp's order.
fn operator_list() -> String {
    let operators = lexer::UNARY_OPERATORS
        .iter()
        .chain(lexer::NUMERIC_OPERATORS)
        .chain(lexer::STRING_OPERATORS)
        .chain(lexer::LIST_OPERATORS)
        .map(|operator| operator.text);
    quoted_list(operators)
}

/// `'val', 'tolower', ...` in libsinsp's order.
fn transformer_list() -> String {
    let names = std::iter::once("val").chain(Transformer::ALL.iter().map(|t| t.name()));
    quoted_list(names)
}

fn quoted_list<'s>(items: impl Iterator<Item = &'s str>) -> String {
    items
        .map(|item| format!("'{item}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_bytes_and_line_breaks() {
        let at = |text, index| {
            let p = position_at(text, index);
            (p.line, p.column)
        };
        assert_eq!(at("abc", 0), (1, 1));
        assert_eq!(at("abc", 3), (1, 4));
        assert_eq!(at("a\nbc", 3), (2, 2));
        // `\r\n` counts as two line breaks, as in libsinsp.
        assert_eq!(at("a\r\nb", 3), (3, 1));
        assert_eq!(at("é", 2), (1, 3));
    }

    #[test]
    fn operator_message_lists_every_operator_in_order() {
        assert_eq!(
            operator_list(),
            "'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', \
             'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', \
             'intersects', 'in', 'pmatch'"
        );
        assert_eq!(
            transformer_list(),
            "'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'"
        );
    }

    #[test]
    fn op_enum_is_used_for_every_operator() {
        let all: Vec<crate::ast::Op> = lexer::UNARY_OPERATORS
            .iter()
            .chain(lexer::NUMERIC_OPERATORS)
            .chain(lexer::STRING_OPERATORS)
            .chain(lexer::LIST_OPERATORS)
            .map(|o| o.op)
            .collect();
        assert_eq!(all.len(), 20);
        assert!(all.iter().filter(|op| **op == crate::ast::Op::Eq).count() == 2);
    }
}
