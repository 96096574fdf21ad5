//! Tests of the capture layer: byte-level fixtures built with [`super::synth`].

mod file;
mod hostile;
mod link;
mod tcp;
