//! A bounded, concurrency-safe cache of SDK clients keyed by their configuration.
//! Not implemented yet.
