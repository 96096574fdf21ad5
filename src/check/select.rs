//! Which cases run: positional ids, areas or globs select; `--tags` narrows to cases with one
//! of the tags; `--skip ID[=reason]` reports a case as skipped with the reason.
//!
//! Patterns follow `analyze --rule`: an exact id (`chunk.csid-64`), an area (`chunk`), or a
//! glob with `*` (`chunk.set-chunk-size-*`). A pattern that matches no case is a usage error,
//! so a typo never silently selects nothing.

use super::Case;
use crate::rules::select::matches;

/// A skip pattern and the reason to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub pattern: String,
    pub reason: Option<String>,
}

impl Skip {
    /// Parses `ID[=reason]`.
    pub fn parse(s: &str) -> Skip {
        match s.split_once('=') {
            Some((p, r)) => Skip { pattern: p.to_string(), reason: Some(r.to_string()) },
            None => Skip { pattern: s.to_string(), reason: None },
        }
    }
}

/// The selection of a run. The default selects every case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub patterns: Vec<String>,
    pub tags: Vec<String>,
    pub skip: Vec<Skip>,
}

/// What the selection does with one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Run,
    Skip(String),
    Omit,
}

impl Selection {
    /// Builds a selection, checking every pattern and tag against `cases`.
    pub fn new(patterns: Vec<String>, tags: Vec<String>, skip: Vec<Skip>, cases: &[Case]) -> Result<Self, String> {
        for (what, p) in patterns.iter().map(|p| ("case", p)).chain(skip.iter().map(|s| ("--skip", &s.pattern))) {
            if p.is_empty() {
                return Err(format!("{what}: empty pattern"));
            }
            if !cases.iter().any(|c| matches(p, c.id)) {
                return Err(format!(
                    "{what} {p}: matches no case (give an id, an area such as \"chunk\", or a glob with *; `rtmpscope check --list URL` lists them)"
                ));
            }
        }
        for t in &tags {
            if !cases.iter().any(|c| c.area() == t || c.tags.contains(&t.as_str())) {
                return Err(format!("--tags {t}: no case has this tag"));
            }
        }
        Ok(Selection { patterns, tags, skip })
    }

    pub fn pick(&self, case: &Case) -> Pick {
        let by_id = self.patterns.is_empty() || self.patterns.iter().any(|p| matches(p, case.id));
        let by_tag =
            self.tags.is_empty() || self.tags.iter().any(|t| case.area() == t || case.tags.contains(&t.as_str()));
        if !(by_id && by_tag) {
            return Pick::Omit;
        }
        match self.skip.iter().find(|s| matches(&s.pattern, case.id)) {
            Some(s) => Pick::Skip(s.reason.clone().unwrap_or_else(|| format!("skipped by --skip {}", s.pattern))),
            None => Pick::Run,
        }
    }
}
