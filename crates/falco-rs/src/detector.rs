//! The event loop body: evaluate the active rules on one event, render and emit alerts,
//! count matches.

use falco_rs_engine::Program;
use falco_rs_k8saudit::AuditEvent;
use falco_rs_output::{Alert, AlertFormat, Outputs, Stats};
use falco_rs_rules::compile::CompiledRule;
use std::io::Write as _;
use std::ops::ControlFlow;

/// Evaluates events against the active rules and writes alerts.
pub struct Detector<'a> {
    rules: &'a [CompiledRule],
    program: &'a Program,
    order: &'a [usize],
    fmt: AlertFormat,
    outputs: Outputs,
    stats: Stats,
    match_all: bool,
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
            program,
            order,
            fmt,
            outputs,
            stats: Stats::new(rules.len()),
            match_all,
            num: 0,
            first_ts: None,
            max_ns: max_seconds.map(|s| s.saturating_mul(1_000_000_000)),
        }
    }

    /// Evaluates one event. `Break` when `-M` says to stop.
    pub fn process(&mut self, mut ev: AuditEvent) -> ControlFlow<()> {
        self.num += 1;
        ev.set_num(self.num);
        let ts = ev.time_ns();
        let first = *self.first_ts.get_or_insert(ts);
        if let Some(max) = self.max_ns {
            if ts >= first.saturating_add(max) {
                return ControlFlow::Break(());
            }
        }
        let program = self.program;
        let mut cache = program.new_cache();
        for &ri in self.order {
            let rule = &self.rules[ri];
            if !program.eval(rule.filter, &mut cache, &ev) {
                continue;
            }
            self.stats.count(ri, rule.priority);
            let mut message = String::new();
            program.render_output(rule.output, &mut cache, &ev, &mut message);
            let output_fields = if self.fmt.json && self.fmt.include_output_fields {
                program.output_fields(rule.output, &mut cache, &ev)
            } else {
                Vec::new()
            };
            let alert = Alert {
                time_ns: ts,
                rule: &rule.name,
                priority: rule.priority,
                source: &rule.source,
                tags: &rule.tags,
                message,
                output_fields,
            };
            self.outputs.emit(&self.fmt.render(&alert));
            if !self.match_all {
                break;
            }
        }
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
