//! Post-conditions: after a mutating call returns, block until its change is
//! readable. Per-service tables live in `post/services/`. Not implemented yet (issue 5).
