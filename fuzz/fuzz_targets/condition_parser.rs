//! The condition parser and printer: any text either parses or is an error with a
//! position inside the text; a parsed condition prints and re-parses to the same
//! tree (as printed), and compiles or fails cleanly against the k8s_audit catalog.
#![no_main]

use falco_rs_engine::ProgramBuilder;
use falco_rs_k8saudit::K8sAuditCatalog;
use falco_rs_syntax::{parse_condition, parse_operand};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_operand(text);
    match parse_condition(text) {
        Ok(expr) => {
            let printed = expr.to_string();
            if let Ok(again) = parse_condition(&printed) {
                assert_eq!(again.to_string(), printed, "print/parse round trip");
            }
            let catalog = K8sAuditCatalog::new();
            let mut b = ProgramBuilder::new(&catalog);
            let _ = b.add_filter(&expr);
            let _ = b.add_output(text);
        }
        Err(e) => {
            assert!(e.pos.index <= text.len(), "error index past the end");
        }
    }
});
