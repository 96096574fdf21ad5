//! TCP reassembly per flow and direction (to be written).
