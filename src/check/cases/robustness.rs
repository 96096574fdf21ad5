//! Robustness cases.

use crate::check::Case;

pub fn cases() -> Vec<Case> {
    vec![]
}
