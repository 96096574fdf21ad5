//! Tests of the capture layer: byte-level fixtures built with [`super::synth`].

mod file;
mod link;
mod tcp;
