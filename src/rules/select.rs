//! Rule selection: which rules a report covers (`analyze --rule` / `--skip`).
//!
//! A pattern is an exact rule id (`chunk.resync`), an area (`chunk` or `chunk.`), or a glob
//! where `*` matches any run of characters (`handshake.echo-*`, `*.truncated`). A pattern that
//! matches no rule of the catalogue is a usage error, so a typo never silently selects nothing.

use super::CATALOGUE;
use serde::Serialize;

/// The rules a report covers. The default selects every rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleSelection {
    /// When not empty, only rules matching one of these are reported.
    pub rules: Vec<String>,
    /// Rules matching one of these are not reported.
    pub skip: Vec<String>,
}

/// Whether `id` matches `pattern` (see the module documentation).
pub fn matches(pattern: &str, id: &str) -> bool {
    if pattern.contains('*') {
        return glob(pattern.as_bytes(), id.as_bytes());
    }
    if pattern == id {
        return true;
    }
    let area = pattern.strip_suffix('.').unwrap_or(pattern);
    !area.contains('.') && id.split_once('.').is_some_and(|(a, _)| a == area)
}

/// `*` matches any run of bytes (including none); everything else matches itself.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

impl RuleSelection {
    /// Builds a selection; a pattern that matches no catalogue rule is an error naming it.
    pub fn new(rules: Vec<String>, skip: Vec<String>) -> Result<Self, String> {
        for (flag, list) in [("--rule", &rules), ("--skip", &skip)] {
            for p in list.iter() {
                if p.is_empty() {
                    return Err(format!("{flag}: empty rule pattern"));
                }
                if !CATALOGUE.iter().any(|r| matches(p, r.id)) {
                    return Err(format!(
                        "{flag} {p}: matches no rule (give an id, an area such as \"chunk\", or a glob with *; `rtmpscope rules` lists them)"
                    ));
                }
            }
        }
        Ok(RuleSelection { rules, skip })
    }

    /// Every rule is selected.
    pub fn is_all(&self) -> bool {
        self.rules.is_empty() && self.skip.is_empty()
    }

    /// Whether findings of rule `id` are reported.
    pub fn allows(&self, id: &str) -> bool {
        (self.rules.is_empty() || self.rules.iter().any(|p| matches(p, id)))
            && !self.skip.iter().any(|p| matches(p, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("chunk.resync", "chunk.resync"));
        assert!(!matches("chunk.res", "chunk.resync"));
        assert!(matches("chunk", "chunk.resync"));
        assert!(matches("chunk.", "chunk.resync"));
        assert!(!matches("chun", "chunk.resync"));
        assert!(!matches("chunk", "chunky.x"));
        assert!(matches("handshake.echo-*", "handshake.echo-time-mismatch"));
        assert!(matches("*.truncated", "amf0.truncated"));
        assert!(matches("*", "tcp.gap"));
        assert!(matches("h*s*e.*zero*", "handshake.random-all-zero"));
        assert!(!matches("*.gap.*", "tcp.gap"));
    }

    #[test]
    fn selection_and_errors() {
        let s = RuleSelection::new(vec!["handshake".into(), "tcp.gap".into()], vec!["handshake.s1-*".into()]).unwrap();
        assert!(s.allows("handshake.zero-field-nonzero"));
        assert!(s.allows("tcp.gap"));
        assert!(!s.allows("handshake.s1-copies-c1"));
        assert!(!s.allows("chunk.resync"));
        assert!(RuleSelection::default().allows("anything.at-all"));
        let e = RuleSelection::new(vec!["nosuch".into()], vec![]).unwrap_err();
        assert!(e.contains("--rule nosuch"), "{e}");
        assert!(RuleSelection::new(vec![], vec!["chunk.nope*".into()]).is_err());
        assert!(RuleSelection::new(vec![String::new()], vec![]).is_err());
    }
}
