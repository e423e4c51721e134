//! Command-line options, Falco-compatible.

use clap::Parser;

/// Falco-compatible Kubernetes audit detection in one binary.
#[derive(Debug, Parser)]
#[command(
    name = "falco-rs",
    version = None,
    disable_version_flag = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Extra commands beyond Falco's options.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Configuration file (default: the embedded configuration).
    #[arg(short = 'c', value_name = "PATH")]
    pub config: Option<String>,

    /// Rules file or directory; repeatable, in order. Replaces rules_files of the config.
    #[arg(short = 'r', value_name = "PATH")]
    pub rules: Vec<String>,

    /// Config override `key=value` (dotted paths, `list[i]`, `list[]`); repeatable.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,

    /// Replay a k8s audit JSON-lines file (legacy Falco ≤ 0.31 `-e`).
    #[arg(short = 'e', value_name = "EVENTS_FILE")]
    pub events_file: Option<String>,

    /// Stop when an event's time is at least the first event's time plus this many seconds.
    #[arg(short = 'M', value_name = "SECONDS")]
    pub max_seconds: Option<u64>,

    /// Unbuffered outputs (forces buffered_outputs=false).
    #[arg(short = 'U', long = "unbuffered")]
    pub unbuffered: bool,

    /// Load config and rules, validate everything, then exit.
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Validate rules files (repeatable) and exit.
    #[arg(short = 'V', long = "validate", value_name = "RULES_FILE")]
    pub validate: Vec<String>,

    /// List all loaded rules with their descriptions, then exit.
    #[arg(short = 'L')]
    pub list_rules: bool,

    /// Describe one rule, then exit.
    #[arg(short = 'l', value_name = "RULE")]
    pub describe_rule: Option<String>,

    /// List the fields (optionally of one source), then exit.
    #[arg(long = "list", value_name = "SOURCE", num_args = 0..=1, default_missing_value = "")]
    pub list_fields: Option<String>,

    /// Output format: for -V `falco` (Falco's text, the default), `json` (Falco's
    /// JSON, like json_output=true) or `human` (diagnostics with hints); for --list
    /// `text` (default), `markdown` or `json`.
    #[arg(long = "format", value_name = "FORMAT")]
    pub format: Option<String>,

    /// With --list: names only.
    #[arg(short = 'N')]
    pub names_only: bool,

    /// Enable an event source (only k8s_audit exists).
    #[arg(long = "enable-source", value_name = "SOURCE")]
    pub enable_source: Vec<String>,

    /// Disable an event source.
    #[arg(long = "disable-source", value_name = "SOURCE")]
    pub disable_source: Vec<String>,

    /// Replay with N threads (parse and evaluate in parallel; alerts keep input order;
    /// 0 = one per available core).
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 1)]
    pub jobs: usize,

    /// Verbose statistics on stderr at exit.
    #[arg(short = 'v')]
    pub verbose: bool,

    /// Write the process id to this file.
    #[arg(short = 'P', long = "pidfile", value_name = "PATH")]
    pub pidfile: Option<String>,

    /// Replay mode: explain, per event and rule, why the condition matched or not (the
    /// condition tree with each sub-expression's value and the fields it read).
    #[arg(long = "explain")]
    pub explain: bool,

    /// With --explain: only this rule.
    #[arg(long = "explain-rule", value_name = "RULE")]
    pub explain_rule: Option<String>,

    /// With --explain: only the N-th event (1-based, as evt.num).
    #[arg(long = "explain-event", value_name = "N")]
    pub explain_event: Option<u64>,

    /// At the end of a run, print a noise report (alerts per rule, top user/verb/
    /// resource/namespace tuples, ready-to-paste exceptions): `text` or `json`.
    #[arg(long = "report", value_name = "FORMAT", num_args = 0..=1, default_missing_value = "text")]
    pub report: Option<String>,

    /// Print version information and exit.
    #[arg(long = "version")]
    pub version: bool,
}

/// falco-rs subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run rule tests: YAML files naming rules, events and the alerts they must raise.
    Test(crate::testcmd::TestArgs),
}
