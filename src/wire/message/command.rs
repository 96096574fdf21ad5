//! AMF0 command and data messages (to be written).
