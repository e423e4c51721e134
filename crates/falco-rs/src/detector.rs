//! The event loop body: evaluate the active rules on one event, render and emit alerts,
//! count matches.
//!
//! [`Evaluator`] is the per-thread part (rule index, recycled field cache, rendering);
//! [`Detector`] adds what must stay sequential (event numbering, `-M`, statistics,
//! outputs), so that a multi-threaded replay emits exactly what a single-threaded one does.

use crate::metrics::Metrics;
use crate::report::{NoiseReport, Tuple};
use crate::rule_index::{positions, RuleIndex};
use crate::suppress::{Summary, Suppressor, Verdict};
use falco_rs_engine::{CacheBuffers, Program};
use falco_rs_engine::{EventView, FieldCatalog, FieldMeta, OutputValue};
use falco_rs_k8saudit::AuditEvent;
use falco_rs_k8saudit::K8sAuditCatalog;
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

/// What a detector carries across a rules reload: outputs, counters, numbering and the
/// optional report, suppression and metrics.
pub struct DetectorState {
    outputs: Outputs,
    /// Match counts by rule name (cumulative across reloads), in first-seen order.
    counts: Vec<(String, u64)>,
    total: u64,
    by_priority: [u64; 8],
    numbering: Numbering,
    extras: Extras,
}

/// Event numbering: `evt.num` of the last event, the time of the first one and the `-M`
/// limit. The detector numbers events one by one; the parallel replay numbers a chunk's
/// events at once with a copy and then [`Numbering::advance`]s the detector's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Numbering {
    num: u64,
    first_ts: Option<u64>,
    max_ns: Option<u64>,
}

impl Numbering {
    /// Numbering from scratch, with the `-M` limit in seconds.
    pub fn new(max_seconds: Option<u64>) -> Self {
        Numbering {
            num: 0,
            first_ts: None,
            max_ns: max_seconds.map(|s| s.saturating_mul(1_000_000_000)),
        }
    }

    /// Numbers the next event, of time `ts`: its `evt.num`, and `Break` when it reaches
    /// the `-M` limit (it is then numbered but not to be evaluated).
    pub fn next(&mut self, ts: u64) -> (u64, ControlFlow<()>) {
        self.num += 1;
        let first = *self.first_ts.get_or_insert(ts);
        let flow = match self.max_ns {
            Some(max) if ts >= first.saturating_add(max) => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        };
        (self.num, flow)
    }

    /// Events numbered so far.
    pub fn count(&self) -> u64 {
        self.num
    }

    /// Time of the first event numbered.
    pub fn first_ts(&self) -> Option<u64> {
        self.first_ts
    }

    /// Records `count` events numbered elsewhere after the earlier ones, the first of all
    /// having time `first_ts`.
    pub fn advance(&mut self, count: u64, first_ts: Option<u64>) {
        self.num += count;
        if self.first_ts.is_none() {
            self.first_ts = first_ts;
        }
    }
}

/// Optional per-alert features.
#[derive(Default)]
pub struct Extras {
    /// Prometheus counters.
    pub metrics: Option<Arc<Metrics>>,
    /// Noise report accumulator.
    pub report: Option<NoiseReport>,
    /// Suppression windows.
    pub suppressor: Option<Suppressor>,
}

impl DetectorState {
    /// A fresh state.
    pub fn new(outputs: Outputs, max_seconds: Option<u64>, extras: Extras) -> Self {
        DetectorState {
            outputs,
            counts: Vec::new(),
            total: 0,
            by_priority: [0; 8],
            numbering: Numbering::new(max_seconds),
            extras,
        }
    }
}

/// Fields read from an event for the noise report and suppression keys.
struct TupleFields {
    user: FieldMeta,
    verb: FieldMeta,
    resource: FieldMeta,
    namespace: FieldMeta,
    name: FieldMeta,
}

impl TupleFields {
    fn new() -> Option<Self> {
        let c = K8sAuditCatalog::new();
        Some(TupleFields {
            user: c.resolve("ka.user.name", None).ok()?,
            verb: c.resolve("ka.verb", None).ok()?,
            resource: c.resolve("ka.target.resource", None).ok()?,
            namespace: c.resolve("ka.target.namespace", None).ok()?,
            name: c.resolve("ka.target.name", None).ok()?,
        })
    }

    fn get(ev: &AuditEvent, f: &FieldMeta) -> Option<String> {
        let mut v = Vec::new();
        if ev.extract(f, &mut v) {
            v.first().map(|s| s.to_string())
        } else {
            None
        }
    }

    fn tuple(&self, ev: &AuditEvent) -> Tuple {
        Tuple {
            user: Self::get(ev, &self.user),
            verb: Self::get(ev, &self.verb),
            resource: Self::get(ev, &self.resource),
            namespace: Self::get(ev, &self.namespace),
        }
    }

    /// Suppression key fields: who, what, which object.
    fn key(&self, ev: &AuditEvent) -> Vec<(String, String)> {
        [
            ("ka.user.name", &self.user),
            ("ka.verb", &self.verb),
            ("ka.target.resource", &self.resource),
            ("ka.target.namespace", &self.namespace),
            ("ka.target.name", &self.name),
        ]
        .into_iter()
        .map(|(n, f)| {
            (
                n.to_string(),
                Self::get(ev, f).unwrap_or_else(|| "<NA>".into()),
            )
        })
        .collect()
    }
}

/// Evaluates events against the active rules and writes alerts.
pub struct Detector<'a> {
    rules: &'a [CompiledRule],
    evaluator: Evaluator<'a>,
    fmt: AlertFormat,
    outputs: Outputs,
    stats: Stats,
    /// Counts of rules from earlier rulesets that no longer exist.
    retired: Vec<(String, u64)>,
    numbering: Numbering,
    extras: Extras,
    tuple_fields: Option<TupleFields>,
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
        Self::from_state(
            rules,
            program,
            order,
            fmt,
            match_all,
            DetectorState::new(outputs, max_seconds, Extras::default()),
        )
    }

    /// A detector continuing from `state` with a (possibly reloaded) ruleset.
    pub fn from_state(
        rules: &'a [CompiledRule],
        program: &'a Program,
        order: &'a [usize],
        fmt: AlertFormat,
        match_all: bool,
        state: DetectorState,
    ) -> Self {
        let mut stats = Stats::new(rules.len());
        stats.total = state.total;
        stats.by_priority = state.by_priority;
        let mut retired = Vec::new();
        for (name, n) in state.counts {
            match rules.iter().position(|r| r.name == name) {
                Some(i) => stats.by_rule[i] += n,
                None => retired.push((name, n)),
            }
        }
        let needs_fields = state.extras.report.is_some() || state.extras.suppressor.is_some();
        Detector {
            rules,
            evaluator: Evaluator::new(rules, program, order, fmt.clone(), match_all),
            fmt,
            outputs: state.outputs,
            stats,
            retired,
            numbering: state.numbering,
            extras: state.extras,
            tuple_fields: if needs_fields {
                TupleFields::new()
            } else {
                None
            },
        }
    }

    /// Gives back what must survive a rules reload.
    pub fn into_state(self) -> DetectorState {
        let mut counts: Vec<(String, u64)> = self
            .rules
            .iter()
            .zip(&self.stats.by_rule)
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| (r.name.clone(), *n))
            .collect();
        counts.extend(self.retired);
        DetectorState {
            outputs: self.outputs,
            counts,
            total: self.stats.total,
            by_priority: self.stats.by_priority,
            numbering: self.numbering,
            extras: self.extras,
        }
    }

    /// Whether report or suppression need each alert's event (sequential processing).
    pub fn needs_events(&self) -> bool {
        self.tuple_fields.is_some()
    }

    /// Whether evaluating an event depends on its place in the replay: a condition or
    /// output reads `evt.num`, or `-M` stops at a time after the first event. Otherwise a
    /// parallel replay evaluates events as soon as they are parsed and counts them in
    /// order afterwards.
    pub fn numbers_before_evaluation(&self) -> bool {
        self.numbering.max_ns.is_some()
            || K8sAuditCatalog::uses_event_number(self.evaluator.program.fields())
    }

    /// Assigns the next `evt.num` to `ev`. `Break` when `-M` says to stop (the event is
    /// then not to be evaluated).
    pub fn number(&mut self, ev: &mut AuditEvent) -> ControlFlow<()> {
        let (num, flow) = self.numbering.next(ev.time_ns());
        ev.set_num(num);
        flow
    }

    /// The numbering state (for sources that number events on other threads).
    pub fn numbering(&self) -> Numbering {
        self.numbering
    }

    /// Records `count` events numbered elsewhere (see [`Numbering::advance`]).
    pub fn advance(&mut self, count: u64, first_ts: Option<u64>) {
        self.numbering.advance(count, first_ts);
    }

    /// An evaluator for another thread (same rules, index and format).
    pub fn evaluator(&self) -> Evaluator<'a> {
        self.evaluator.fork()
    }

    /// Counts and writes one alert produced by an [`Evaluator`] for rule `ri`.
    pub fn emit(&mut self, ri: usize, line: String) {
        let Some(rule) = self.rules.get(ri) else {
            return;
        };
        self.stats.count(ri, rule.priority);
        if let Some(m) = &self.extras.metrics {
            m.alert(&rule.name, rule.priority.name());
        }
        self.outputs.emit_alert(line, rule.priority.number());
    }

    /// Evaluates one event. `Break` when `-M` says to stop.
    pub fn process(&mut self, mut ev: AuditEvent) -> ControlFlow<()> {
        self.number(&mut ev)?;
        let mut matches: Vec<(usize, String)> = Vec::new();
        self.evaluator
            .evaluate(&ev, |ri, line| matches.push((ri, line)));
        for (ri, line) in matches {
            self.alert(ri, line, &ev);
        }
        ControlFlow::Continue(())
    }

    /// One match of rule `ri` on `ev`: report, suppression, then emission.
    fn alert(&mut self, ri: usize, line: String, ev: &AuditEvent) {
        let Some(rule) = self.rules.get(ri) else {
            return;
        };
        if let (Some(report), Some(tf)) = (self.extras.report.as_mut(), self.tuple_fields.as_ref())
        {
            report.record(&rule.name, rule.priority.name(), tf.tuple(ev));
        }
        if let (Some(sup), Some(tf)) = (self.extras.suppressor.as_mut(), self.tuple_fields.as_ref())
        {
            let key = sup.key(&tf.key(ev));
            let (verdict, closed) = sup.check(ri, key, ev.time_ns());
            if let Some(summary) = closed {
                self.emit_summary(&summary, ev.time_ns());
            }
            if verdict == Verdict::Suppress {
                self.stats.count(ri, rule.priority);
                if let Some(m) = &self.extras.metrics {
                    m.alert(&rule.name, rule.priority.name());
                    m.alerts_suppressed
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                return;
            }
        }
        self.emit(ri, line);
    }

    /// Writes the summary alert of a closed suppression window.
    fn emit_summary(&mut self, s: &Summary, now_ns: u64) {
        let Some(rule) = self.rules.get(s.rule) else {
            return;
        };
        let alert = Alert {
            time_ns: now_ns,
            rule: &rule.name,
            priority: rule.priority,
            source: &rule.source,
            tags: &rule.tags,
            message: format!(
                "Suppressed {} more alerts of rule {} with {} since {}",
                s.suppressed,
                rule.name,
                s.key,
                falco_rs_engine::evttime::json_time(s.started_ns)
            ),
            output_fields: vec![(
                "falco_rs.suppressed".to_string(),
                OutputValue::Str(s.suppressed.to_string()),
            )],
        };
        let line = self.fmt.render(&alert);
        self.outputs.emit_alert(line, rule.priority.number());
    }

    /// Asks file and program outputs to reopen (SIGUSR1).
    pub fn reopen_outputs(&mut self) {
        self.outputs.reopen();
    }

    /// Hands the alerts collected so far to the output channels (after each source
    /// batch, so that alerts of a live source are not held back).
    pub fn submit_outputs(&mut self) {
        self.outputs.submit();
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.numbering.count()
    }

    /// Closes open suppression windows, flushes outputs, prints Falco's end-of-run
    /// summary (and the noise report when enabled) on stdout. Returns the number of
    /// alerts that could not be written and the noise report.
    pub fn finish(mut self) -> u64 {
        if let Some(mut sup) = self.extras.suppressor.take() {
            let now = self.numbering.first_ts().unwrap_or(0);
            for s in sup.close_expired(u64::MAX) {
                self.emit_summary(&s, now.max(s.started_ns));
            }
        }
        self.outputs.flush();
        let mut names: Vec<&str> = self.rules.iter().map(|r| r.name.as_str()).collect();
        let mut stats = self.stats.clone();
        for (name, n) in &self.retired {
            names.push(name);
            stats.by_rule.push(*n);
        }
        let summary = stats.summary(&names);
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) is not an error, as for every CLI tool.
        if let Err(e) = out.write_all(summary.as_bytes()).and_then(|_| out.flush()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                log::error!("cannot write the summary: {e}");
            }
        }
        self.outputs.errors
    }

    /// Takes the noise report out (before [`Detector::finish`]).
    pub fn take_report(&mut self) -> Option<NoiseReport> {
        self.extras.report.take()
    }
}
