//! Observability: events with wildcard patterns, retry telemetry, metrics and the
//! "why is my job slow?" report. Not implemented yet.
