//! The catalogue of check cases, one file per area. Each file exposes `pub fn cases() ->
//! Vec<Case>`; [`all`] concatenates them in area order, which is the run and report order.
//!
//! Writing a case: `Case::new(id, title, requirement, section, run)` with the builder methods
//! `.tags(&[..])`, `.destructive()` (the server may die: a liveness probe follows) and
//! `.timing_sensitive()` (`--retries` applies). `run` gets a fresh, unconnected
//! [`Ctx`](super::Ctx) and returns `Ok(Outcome::met/violated/info/unsupported(expected,
//! actual))`; `?` on a helper ends the case early with the helper's outcome. `expected` and
//! `actual` are sentences with the numbers: they are what a reader of a failure sees.

pub mod chunk;
pub mod commands;
pub mod control;
pub mod handshake;
pub mod media;
pub mod robustness;

use super::Case;

/// Every case, in report order.
pub fn all() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(handshake::cases());
    v.extend(chunk::cases());
    v.extend(control::cases());
    v.extend(commands::cases());
    v.extend(media::cases());
    v.extend(robustness::cases());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const AREAS: [&str; 6] = ["handshake", "chunk", "control", "commands", "media", "robustness"];

    #[test]
    fn ids_are_unique_well_formed_and_documented() {
        let cases = all();
        let mut seen = HashSet::new();
        for c in &cases {
            assert!(seen.insert(c.id), "duplicate case id {}", c.id);
            let (area, slug) = c.id.split_once('.').unwrap_or_else(|| panic!("{}: no area", c.id));
            assert!(AREAS.contains(&area), "{}: unknown area {area}", c.id);
            assert!(
                !slug.is_empty()
                    && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                    && !slug.starts_with('-')
                    && !slug.ends_with('-'),
                "{}: the slug must be lowercase words joined by '-'",
                c.id
            );
            assert!(
                c.section.contains('§') || c.section.contains("Enhanced RTMP") || c.section.contains("Flash"),
                "{}: no spec section ({:?})",
                c.id,
                c.section
            );
            assert!(!c.title.is_empty() && !c.title.ends_with('.'), "{}: title", c.id);
        }
    }
}
