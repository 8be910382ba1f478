//! # aws-settle
//!
//! Make AWS calls *settle*: a program that writes to AWS and then depends on that
//! write should never be surprised by eventual consistency, throttling or retry
//! storms, and should never write its own polling loop again.
//!
//! Each capability has one home:
//!
//! | module | what it does |
//! |---|---|
//! | [`wait`] | the poll engine: waiters, acceptors, Smithy delays, `waiters-2.json` models |
//! | [`post`] | post-conditions: every mutating call returns once its change is readable |
//! | [`chain`] | CloudFormation-style call chains: initiate → translate → call → stabilize → done, `ProgressEvent`/`HandlerErrorCode`, retries, and a JSON memo so a resumed handler never repeats a finished call |
//! | [`observe`] | events with wildcard patterns, tracing, metrics and a "why is my job slow?" report for every call, attempt, throttle and retry backoff |
//! | [`errors`] | one vocabulary of errors: bounded, secret-free summaries of failed calls |
//! | [`govern`] | a rate governor per account/region/service/operation: GCRA pacing, adaptive rates, a retry budget, shared by a fleet on Valkey/Redis (features `governor`, `fleet`) |
//! | [`cache`] | a bounded (LRU/LFU), concurrency-safe cache of SDK clients keyed by `ClientCacheKey`; one build per key |
//!
//! Service support is behind one cargo feature per AWS service (`ssm`,
//! `secretsmanager`, `s3`, `iam`, `dynamodb`; `tagging` for the Resource Groups
//! Tagging API view of tag writes; `full` enables all).

#![warn(missing_docs)]
// Without a service feature, the post-condition machinery has no rule to serve.
#![cfg_attr(
    not(any(
        feature = "ssm",
        feature = "secretsmanager",
        feature = "s3",
        feature = "iam",
        feature = "dynamodb"
    )),
    allow(dead_code)
)]

#[macro_use]
mod clients;

pub mod cache;
pub mod chain;
pub mod errors;
#[cfg(feature = "governor")]
pub mod govern;
pub mod observe;
pub mod post;
pub mod propagate;
pub mod wait;
