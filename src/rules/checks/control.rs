//! Stateful checks: control.

use super::CheckIssue;
use crate::session::SessionEvent;

#[derive(Debug, Default)]
pub(crate) struct ControlChecks {}

impl ControlChecks {
    pub(crate) fn on_event(&mut self, _ev: &SessionEvent, _out: &mut Vec<CheckIssue>) {}

    pub(crate) fn finish(&mut self, _out: &mut Vec<CheckIssue>) {}
}
