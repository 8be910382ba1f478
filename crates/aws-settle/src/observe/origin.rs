//! Read-backs: calls made to *check* a change (a post-condition's read-back, a chain's
//! stabilization poll) rather than by the program's own logic. An instrumented client reports
//! them with [`Event::read_back`](super::Event::read_back) set, and the report keeps them in rows
//! of their own, so a job's GetParameter calls are not mixed with the enforcer's.
//!
//! The marker is a task-local set around the checking future: the observer reads it in its first
//! hook (`read_before_serialization`), which runs synchronously inside `send()` on the task that
//! awaits it.

use std::future::Future;

tokio::task_local! {
    static READ_BACK: ();
}

/// Runs `checking` with every call an instrumented client makes in it (on this task) reported as a
/// read-back.
///
/// ```no_run
/// # #[cfg(feature = "ssm")]
/// # async fn f(ssm: aws_sdk_ssm::Client) {
/// // A hand-written poll whose calls the report should not count as the job's own:
/// let read = aws_settle::observe::read_back(ssm.get_parameter().name("/app/db").send()).await;
/// # let _ = read; }
/// ```
pub async fn read_back<F: Future>(checking: F) -> F::Output {
    READ_BACK.scope((), checking).await
}

/// Whether the current task is inside [`read_back`].
pub(crate) fn is_read_back() -> bool {
    READ_BACK.try_with(|_| ()).is_ok()
}
