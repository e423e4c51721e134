//! The rules loader, compile pass and human diagnostics on arbitrary rules-file text:
//! loading either succeeds or records errors; the Falco text/JSON renderings and the
//! diagnostics (with their recovery reloads) never panic.
#![no_main]

use falco_rs_k8saudit::K8sAuditCatalog;
use falco_rs_rules::compile::{compile, CompileOptions, ParseMemo};
use falco_rs_rules::diagnostics::{self, HintData};
use falco_rs_rules::loader::{Collector, LoaderEnv};
use falco_rs_rules::model::Version;
use falco_rs_rules::result::LoadResult;
use libfuzzer_sys::fuzz_target;

fn load(content: &str, skip: &[usize]) -> LoadResult {
    let catalog = K8sAuditCatalog::new();
    let source_known = |s: &str| s == "k8s_audit";
    let source_not_served = |s: &str| s == "syscall";
    let lhs_valid =
        |src: &str, f: &str| src == "k8s_audit" && f.starts_with(|c: char| c.is_ascii_alphabetic());
    let Some(engine_version) = Version::parse("0.62.0") else {
        return LoadResult::new("fuzz.yaml", content);
    };
    let env = LoaderEnv {
        engine_version,
        source_known: &source_known,
        source_not_served: &source_not_served,
        lhs_field_valid: &lhs_valid,
    };
    let mut collector = Collector::default();
    let mut res = LoadResult::new("fuzz.yaml", content);
    if collector.read_skipping(&env, &mut res, skip) {
        let parsed = ParseMemo::default();
        let opts = CompileOptions {
            catalog: &catalog,
            append_output: &[],
            source_not_served: &source_not_served,
            parsed: &parsed,
        };
        let _ = compile(&collector, &opts, &mut res);
    }
    res
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let res = load(text, &[]);
    let _ = res.verbose();
    let _ = res.to_json().to_string();
    let diags = diagnostics::recover(&res, |skip| load(text, skip));
    let data = HintData {
        fields: K8sAuditCatalog::field_docs()
            .iter()
            .map(|d| d.name.to_string())
            .collect(),
        engine_version: "0.62.0".into(),
    };
    let _ = diagnostics::render("fuzz.yaml", text, &diags, &data);
});
