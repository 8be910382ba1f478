//! The poll engine: waiters, acceptors, Smithy waiter delays and botocore
//! `waiters-2.json` models. Not implemented yet (issue 4).
