//! Link layers, IPv4/IPv6 and TCP header decoding (to be written).
