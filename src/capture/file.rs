//! Streaming pcap / pcapng reader (to be written).
