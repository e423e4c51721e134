//! Top-level flow, in Falco's startup order: config, rules (with validation and
//! introspection), outputs, source, event loop, summary.

use crate::cli::Cli;
use crate::config::Config;
use crate::detector::{Detector, DetectorState, Extras};
use crate::metrics::Metrics;
use crate::reload::{spawn_file_watcher, spawn_signal_listener, Control};
use crate::replay::{effective_jobs, replay, replay_parallel, ReplayStats};
use crate::report::NoiseReport;
use crate::ruleset::{
    append_outputs, check_plugin_requirements, expand_rules_paths, load_rules, selections,
    ActiveRules, RulesSource, BUILTIN_PLUGINS, ENGINE_VERSION,
};
use crate::suppress::{SuppressionConfig, Suppressor};
use anyhow::{anyhow, bail, Result};
use falco_rs_k8saudit::ParseOptions;
use falco_rs_output::{
    AlertFormat, Channel, FileChannel, HttpChannel, HttpSettings, Outputs, ProgramChannel,
    StdoutChannel, SyslogChannel,
};
use falco_rs_rules::model::Priority;
use falco_rs_sources::admin;
use falco_rs_sources::cloudwatch::{self, EksConfig};
use falco_rs_sources::dedup::DedupWindow;
use falco_rs_sources::queue::{EventQueue, QueueReceiver};
use falco_rs_sources::webhook::{self, TlsConfig, WebhookConfig};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

/// The default ruleset embedded in the binary.
pub const EMBEDDED_RULES: &str = include_str!("../../../rules/k8s_audit_rules.yaml");
/// Name under which the embedded ruleset is reported.
pub const EMBEDDED_RULES_NAME: &str = "<embedded>/k8s_audit_rules.yaml";

/// Host name as Falco determines it: `FALCO_HOSTNAME`, else the kernel's.
pub fn hostname() -> String {
    if let Ok(h) = std::env::var("FALCO_HOSTNAME") {
        return h;
    }
    for p in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(h) = std::fs::read_to_string(p) {
            let h = h.trim();
            if !h.is_empty() {
                return h.to_string();
            }
        }
    }
    "localhost".into()
}

fn print_version() {
    println!("falco-rs version: {}", env!("CARGO_PKG_VERSION"));
    println!("Engine: {ENGINE_VERSION}");
    for (name, v) in BUILTIN_PLUGINS {
        println!("Plugin {name}: {v}");
    }
}

/// Names of the plugins the configuration loads (`load_plugins` or every entry).
fn loaded_plugins(config: &Config) -> Result<Vec<(String, serde_json::Value)>> {
    let plugins: Vec<serde_json::Value> = config
        .get("plugins")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let by_name = |n: &str| {
        plugins
            .iter()
            .find(|p| p.get("name").and_then(|x| x.as_str()) == Some(n))
            .cloned()
    };
    let mut out = Vec::new();
    match config.get("load_plugins").and_then(|v| v.as_array()) {
        Some(names) => {
            for n in names.iter().filter_map(|n| n.as_str()) {
                let entry = by_name(n).ok_or_else(|| {
                    anyhow!("Cannot load plugin '{n}': plugin config not found for given name")
                })?;
                out.push((n.to_string(), entry));
            }
        }
        None => {
            for p in &plugins {
                if let Some(n) = p.get("name").and_then(|x| x.as_str()) {
                    out.push((n.to_string(), p.clone()));
                }
            }
        }
    }
    for (n, _) in &out {
        if !BUILTIN_PLUGINS.iter().any(|(b, _)| b == n) {
            bail!("Cannot load plugin '{n}': falco-rs has the plugins k8saudit, k8saudit-eks and json built in; '{n}' is not one of them");
        }
    }
    Ok(out)
}

fn rules_sources(cli: &Cli, config: &Config) -> Result<Vec<RulesSource>> {
    let (paths, from_config) = if !cli.rules.is_empty() {
        (cli.rules.clone(), false)
    } else {
        let mut v = Vec::new();
        let has_files = config.get("rules_files").is_some();
        let has_file = config.get("rules_file").is_some();
        if has_files && has_file {
            bail!(
                "Error reading config file ({}): both 'rules_files' and 'rules_file' keys set",
                config.origin
            );
        }
        for key in ["rules_files", "rules_file"] {
            match config.get(key) {
                Some(serde_json::Value::Array(a)) => {
                    v.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)))
                }
                Some(serde_json::Value::String(s)) => v.push(s.clone()),
                _ => {}
            }
        }
        if v.is_empty() && config.origin == "<embedded>" {
            return Ok(vec![RulesSource {
                name: EMBEDDED_RULES_NAME.into(),
                content: EMBEDDED_RULES.into(),
            }]);
        }
        (v, true)
    };
    let files = expand_rules_paths(&paths, from_config)?;
    if paths.is_empty() {
        bail!("You must specify at least one rules file/directory via -r or a rules_file entry in falco.yaml");
    }
    files
        .into_iter()
        .map(|f| {
            let content = crate::introspect::read_rules_file(&f)?;
            Ok(RulesSource { name: f, content })
        })
        .collect()
}

/// Runs falco-rs with parsed options.
pub fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(crate::cli::Command::Test(args)) = &cli.command {
        return crate::testcmd::run_tests(args);
    }
    if cli.version {
        print_version();
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = Config::load(cli.config.as_deref())?;
    for o in &cli.options {
        config.apply_override(o)?;
    }
    if cli.unbuffered {
        config.apply_override("buffered_outputs=false")?;
    }
    let level_name = config.str("log_level").unwrap_or_else(|| "info".into());
    crate::logging::configure(crate::logging::LogSettings {
        level: crate::logging::parse_level(&level_name)
            .ok_or_else(|| anyhow!("Unknown log level: {level_name}"))?,
        stderr: config.bool_or("log_stderr", true),
        syslog: config.bool_or("log_syslog", false),
        json: config.str("log_format").as_deref() == Some("json"),
        iso8601: config.bool_or("time_format_iso_8601", false),
    });
    if let Some(src) = &cli.list_fields {
        return crate::introspect::list_fields(&cli, src);
    }
    for s in cli.enable_source.iter().chain(&cli.disable_source) {
        if s != crate::ruleset::SOURCE {
            bail!("Attempted to enable or disable an unknown event source: {s}");
        }
    }
    let plugins = loaded_plugins(&config)?;
    let mut plugin_names: Vec<String> = plugins.iter().map(|(n, _)| n.clone()).collect();
    if !plugin_names.iter().any(|n| n == "json") {
        // The json plugin's fields are always built in.
        plugin_names.push("json".into());
    }
    if !cli.validate.is_empty() {
        return crate::introspect::validate(&cli, &config);
    }

    let min_priority_text = config.str("priority").unwrap_or_else(|| "debug".into());
    let min_priority = Priority::parse(&min_priority_text)
        .ok_or_else(|| anyhow!("Unknown priority value: {min_priority_text}"))?;
    let rule_matching_all = match config
        .str("rule_matching")
        .map(|s| s.to_lowercase())
        .as_deref()
    {
        None | Some("first") => false,
        Some("all") => true,
        Some(other) => {
            bail!("Unknown rule matching strategy \"{other}\"--must be one of first, all")
        }
    };

    let sources = rules_sources(&cli, &config)?;
    let appends = append_outputs(&config);
    let load_started = std::time::Instant::now();
    let (loaded, results) = load_rules(&sources, &appends, false, |res| {
        if res.successful() && !res.warnings.is_empty() {
            log::warn!("{}", res.verbose().trim_end());
        }
    });
    let mut fatal: Option<String> = results
        .iter()
        .find(|r| !r.successful())
        .map(|r| r.verbose());
    let collector_ok = loaded.as_ref();
    if let Some(l) = collector_ok {
        if let Err(e) = check_plugin_requirements(&l.collector, &plugin_names) {
            fatal = Some(e.to_string());
        }
    }
    if let Some(msg) = fatal {
        eprintln!("Error: {}", msg.trim_end());
        return Ok(ExitCode::FAILURE);
    }
    let Some(loaded) = loaded else {
        bail!("no rules were loaded");
    };
    let selections = selections(&config)?;
    let active = ActiveRules::build(&loaded.compiled, min_priority, &selections);

    if cli.list_rules || cli.describe_rule.is_some() {
        return crate::introspect::describe_rules(&cli, &config, &loaded);
    }
    if cli.dry_run {
        return Ok(ExitCode::SUCCESS);
    }

    // Outputs.
    let fmt_json = config.bool_or("json_output", false);
    let outputs = build_outputs(&config, fmt_json)?;
    let fmt = AlertFormat {
        json: config.bool_or("json_output", false),
        include_output: config.bool_or("json_include_output_property", true),
        include_output_fields: config.bool_or("json_include_output_fields_property", true),
        include_tags: config.bool_or("json_include_tags_property", true),
        include_message: config.bool_or("json_include_message_property", false),
        iso8601: config.bool_or("time_format_iso_8601", false),
        hostname: hostname(),
    };

    if let Some(pidfile) = &cli.pidfile {
        std::fs::write(pidfile, format!("{}\n", std::process::id()))?;
    }

    // Source.
    let source = select_source(&cli, &plugins, &config)?;
    if cli.explain || cli.explain_rule.is_some() || cli.explain_event.is_some() {
        return explain_replay(&cli, source, &loaded.compiled, &active.order);
    }
    let metrics = Metrics::new();
    metrics
        .rules_loaded
        .store(loaded.compiled.rules.len() as u64, Ordering::Relaxed);
    metrics
        .rules_load_micros
        .store(load_started.elapsed().as_micros() as u64, Ordering::Relaxed);
    if let Ok(mut o) = metrics.outputs.lock() {
        *o = outputs.stats();
    }
    let live = !matches!(source, Source::Replay { .. });
    let ready = Arc::new(AtomicBool::new(false));
    let admin = if live && config.bool_or("webserver.enabled", false) {
        Some(start_webserver(&config, metrics.clone(), ready.clone())?)
    } else {
        None
    };
    let extras = Extras {
        metrics: Some(metrics.clone()),
        report: cli.report.is_some().then(NoiseReport::default),
        suppressor: suppression_config(&config)?.map(Suppressor::new),
    };
    let state = DetectorState::new(outputs, cli.max_seconds, extras);
    let (errors, report) = match source {
        Source::Replay {
            path,
            legacy,
            parse_opts,
        } => {
            let mut detector = Detector::from_state(
                &loaded.compiled.rules,
                &loaded.compiled.program,
                &active.order,
                fmt,
                rule_matching_all,
                state,
            );
            let mut replay_stats = ReplayStats::default();
            if effective_jobs(cli.jobs) > 1 && !detector.needs_events() {
                replay_parallel(
                    Path::new(&path),
                    &parse_opts,
                    legacy,
                    &mut replay_stats,
                    cli.jobs,
                    &mut detector,
                )
            } else {
                replay(
                    Path::new(&path),
                    &parse_opts,
                    legacy,
                    &mut replay_stats,
                    |ev| detector.process(ev),
                )
            }
            .map_err(|e| anyhow!("could not read events from {path}: {e}"))?;
            if replay_stats.malformed > 0 {
                log::info!(
                    "{} malformed payloads or events were skipped (reported above)",
                    replay_stats.malformed
                );
            }
            if cli.verbose {
                log::info!(
                    "Events: {}, lines read: {}, malformed: {}",
                    replay_stats.events,
                    replay_stats.lines,
                    replay_stats.malformed
                );
            }
            let report = detector.take_report();
            let finished = (detector.finish(), report);
            // The process ends once the replay is done: freeing the rules' thousands of
            // allocations one by one would only delay that (~0.4 ms); the OS takes the
            // memory back at exit. Nothing here holds a file, a thread or unwritten data.
            std::mem::forget((loaded, results, sources, active));
            finished
        }
        Source::Webhook {
            config: wcfg,
            queue_capacity,
            dedup_window,
        } => {
            let (queue, receiver) = EventQueue::bounded(queue_capacity);
            let scheme = if wcfg.tls.is_some() { "https" } else { "http" };
            let path = wcfg.path.clone();
            let server =
                webhook::start(wcfg, queue).map_err(|e| anyhow!("k8saudit webhook: {e}"))?;
            log::info!(
                "webhook listening on {scheme}://{}{path}",
                server.local_addr()
            );
            let stats = server.stats();
            if let Ok(mut w) = metrics.webhook.lock() {
                *w = Some(stats.clone());
            }
            set_queue_depth(&metrics, &receiver);
            ready.store(true, Ordering::SeqCst);
            let controls = start_reload_triggers(&cli, &config)?;
            let mut dedup = DedupWindow::new(dedup_window);
            let live = LiveRules {
                compiled: loaded.compiled,
                order: active.order,
                match_all: rule_matching_all,
            };
            let out = run_live(
                receiver,
                state,
                live,
                fmt,
                Some(&mut dedup),
                &metrics,
                &cli,
                &controls,
            );
            server.join();
            log::info!(
                "webhook stopped: {} requests, {} events accepted, {} duplicates skipped, {} items rejected, {} client errors, {} overload answers (503)",
                stats.requests.load(Ordering::Relaxed),
                stats.accepted_events.load(Ordering::Relaxed),
                dedup.duplicates,
                stats.rejected_items.load(Ordering::Relaxed),
                stats.client_errors.load(Ordering::Relaxed),
                stats.overloaded.load(Ordering::Relaxed),
            );
            out
        }
        Source::Eks(ecfg) => {
            let (queue, receiver) = EventQueue::bounded(ecfg_queue_capacity());
            let groups: Vec<String> = ecfg
                .clusters
                .iter()
                .map(|c| format!("/aws/eks/{c}/cluster"))
                .collect();
            let source =
                cloudwatch::start(ecfg, queue).map_err(|e| anyhow!("k8saudit-eks: {e}"))?;
            log::info!("k8saudit-eks polling {}", groups.join(", "));
            let stats = source.stats();
            if let Ok(mut e) = metrics.eks.lock() {
                *e = Some(stats.clone());
            }
            set_queue_depth(&metrics, &receiver);
            ready.store(true, Ordering::SeqCst);
            let controls = start_reload_triggers(&cli, &config)?;
            let live = LiveRules {
                compiled: loaded.compiled,
                order: active.order,
                match_all: rule_matching_all,
            };
            let out = run_live(receiver, state, live, fmt, None, &metrics, &cli, &controls);
            source.join();
            log::info!(
                "k8saudit-eks stopped: {} polls, {} pages, {} events, {} duplicates skipped, {} truncated, {} malformed, {} AWS errors retried",
                stats.polls.load(Ordering::Relaxed),
                stats.pages.load(Ordering::Relaxed),
                stats.events.load(Ordering::Relaxed),
                stats.duplicates.load(Ordering::Relaxed),
                stats.truncated.load(Ordering::Relaxed),
                stats.malformed.load(Ordering::Relaxed),
                stats.errors.load(Ordering::Relaxed),
            );
            out
        }
    };
    if let Some(r) = report {
        let text = if cli.report.as_deref() == Some("json") {
            format!("{}\n", r.render_json())
        } else {
            r.render_text()
        };
        let mut stdout = std::io::stdout().lock();
        use std::io::Write as _;
        let _ = stdout.write_all(text.as_bytes());
    }
    if let Some(a) = admin {
        a.shutdown();
    }
    if errors > 0 {
        bail!("{errors} alerts could not be written to an output");
    }
    Ok(ExitCode::SUCCESS)
}

/// The active ruleset of a live source (replaced on reload).
struct LiveRules {
    compiled: falco_rs_rules::compile::CompiledRules,
    order: Vec<usize>,
    match_all: bool,
}

/// Why [`consume`] returned.
enum Outcome {
    /// Every producer is gone (shutdown).
    Done,
    /// A reload was requested.
    Reload,
}

/// Reload triggers of a live run.
struct Controls {
    rx: Option<mpsc::Receiver<Control>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Controls {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// SIGHUP/SIGUSR1 always; with `watch_config_files` (default true, as Falco) a watcher
/// of the configuration and rules files.
fn start_reload_triggers(cli: &Cli, config: &Config) -> Result<Controls> {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_listener(tx.clone(), stop.clone())
        .map_err(|e| anyhow!("cannot install signal handlers: {e}"))?;
    if config.bool_or("watch_config_files", true) {
        let mut paths: Vec<std::path::PathBuf> = Vec::new();
        if let Some(c) = &cli.config {
            paths.push(c.into());
        }
        let rules: Vec<String> = if !cli.rules.is_empty() {
            cli.rules.clone()
        } else {
            ["rules_files", "rules_file"]
                .iter()
                .filter_map(|k| config.get(k))
                .flat_map(|v| match v {
                    serde_json::Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                    serde_json::Value::String(s) => vec![s.clone()],
                    _ => Vec::new(),
                })
                .collect()
        };
        paths.extend(rules.into_iter().map(Into::into));
        if !paths.is_empty() {
            spawn_file_watcher(paths, std::time::Duration::from_secs(2), tx, stop.clone())
                .map_err(|e| anyhow!("cannot watch the configuration files: {e}"))?;
        }
    }
    Ok(Controls { rx: Some(rx), stop })
}

/// Loads the configuration and rules again, as at startup; `Err` carries the
/// diagnostics to log.
fn reload_rules(cli: &Cli) -> std::result::Result<LiveRules, String> {
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    for o in &cli.options {
        config.apply_override(o).map_err(|e| e.to_string())?;
    }
    let sources = rules_sources(cli, &config).map_err(|e| e.to_string())?;
    let (loaded, results) = load_rules(&sources, &append_outputs(&config), false, |_| {});
    if let Some(bad) = results.iter().find(|r| !r.successful()) {
        return Err(bad.verbose());
    }
    let loaded = loaded.ok_or("no rules were loaded")?;
    let mut plugin_names: Vec<String> = loaded_plugins(&config)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    plugin_names.push("json".into());
    check_plugin_requirements(&loaded.collector, &plugin_names).map_err(|e| e.to_string())?;
    let min = Priority::parse(&config.str("priority").unwrap_or_else(|| "debug".into()))
        .ok_or("invalid priority")?;
    let sel = selections(&config).map_err(|e| e.to_string())?;
    let active = ActiveRules::build(&loaded.compiled, min, &sel);
    let match_all = config
        .str("rule_matching")
        .is_some_and(|m| m.eq_ignore_ascii_case("all"));
    Ok(LiveRules {
        compiled: loaded.compiled,
        order: active.order,
        match_all,
    })
}

/// Runs a live source's engine loop, swapping the ruleset between batches on reload
/// (no event is lost or evaluated twice: the swap happens between events on the one
/// engine thread). Returns undelivered alerts and the noise report.
#[allow(clippy::too_many_arguments)]
fn run_live(
    mut receiver: QueueReceiver,
    mut state: DetectorState,
    mut live: LiveRules,
    fmt: AlertFormat,
    mut dedup: Option<&mut DedupWindow>,
    metrics: &Arc<Metrics>,
    cli: &Cli,
    controls: &Controls,
) -> (u64, Option<NoiseReport>) {
    loop {
        let mut detector = Detector::from_state(
            &live.compiled.rules,
            &live.compiled.program,
            &live.order,
            fmt.clone(),
            live.match_all,
            state,
        );
        match consume(
            &mut receiver,
            &mut detector,
            dedup.as_deref_mut(),
            metrics,
            controls,
        ) {
            Outcome::Done => {
                let report = detector.take_report();
                return (detector.finish(), report);
            }
            Outcome::Reload => {
                state = detector.into_state();
                metrics.reloads.fetch_add(1, Ordering::Relaxed);
                let started = std::time::Instant::now();
                match reload_rules(cli) {
                    Ok(new) => {
                        metrics.last_reload_success.store(1, Ordering::Relaxed);
                        metrics
                            .rules_loaded
                            .store(new.compiled.rules.len() as u64, Ordering::Relaxed);
                        metrics
                            .rules_load_micros
                            .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                        log::info!("rules reloaded: {} rules active", new.order.len());
                        live = new;
                    }
                    Err(diag) => {
                        metrics.last_reload_success.store(0, Ordering::Relaxed);
                        log::error!(
                            "reload failed, keeping the previous rules:\n{}",
                            diag.trim_end()
                        );
                    }
                }
            }
        }
    }
}

/// Evaluates queued batches until every producer is gone or a reload is requested. A
/// batch is acknowledged to its producer when dropped, after its events were evaluated.
fn consume(
    receiver: &mut QueueReceiver,
    detector: &mut Detector<'_>,
    mut dedup: Option<&mut DedupWindow>,
    metrics: &Metrics,
    controls: &Controls,
) -> Outcome {
    let mut stopped = false;
    loop {
        if let Some(rx) = &controls.rx {
            while let Ok(c) = rx.try_recv() {
                match c {
                    Control::Reload => return Outcome::Reload,
                    Control::ReopenOutputs => detector.reopen_outputs(),
                }
            }
        }
        let mut batch = match receiver.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(b) => b,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Outcome::Done,
        };
        if stopped {
            continue;
        }
        for ev in std::mem::take(&mut batch.events) {
            if let (Some(d), Some(id)) = (dedup.as_deref_mut(), ev.audit_id()) {
                let key = format!("{id}\u{1f}{}", ev.stage().unwrap_or(""));
                if !d.first_time(&key) {
                    metrics.events_duplicate.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            metrics.events_evaluated.fetch_add(1, Ordering::Relaxed);
            if detector.process(ev).is_break() {
                stopped = true;
                break;
            }
        }
        detector.submit_outputs();
    }
}

/// `suppression:` settings (opt-in).
fn suppression_config(config: &Config) -> Result<Option<SuppressionConfig>> {
    if !config.bool_or("suppression.enabled", false) {
        return Ok(None);
    }
    let window = config
        .get("suppression.window")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(60);
    if window == 0 {
        bail!("suppression.window must be at least 1 second");
    }
    let fields = config
        .get("suppression.fields")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(SuppressionConfig {
        window_ns: window.saturating_mul(1_000_000_000),
        fields,
    }))
}

/// `--explain`: replays the source and prints, for each selected event and rule, the
/// evaluated condition tree instead of alerts.
fn explain_replay(
    cli: &Cli,
    source: Source,
    compiled: &falco_rs_rules::compile::CompiledRules,
    order: &[usize],
) -> Result<ExitCode> {
    let Source::Replay {
        path,
        legacy,
        parse_opts,
    } = source
    else {
        bail!("--explain works on a replayed file (-e FILE or a k8saudit open_params path)");
    };
    if let Some(name) = &cli.explain_rule {
        if !order.iter().any(|&i| &compiled.rules[i].name == name) {
            bail!("--explain-rule: no active rule named '{name}'");
        }
    }
    let program = &compiled.program;
    let mut num = 0u64;
    let mut out = String::new();
    let mut stats = ReplayStats::default();
    replay(
        Path::new(&path),
        &parse_opts,
        legacy,
        &mut stats,
        |mut ev| {
            num += 1;
            ev.set_num(num);
            if cli.explain_event.is_some_and(|n| n != num) {
                return std::ops::ControlFlow::Continue(());
            }
            let _ = writeln!(
                out,
                "event #{num} auditID={} verb={} resource={}{}",
                ev.audit_id().unwrap_or("<NA>"),
                ev.verb().unwrap_or("<NA>"),
                ev.resource().unwrap_or("<NA>"),
                ev.subresource()
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default()
            );
            let mut cache = program.new_cache();
            for &ri in order {
                let rule = &compiled.rules[ri];
                if cli.explain_rule.as_ref().is_some_and(|n| n != &rule.name) {
                    continue;
                }
                if let Some(node) = program.explain(rule.filter, &mut cache, &ev) {
                    let verdict = if node.result { "MATCH" } else { "no match" };
                    let _ = writeln!(out, "  rule \"{}\": {verdict}", rule.name);
                    node.render(2, &mut out);
                }
            }
            std::ops::ControlFlow::Continue(())
        },
    )
    .map_err(|e| anyhow!("could not read events from {path}: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    use std::io::Write as _;
    let _ = stdout.write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Registers the queue depth gauge.
fn set_queue_depth(metrics: &Metrics, receiver: &QueueReceiver) {
    let depth = receiver.depth_probe();
    if let Ok(mut q) = metrics.queue_depth.lock() {
        *q = Some(Box::new(depth));
    }
}

/// Starts Falco's `webserver` block: /healthz, /readyz, /versions and, with
/// `webserver.prometheus_metrics_enabled` and `metrics.enabled`, /metrics.
fn start_webserver(
    config: &Config,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
) -> Result<admin::AdminServer> {
    let address = config
        .str("webserver.listen_address")
        .unwrap_or_else(|| "0.0.0.0".into());
    let port = config
        .get("webserver.listen_port")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(8765);
    let ip: std::net::IpAddr = address
        .parse()
        .map_err(|_| anyhow!("webserver.listen_address must be an IP address, got '{address}'"))?;
    let tls = config
        .bool_or("webserver.ssl_enabled", false)
        .then(|| TlsConfig {
            cert_key_pem: config
                .str("webserver.ssl_certificate")
                .unwrap_or_else(|| "/etc/falco/falco.pem".into())
                .into(),
            client_ca: None,
        });
    let metrics_on = config.bool_or("webserver.prometheus_metrics_enabled", false)
        && config.bool_or("metrics.enabled", false);
    let versions = serde_json::json!({
        "falco_rs_version": env!("CARGO_PKG_VERSION"),
        "engine_version": ENGINE_VERSION.to_string(),
        "engine_version_semver": ENGINE_VERSION.to_string(),
        "plugins": BUILTIN_PLUGINS.iter().map(|(n, v)| (n.to_string(), serde_json::Value::String(v.to_string()))).collect::<serde_json::Map<_, _>>(),
    })
    .to_string();
    let render: Option<Arc<dyn Fn() -> String + Send + Sync>> = if metrics_on {
        let m = metrics.clone();
        Some(Arc::new(move || m.render()))
    } else {
        None
    };
    let server = admin::start(admin::AdminConfig {
        listen: std::net::SocketAddr::new(ip, port as u16),
        healthz_path: config
            .str("webserver.k8s_healthz_endpoint")
            .unwrap_or_else(|| "/healthz".into()),
        tls,
        versions,
        metrics: render,
        ready: Arc::new(move || ready.load(Ordering::SeqCst)),
    })
    .map_err(|e| anyhow!("webserver: {e}"))?;
    log::info!("webserver listening on {}", server.local_addr());
    Ok(server)
}

/// Events the EKS poller may queue ahead of the engine (one page at a time in practice).
fn ecfg_queue_capacity() -> usize {
    10_000
}

/// Where events come from.
enum Source {
    /// A file or directory, read once.
    Replay {
        path: String,
        legacy: bool,
        parse_opts: ParseOptions,
    },
    /// EKS audit logs in CloudWatch Logs.
    Eks(EksConfig),
    /// The apiserver audit webhook.
    Webhook {
        config: WebhookConfig,
        queue_capacity: usize,
        dedup_window: usize,
    },
}

fn json_usize(v: &serde_json::Value, key: &str, default: usize) -> usize {
    v.get(key)
        .and_then(|x| {
            x.as_u64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
        .map_or(default, |n| n as usize)
}

fn json_str(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(|x| x.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn select_source(
    cli: &Cli,
    plugins: &[(String, serde_json::Value)],
    config: &Config,
) -> Result<Source> {
    if let Some(e) = &cli.events_file {
        return Ok(Source::Replay {
            path: e.clone(),
            legacy: true,
            parse_opts: ParseOptions::default(),
        });
    }
    let (name, entry) = plugins
        .iter()
        .find(|(n, _)| n == "k8saudit" || n == "k8saudit-eks")
        .ok_or_else(|| {
            anyhow!("No event source: configure the k8saudit plugin (plugins[].name: k8saudit) or pass -e FILE")
        })?;
    let open_params = entry
        .get("open_params")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .trim()
        .to_string();
    if open_params.is_empty() {
        bail!("k8saudit: open_params is empty; set it to an audit log file or directory, or to http://:9765/k8s-audit");
    }
    let init = init_config_of(entry)?;
    if name == "k8saudit-eks" {
        return eks_config(&open_params, &init).map(Source::Eks);
    }
    let max_event_size = json_usize(
        &init,
        "maxEventSize",
        ParseOptions::default().max_event_size,
    );
    if open_params.starts_with("http://") || open_params.starts_with("https://") {
        let ep = webhook::parse_endpoint(&open_params).map_err(|e| anyhow!("k8saudit: {e}"))?;
        let tls = ep.https.then(|| TlsConfig {
            cert_key_pem: json_str(&init, "sslCertificate")
                .unwrap_or_else(|| "/etc/falco/falco.pem".into())
                .into(),
            client_ca: json_str(&init, "clientCAFile").map(Into::into),
        });
        let auth_token = match (
            json_str(&init, "authTokenFile"),
            json_str(&init, "authTokenEnv"),
        ) {
            (Some(f), _) => Some(
                std::fs::read_to_string(&f)
                    .map_err(|e| anyhow!("k8saudit: cannot read authTokenFile {f}: {e}"))?
                    .trim()
                    .to_string(),
            ),
            (None, Some(var)) => Some(
                std::env::var(&var)
                    .map_err(|_| anyhow!("k8saudit: authTokenEnv names {var}, which is not set"))?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        if auth_token.as_deref() == Some("") {
            bail!("k8saudit: the configured bearer token is empty");
        }
        let healthz = config
            .str("webserver.k8s_healthz_endpoint")
            .unwrap_or_else(|| "/healthz".into());
        return Ok(Source::Webhook {
            config: WebhookConfig {
                listen: ep.listen,
                path: ep.path,
                healthz_path: Some(healthz),
                tls,
                max_event_size,
                max_batch_size: json_usize(&init, "webhookMaxBatchSize", 12_582_912),
                auth_token,
                handle_signals: true,
            },
            queue_capacity: json_usize(&init, "maxQueuedEvents", 5_000),
            dedup_window: json_usize(&init, "dedupWindow", 100_000),
        });
    }
    if let Some((scheme, _)) = open_params.split_once("://") {
        if scheme != "file" {
            bail!("k8saudit: scheme \"{scheme}\" is not supported");
        }
        bail!("k8saudit: the file:// follow mode is not available in this build yet; use a plain path to replay a file");
    }
    Ok(Source::Replay {
        path: open_params,
        legacy: false,
        parse_opts: ParseOptions {
            max_event_size,
            ..Default::default()
        },
    })
}

/// The `k8saudit-eks` settings: open_params is the cluster name (comma-separated for
/// several clusters); init_config keys as the plugin, plus falco-rs' `lookback`,
/// `checkpoint_file` and `page_size`.
fn eks_config(open_params: &str, init: &serde_json::Value) -> Result<EksConfig> {
    let clusters: Vec<String> = open_params
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if clusters.is_empty() {
        bail!(
            "k8saudit-eks: cluster name can't be empty (set open_params to the EKS cluster name)"
        );
    }
    let mut cfg = EksConfig::new(clusters);
    cfg.region = json_str(init, "region");
    cfg.profile = json_str(init, "profile");
    let secs = |k: &str, d: u64| {
        let n = json_usize(init, k, d as usize) as u64;
        std::time::Duration::from_secs(if n == 0 { d } else { n })
    };
    cfg.shift = secs("shift", 1);
    cfg.polling_interval = secs("polling_interval", 5);
    cfg.lookback = std::time::Duration::from_secs(json_usize(init, "lookback", 300) as u64);
    cfg.checkpoint_file = json_str(init, "checkpoint_file").map(Into::into);
    cfg.max_event_size = json_usize(
        init,
        "max_event_size",
        ParseOptions::default().max_event_size,
    );
    cfg.page_size = init
        .get("page_size")
        .and_then(|v| v.as_i64())
        .map(|n| n.clamp(1, 10_000) as i32);
    Ok(cfg)
}

/// The output channels enabled in falco.yaml, in Falco's order (file, stdout, syslog,
/// program, http), each behind its own queue of `outputs_queue.capacity` alerts
/// (0, Falco's "unbounded", means 100,000 here: memory stays bounded).
fn build_outputs(config: &Config, json: bool) -> Result<Outputs> {
    let buffered = config.bool_or("buffered_outputs", false);
    let mut channels: Vec<Box<dyn Channel>> = Vec::new();
    if config.bool_or("file_output.enabled", false) {
        let filename = config.str("file_output.filename").ok_or_else(|| {
            anyhow!("file_output.filename is required when file_output is enabled")
        })?;
        channels.push(Box::new(FileChannel::new(
            filename.into(),
            config.bool_or("file_output.keep_alive", false),
            buffered,
        )));
    }
    if config.bool_or("stdout_output.enabled", false) {
        channels.push(Box::new(StdoutChannel::new(buffered)));
    }
    if config.bool_or("syslog_output.enabled", false) {
        let path = config
            .str("syslog_output.socket")
            .unwrap_or_else(|| "/dev/log".into());
        channels.push(Box::new(SyslogChannel::new(path.into())));
    }
    if config.bool_or("program_output.enabled", false) {
        let program = config.str("program_output.program").ok_or_else(|| {
            anyhow!("program_output.program is required when program_output is enabled")
        })?;
        channels.push(Box::new(ProgramChannel::new(
            program,
            config.bool_or("program_output.keep_alive", false),
            buffered,
        )));
    }
    if config.bool_or("http_output.enabled", false) {
        let url = config
            .str("http_output.url")
            .map(|u| u.trim().trim_matches('"').to_string())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| anyhow!("http_output.url is required when http_output is enabled"))?;
        let mut ca_files: Vec<std::path::PathBuf> = Vec::new();
        for key in ["http_output.ca_cert", "http_output.ca_bundle"] {
            if let Some(f) = config.str(key).filter(|f| !f.is_empty()) {
                ca_files.push(f.into());
            }
        }
        if let Some(dir) = config
            .str("http_output.ca_path")
            .filter(|d| !d.is_empty() && d != "/etc/ssl/certs/")
        {
            if let Ok(rd) = std::fs::read_dir(&dir) {
                ca_files.extend(
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file()),
                );
            }
        }
        let client_cert = if config.bool_or("http_output.mtls", false) {
            Some((
                config
                    .str("http_output.client_cert")
                    .unwrap_or_else(|| "/etc/ssl/certs/client.crt".into())
                    .into(),
                config
                    .str("http_output.client_key")
                    .unwrap_or_else(|| "/etc/ssl/certs/client.key".into())
                    .into(),
            ))
        } else {
            None
        };
        let settings = HttpSettings {
            url,
            user_agent: config
                .str("http_output.user_agent")
                .unwrap_or_else(|| "falcosecurity/falco".into()),
            insecure: config.bool_or("http_output.insecure", false),
            ca_files,
            client_cert,
            compress: config.bool_or("http_output.compress_uploads", false),
            echo: config.bool_or("http_output.echo", false),
            content_type: if json {
                "application/json"
            } else {
                "text/plain"
            }
            .into(),
            max_attempts: json_usize(
                config
                    .get("http_output")
                    .unwrap_or(&serde_json::Value::Null),
                "max_attempts",
                5,
            ) as u32,
        };
        channels.push(Box::new(
            HttpChannel::new(settings).map_err(|e| anyhow!("http_output: {e}"))?,
        ));
    }
    if channels.is_empty() {
        bail!("No output configured, please make sure at least one output is enabled");
    }
    let capacity = match config.get("outputs_queue").and_then(|q| q.get("capacity")) {
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0),
        None => 0,
    };
    let capacity = if capacity == 0 {
        100_000
    } else {
        capacity as usize
    };
    Ok(Outputs::new(channels, capacity))
}

/// `init_config` as a YAML map or a JSON string; empty means defaults.
fn init_config_of(entry: &serde_json::Value) -> Result<serde_json::Value> {
    match entry.get("init_config") {
        None | Some(serde_json::Value::Null) => Ok(serde_json::json!({})),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(serde_json::json!({})),
        Some(serde_json::Value::String(s)) => {
            serde_json::from_str(s).map_err(|e| anyhow!("invalid init_config JSON for plugin: {e}"))
        }
        Some(v) => Ok(v.clone()),
    }
}
