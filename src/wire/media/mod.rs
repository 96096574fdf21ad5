//! Audio and video tag headers (to be written).
