//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod check;
mod common;
mod conformance_output;
mod ertmp_captures;
mod fuzz_regressions;
mod hostile_captures;
mod hostile_matrix;
mod proxy;
mod proxy_fault;
mod proxy_tls;
mod real_captures;
mod rule_coverage;
