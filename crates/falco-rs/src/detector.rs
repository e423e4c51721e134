//! The event loop body: evaluate the active rules on one event, render and emit alerts,
//! count matches.
//!
//! [`Evaluator`] is the per-thread part (rule index, recycled field cache, rendering);
//! [`Detector`] adds what must stay sequential (event numbering, `-M`, statistics,
//! outputs), so that a multi-threaded replay emits exactly what a single-threaded one does.

use crate::rule_index::{positions, RuleIndex};
use falco_rs_engine::{CacheBuffers, Program};
use falco_rs_k8saudit::AuditEvent;
use falco_rs_output::{Alert, AlertFormat, Outputs, Stats};
use falco_rs_rules::compile::CompiledRule;
use std::io::Write as _;
use std::ops::ControlFlow;
use std::sync::Arc;

/// Evaluates the active rules on events and renders the alerts. One per thread.
pub struct Evaluator<'a> {
    rules: &'a [CompiledRule],
    program: &'a Program,
    order: &'a [usize],
    index: Arc<RuleIndex>,
    fmt: AlertFormat,
    match_all: bool,
    buffers: Option<CacheBuffers>,
    scratch: Vec<u64>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator over compiled rules in evaluation `order`, with its rule index.
    pub fn new(
        rules: &'a [CompiledRule],
        program: &'a Program,
        order: &'a [usize],
        fmt: AlertFormat,
        match_all: bool,
    ) -> Self {
        let index = Arc::new(RuleIndex::build(rules, program, order));
        Self::with_index(rules, program, order, index, fmt, match_all)
    }

    /// An evaluator using a given index (e.g. [`RuleIndex::disabled`], or one shared
    /// between threads).
    pub fn with_index(
        rules: &'a [CompiledRule],
        program: &'a Program,
        order: &'a [usize],
        index: Arc<RuleIndex>,
        fmt: AlertFormat,
        match_all: bool,
    ) -> Self {
        Evaluator {
            rules,
            program,
            order,
            index,
            fmt,
            match_all,
            buffers: Some(CacheBuffers::default()),
            scratch: Vec::new(),
        }
    }

    /// Another evaluator over the same rules and index (for another thread).
    pub fn fork(&self) -> Self {
        Self::with_index(
            self.rules,
            self.program,
            self.order,
            Arc::clone(&self.index),
            self.fmt.clone(),
            self.match_all,
        )
    }

    /// Evaluates `ev` and calls `on_match(rule index, rendered alert)` for each match, in
    /// evaluation order. Allocates nothing for an event that matches no rule and whose
    /// tested fields are JSON strings (once the buffers have grown).
    pub fn evaluate(&mut self, ev: &AuditEvent, mut on_match: impl FnMut(usize, String)) {
        let program = self.program;
        self.index.candidates(ev, &mut self.scratch);
        let mut cache = program.cache_with(self.buffers.take().unwrap_or_default());
        for pos in positions(&self.scratch) {
            let ri = self.order[pos];
            let rule = &self.rules[ri];
            if !program.eval(rule.filter, &mut cache, ev) {
                continue;
            }
            let mut message = String::new();
            program.render_output(rule.output, &mut cache, ev, &mut message);
            let output_fields = if self.fmt.json && self.fmt.include_output_fields {
                program.output_fields(rule.output, &mut cache, ev)
            } else {
                Vec::new()
            };
            let alert = Alert {
                time_ns: ev.time_ns(),
                rule: &rule.name,
                priority: rule.priority,
                source: &rule.source,
                tags: &rule.tags,
                message,
                output_fields,
            };
            on_match(ri, self.fmt.render(&alert));
            if !self.match_all {
                break;
            }
        }
        self.buffers = Some(cache.into_buffers());
    }
}

/// Evaluates events against the active rules and writes alerts.
pub struct Detector<'a> {
    rules: &'a [CompiledRule],
    evaluator: Evaluator<'a>,
    outputs: Outputs,
    stats: Stats,
    num: u64,
    first_ts: Option<u64>,
    max_ns: Option<u64>,
}

impl<'a> Detector<'a> {
    /// A detector over compiled rules in evaluation `order`.
    pub fn new(
        rules: &'a [CompiledRule],
        program: &'a Program,
        order: &'a [usize],
        fmt: AlertFormat,
        outputs: Outputs,
        match_all: bool,
        max_seconds: Option<u64>,
    ) -> Self {
        Detector {
            rules,
            evaluator: Evaluator::new(rules, program, order, fmt, match_all),
            outputs,
            stats: Stats::new(rules.len()),
            num: 0,
            first_ts: None,
            max_ns: max_seconds.map(|s| s.saturating_mul(1_000_000_000)),
        }
    }

    /// Assigns the next `evt.num` to `ev`. `Break` when `-M` says to stop (the event is
    /// then not to be evaluated).
    pub fn number(&mut self, ev: &mut AuditEvent) -> ControlFlow<()> {
        self.num += 1;
        ev.set_num(self.num);
        let ts = ev.time_ns();
        let first = *self.first_ts.get_or_insert(ts);
        if let Some(max) = self.max_ns {
            if ts >= first.saturating_add(max) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    /// An evaluator for another thread (same rules, index and format).
    pub fn evaluator(&self) -> Evaluator<'a> {
        self.evaluator.fork()
    }

    /// Counts and writes one alert produced by an [`Evaluator`] for rule `ri`.
    pub fn emit(&mut self, ri: usize, line: &str) {
        if let Some(rule) = self.rules.get(ri) {
            self.stats.count(ri, rule.priority);
        }
        self.outputs.emit(line);
    }

    /// Evaluates one event. `Break` when `-M` says to stop.
    pub fn process(&mut self, mut ev: AuditEvent) -> ControlFlow<()> {
        self.number(&mut ev)?;
        let Detector {
            rules,
            evaluator,
            outputs,
            stats,
            ..
        } = self;
        evaluator.evaluate(&ev, |ri, line| {
            stats.count(ri, rules[ri].priority);
            outputs.emit(&line);
        });
        ControlFlow::Continue(())
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.num
    }

    /// Flushes outputs and prints Falco's end-of-run summary on stdout. Returns the
    /// number of alerts that could not be written.
    pub fn finish(mut self) -> u64 {
        self.outputs.flush();
        let names: Vec<&str> = self.rules.iter().map(|r| r.name.as_str()).collect();
        let summary = self.stats.summary(&names);
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) is not an error, as for every CLI tool.
        if let Err(e) = out.write_all(summary.as_bytes()).and_then(|_| out.flush()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("falco-rs: cannot write the summary: {e}");
            }
        }
        self.outputs.errors
    }
}
