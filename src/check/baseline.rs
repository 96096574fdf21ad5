//! Baselines: a JSON object mapping case ids to the verdict a server is known to get, e.g.
//! `{"chunk.set-chunk-size-1": "fail", "handshake.plain": "pass"}` (written in catalogue
//! order by `--write-baseline`). With `--baseline`, a case only fails the run when its verdict
//! differs from the recorded one and is itself a failing verdict; a case missing from the
//! baseline is judged as without one.

use super::{CaseResult, Verdict};
use serde_json::{Map, Value};

/// Verdicts per case id, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    pub verdicts: Vec<(String, Verdict)>,
}

impl Baseline {
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(m) = v else { return Err("expected a JSON object {\"case id\": \"verdict\"}".into()) };
        let mut verdicts = Vec::new();
        for (k, v) in m {
            let s = v.as_str().ok_or_else(|| format!("{k}: the verdict must be a string"))?;
            let verdict = Verdict::parse(s).ok_or_else(|| {
                format!("{k}: unknown verdict {s:?} (one of {})", Verdict::ALL.map(|v| v.as_str()).join(", "))
            })?;
            verdicts.push((k, verdict));
        }
        Ok(Baseline { verdicts })
    }

    pub fn from_results(results: &[CaseResult]) -> Baseline {
        Baseline { verdicts: results.iter().map(|r| (r.id.to_string(), r.verdict)).collect() }
    }

    pub fn get(&self, id: &str) -> Option<Verdict> {
        self.verdicts.iter().find(|(k, _)| k == id).map(|(_, v)| *v)
    }

    pub fn to_json(&self) -> String {
        let m: Map<String, Value> =
            self.verdicts.iter().map(|(k, v)| (k.clone(), Value::String(v.as_str().into()))).collect();
        let mut s = serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Sets each result's `baseline` field to the recorded verdict when it differs.
    pub fn annotate(&self, results: &mut [CaseResult]) {
        for r in results {
            r.baseline = self.get(r.id).filter(|b| *b != r.verdict);
        }
    }
}

/// Whether `r` fails the run: a failing verdict, unless a baseline recorded the same one.
pub fn fails_run(r: &CaseResult, baseline: Option<&Baseline>, strict: bool) -> bool {
    if !r.verdict.is_failure(strict) {
        return false;
    }
    match baseline.and_then(|b| b.get(r.id)) {
        Some(v) => v != r.verdict,
        None => true,
    }
}
