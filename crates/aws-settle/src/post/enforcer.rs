//! The [`Enforcer`]: where recorded writes go, and the awaited steps that settle them.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::check::{Check, CheckFailed, NotRecorded, ReadBackError, SettleError, UncheckedWrite};
use super::options::SettleOptions;
use super::recorder::Recorder;
use super::rule::Rule;
use super::schedule::{LearnedSchedule, ScheduleKey};

/// At most this many writes wait in the enforcer outside any settle step; older ones are
/// dropped (and counted in [`Stats::dropped`]).
const PENDING_LIMIT: usize = 10_000;

tokio::task_local! {
    /// The collector of the innermost `settled()` or `scope()` around the current task.
    static COLLECTOR: Collector;
}

/// What one recorded call left to settle.
#[derive(Debug)]
pub(crate) enum Recorded {
    /// A read-back of a write.
    Check(Check),
    /// A write no rule checks.
    Unchecked(Unchecked),
}

/// A write no rule checks, with what its enforcer says about it.
#[derive(Debug)]
pub(crate) struct Unchecked {
    pub(crate) write: UncheckedWrite,
    options: SettleOptions,
    counter: Counter,
}

/// What one `settled()` or `scope()` recorded.
#[derive(Debug, Default)]
struct Collected {
    records: Vec<Recorded>,
    /// Calls an enforcer saw (reads and writes, with or without a rule).
    seen: usize,
}

/// The task-local sink of one settle step.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Collected>>);

impl Collector {
    fn take(&self) -> Collected {
        std::mem::take(&mut *lock(&self.0))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What an enforcer has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Read-backs that saw their write's change.
    pub checks_passed: u64,
    /// Read-backs that failed or timed out.
    pub checks_failed: u64,
    /// Mutating operations without a rule (or with inputs no rule checks), by
    /// `service:Operation`: nothing confirmed them.
    pub unchecked: BTreeMap<String, u64>,
    /// Unchecked writes let through by lenient mode (each with a `tracing` warning).
    pub lenient_passes: u64,
    /// Writes recorded outside any settle step, waiting for [`Enforcer::settle_pending`].
    pub pending: usize,
    /// Pending writes dropped because more than 10,000 were waiting.
    pub dropped: u64,
}

/// The counters a check updates when it ends. Checks hold this, not the enforcer, so pending
/// checks kept in the enforcer form no reference cycle with it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<Mutex<Stats>>);

impl Counter {
    /// Counts the outcome of one check.
    pub(crate) fn count(&self, passed: bool) {
        let mut stats = lock(&self.0);
        if passed {
            stats.checks_passed += 1;
        } else {
            stats.checks_failed += 1;
        }
    }
}

/// Writes recorded outside any settle step, numbered in the order they came.
#[derive(Debug, Default)]
struct Pending {
    next: u64,
    queue: VecDeque<(u64, Recorded)>,
}

/// User rules by client type, then operation; each value is an `Arc<Rule<C>>`.
type UserRules = HashMap<TypeId, HashMap<&'static str, Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
struct Inner {
    options: SettleOptions,
    #[cfg(feature = "tagging")]
    view: Option<super::rule::ViewClient>,
    rules: UserRules,
    stats: Counter,
    pending: Mutex<Pending>,
    learned: LearnedSchedule,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enforcer")
            .field("options", &self.options)
            .field("user_rules", &self.rules.values().map(HashMap::len).sum::<usize>())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Records the writes of every client it is [attached](super::attach) to and settles them.
///
/// Cheap to clone (an `Arc`); one per program is typical. Build one with [`Enforcer::new`]
/// (defaults) or [`Enforcer::builder`] (options, user rules, the tagging view).
#[derive(Debug, Clone, Default)]
pub struct Enforcer {
    inner: Arc<Inner>,
}

/// Builds an [`Enforcer`]: its [`SettleOptions`], user [`Rule`]s and (feature `tagging`) the
/// tagging view.
///
/// ```
/// use aws_settle::post::{Enforcer, SettleOptions};
/// use std::time::Duration;
///
/// let enforcer = Enforcer::builder()
///     .with_options(SettleOptions::new().with_max_wait(Duration::from_secs(30)))
///     .build();
/// assert_eq!(enforcer.options().max_wait(), Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Default)]
#[must_use = "call .build() to get the enforcer"]
pub struct EnforcerBuilder {
    inner: Inner,
}

impl EnforcerBuilder {
    /// Read-back options of every check this enforcer records (a call's own override them).
    pub fn with_options(mut self, options: SettleOptions) -> Self {
        self.inner.options = options;
        self
    }

    /// Paces read-backs with this learner (e.g. one with another read cost, or shared with
    /// other enforcers) instead of a fresh one with the defaults.
    pub fn with_learned_schedule(mut self, learned: LearnedSchedule) -> Self {
        self.inner.learned = learned;
        self
    }

    /// Adds a rule for one operation of client type `C` (replacing a built-in rule for the same
    /// operation, and an earlier user rule). It behaves as the built-in ones do.
    pub fn with_rule<C: Send + Sync + 'static>(mut self, rule: Rule<C>) -> Self {
        self.inner.rules.entry(TypeId::of::<C>()).or_default().insert(rule.operation, Arc::new(rule));
        self
    }

    /// Also waits for each tag write to show in the Resource Groups Tagging API
    /// (`GetResources`), read with `client`.
    ///
    /// ```no_run
    /// # fn demo(sdk_config: &aws_types::SdkConfig) {
    /// let view = aws_sdk_resourcegroupstagging::Client::new(sdk_config);
    /// let enforcer = aws_settle::post::Enforcer::builder().with_tagging_view(view).build();
    /// # }
    /// ```
    #[cfg(feature = "tagging")]
    pub fn with_tagging_view(mut self, client: aws_sdk_resourcegroupstagging::Client) -> Self {
        self.inner.view = Some(client);
        self
    }

    /// The enforcer.
    pub fn build(self) -> Enforcer {
        Enforcer { inner: Arc::new(self.inner) }
    }
}

impl Enforcer {
    /// An enforcer with the default options (each rule's own max wait: 2 minutes for most).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder for an enforcer with options, user rules or the tagging view.
    pub fn builder() -> EnforcerBuilder {
        EnforcerBuilder::default()
    }

    /// The enforcer's read-back options.
    pub fn options(&self) -> &SettleOptions {
        &self.inner.options
    }

    #[cfg(feature = "tagging")]
    pub(crate) fn tagging_view(&self) -> Option<&super::rule::ViewClient> {
        self.inner.view.as_ref()
    }

    /// The user rule for `operation` of client type `C`, if one was added.
    pub(crate) fn user_rule<C: Send + Sync + 'static>(&self, operation: &str) -> Option<Arc<Rule<C>>> {
        let rule = self.inner.rules.get(&TypeId::of::<C>())?.get(operation)?;
        rule.clone().downcast::<Rule<C>>().ok()
    }

    /// A recorder for a client of any SDK crate, e.g. one with no built-in table: its
    /// operations `reads` only read (they pass); every other operation is a write, settled by
    /// this enforcer's user [`Rule`]s for client type `C` (added with
    /// [`EnforcerBuilder::with_rule`]) and unchecked without one. `reader` is the client the
    /// read-backs use (without the recorder). See [`Recorder`] for how to install it.
    pub fn recorder<C: Send + Sync + 'static>(
        &self,
        service: &'static str,
        reads: &'static [&'static str],
        reader: C,
    ) -> Recorder<C> {
        let table = super::rule::Table::user(service, reads);
        Recorder { reader, table: Arc::new(table), enforcer: self.clone() }
    }

    /// The learner that paces this enforcer's read-backs.
    pub fn learned_schedule(&self) -> &LearnedSchedule {
        &self.inner.learned
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut stats = lock(&self.inner.stats.0).clone();
        stats.pending = lock(&self.inner.pending).queue.len();
        stats
    }

    /// Runs `body`, recording the writes it makes, then settles them all concurrently.
    ///
    /// Returns `body`'s output, or an error when `body` fails (its writes are then kept for
    /// [`settle_pending`](Self::settle_pending), not settled) or when a write was not confirmed
    /// ([`ReadBackError`], converted with `From`: `Box<dyn Error>`, `anyhow::Error` and
    /// [`SettleError`] take it). Writes recorded on other tasks while `body` ran — e.g. in a
    /// `tokio::spawn`ed task that `body` awaits — are settled with it, never dropped. Writes
    /// already settled inside (with [`SettleExt::settled`]) are not settled twice.
    ///
    /// ```no_run
    /// # #[cfg(feature = "ssm")]
    /// # async fn demo(ssm: aws_sdk_ssm::Client, enforcer: aws_settle::post::Enforcer) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let written = enforcer
    ///     .scope(async {
    ///         for i in 0..50 {
    ///             ssm.put_parameter().name(format!("/app/p{i}")).value("x").send().await?;
    ///         }
    ///         Ok::<_, Box<dyn std::error::Error + Send + Sync>>(50)
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn scope<T, E, F>(&self, body: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<ReadBackError>,
    {
        self.scope_with(SettleOptions::default(), body).await
    }

    /// As [`scope`](Self::scope), with these options for its read-backs.
    pub async fn scope_with<T, E, F>(&self, options: SettleOptions, body: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<ReadBackError>,
    {
        let start = lock(&self.inner.pending).next;
        let collector = Collector::default();
        let output = COLLECTOR.scope(collector.clone(), body).await;
        let mut records = collector.take().records;
        records.extend(self.take_pending_since(start));
        match output {
            Ok(value) => {
                settle(records, &options).await?;
                Ok(value)
            }
            Err(error) => {
                records.into_iter().for_each(|r| self.keep_pending(r));
                Err(error)
            }
        }
    }

    /// Settles every write recorded outside a settle step so far.
    pub async fn settle_pending(&self) -> Result<(), ReadBackError> {
        let records = self.take_pending_since(0);
        settle(records, &SettleOptions::default()).await.map(|_| ())
    }

    fn take_pending_since(&self, start: u64) -> Vec<Recorded> {
        let mut pending = lock(&self.inner.pending);
        let keep = pending.queue.iter().take_while(|(seq, _)| *seq < start).count();
        pending.queue.drain(keep..).map(|(_, r)| r).collect()
    }

    fn keep_pending(&self, record: Recorded) {
        let mut pending = lock(&self.inner.pending);
        if pending.queue.len() >= PENDING_LIMIT {
            pending.queue.pop_front();
            lock(&self.inner.stats.0).dropped += 1;
        }
        let seq = pending.next;
        pending.next += 1;
        pending.queue.push_back((seq, record));
    }

    /// Called by the recorder for every call it sees: marks the innermost settle step as
    /// recorded.
    pub(crate) fn saw_call(&self) {
        let _ = COLLECTOR.try_with(|c| lock(&c.0).seen += 1);
    }

    /// Called by the recorder for each check a write produced, with what its learned schedule
    /// is kept per.
    pub(crate) fn record_keyed(&self, mut check: Check, key: ScheduleKey) {
        check.key = Some(key);
        check.learner = Some(self.inner.learned.clone());
        self.record(check);
    }

    /// Records a check (paced by the fixed schedule unless it has a key).
    pub(crate) fn record(&self, mut check: Check) {
        check.options = self.inner.options.clone();
        check.counter = Some(self.inner.stats.clone());
        self.collect(Recorded::Check(check));
    }

    /// Called by the recorder for a mutating call no rule checks.
    pub(crate) fn record_unchecked(&self, write: UncheckedWrite) {
        let key = format!("{}:{}", write.service, write.operation);
        *lock(&self.inner.stats.0).unchecked.entry(key).or_default() += 1;
        let options = self.inner.options.clone();
        self.collect(Recorded::Unchecked(Unchecked { write, options, counter: self.inner.stats.clone() }));
    }

    /// Into the innermost settle step of this task, else into the pending queue.
    fn collect(&self, record: Recorded) {
        let mut slot = Some(record);
        let _ = COLLECTOR.try_with(|c| lock(&c.0).records.extend(slot.take()));
        if let Some(record) = slot {
            self.keep_pending(record);
        }
    }
}

/// Settles `records` concurrently on this task: runs every check, lets unchecked writes pass
/// only in lenient mode, and reports all that were not confirmed.
async fn settle(records: Vec<Recorded>, call: &SettleOptions) -> Result<usize, ReadBackError> {
    let mut checks = Vec::new();
    let mut unchecked = Vec::new();
    for record in records {
        match record {
            Recorded::Check(check) => checks.push(check),
            Recorded::Unchecked(u) if call.or(&u.options).is_lenient() => {
                pass_leniently(&u.write.to_string(), Some(&u.counter));
            }
            Recorded::Unchecked(u) => unchecked.push(u.write),
        }
    }
    let total = checks.len();
    let results = futures_util::future::join_all(checks.into_iter().map(|c| c.run(call))).await;
    let failed: Vec<CheckFailed> = results.into_iter().filter_map(Result::err).collect();
    if failed.is_empty() && unchecked.is_empty() {
        Ok(total)
    } else {
        Err(ReadBackError { passed: total - failed.len(), failed, unchecked })
    }
}

/// Lets an unconfirmed call pass in lenient mode: one warning event and one count.
fn pass_leniently(what: &str, counter: Option<&Counter>) {
    tracing::warn!(target: "aws_settle::post", lenient = true, "passed without a read-back: {what}");
    metrics::counter!("aws_settle_post_lenient_passes_total").increment(1);
    if let Some(counter) = counter {
        lock(&counter.0).lenient_passes += 1;
    }
}

/// `.settled()` and its variants on any SDK call's `send()` future: the serial form.
///
/// ```no_run
/// # #[cfg(feature = "ssm")]
/// # async fn demo(ssm: aws_sdk_ssm::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use aws_settle::post::{SettleExt, SettleOptions};
/// use std::time::Duration;
///
/// ssm.delete_parameter().name("/app/a").send().settled().await?;
/// ssm.put_parameter().name("/app/b").value("2").send().settled_within(Duration::from_secs(30)).await?;
/// let patient = SettleOptions::new().with_delays(Duration::from_secs(1), Duration::from_secs(10));
/// ssm.put_parameter().name("/app/c").value("3").send().settled_with(patient).await?;
/// # Ok(()) }
/// ```
pub trait SettleExt<T, E>: Future<Output = Result<T, E>> + Sized {
    /// Awaits the call, then reads back each change it made until visible. Fails closed: a call
    /// on a client that is not attached ([`SettleError::NotRecorded`]) or a write without a rule
    /// ([`UncheckedWrite`]) is an error unless lenient. Reads pass and cost nothing.
    fn settled(self) -> impl Future<Output = Result<T, SettleError<E>>> {
        settle_call(self, SettleOptions::default())
    }

    /// As [`settled`](Self::settled), waiting at most `max_wait` for each change.
    fn settled_within(self, max_wait: Duration) -> impl Future<Output = Result<T, SettleError<E>>> {
        settle_call(self, SettleOptions::new().with_max_wait(max_wait))
    }

    /// As [`settled`](Self::settled), with these options over the enforcer's.
    fn settled_with(self, options: SettleOptions) -> impl Future<Output = Result<T, SettleError<E>>> {
        settle_call(self, options)
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> SettleExt<T, E> for F {}

async fn settle_call<T, E, F>(call: F, options: SettleOptions) -> Result<T, SettleError<E>>
where
    F: Future<Output = Result<T, E>>,
{
    let collector = Collector::default();
    let output = COLLECTOR.scope(collector.clone(), call).await.map_err(SettleError::Call)?;
    let collected = collector.take();
    if collected.seen == 0 {
        let error = NotRecorded { call: describe_call::<T>() };
        if !options.is_lenient() {
            return Err(SettleError::NotRecorded(error));
        }
        pass_leniently(&error.call, None);
    }
    settle(collected.records, &options).await?;
    Ok(output)
}

/// `ssm PutParameter` for `aws_sdk_ssm::operation::put_parameter::PutParameterOutput`, else the
/// output's type name.
fn describe_call<T>() -> String {
    let name = std::any::type_name::<T>();
    let mut parts = name.split("::");
    let service = parts.next().and_then(|c| c.strip_prefix("aws_sdk_"));
    let operation = name.rsplit("::").next().and_then(|o| o.strip_suffix("Output"));
    match (service, operation) {
        (Some(service), Some(operation)) => format!("{service} {operation}"),
        _ => format!("a call returning {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::LearnedSchedule;
    use super::*;
    use crate::wait::{Delays, ErrorResponse, Waiter};

    fn check() -> Check {
        let waiter = Waiter::<u32>::new(Delays::default()).success_when(|_| true);
        Check::new("PutThing", "thing-1", "it reads back", waiter, || async { Ok::<u32, ErrorResponse>(1) })
    }

    fn unchecked() -> UncheckedWrite {
        UncheckedWrite { service: "svc", operation: "CopyThing".into(), has_rule: false }
    }

    #[test]
    fn pending_checks_do_not_keep_their_enforcer_alive() {
        let enforcer = Enforcer::new();
        enforcer.record(check());
        assert_eq!(enforcer.stats().pending, 1);
        assert_eq!(Arc::strong_count(&enforcer.inner), 1, "a pending check holds no enforcer");
    }

    #[tokio::test]
    async fn a_settled_pending_check_counts_on_its_enforcer() {
        let enforcer = Enforcer::new();
        enforcer.record(check());
        enforcer.settle_pending().await.unwrap();
        let stats = enforcer.stats();
        assert_eq!((stats.checks_passed, stats.checks_failed, stats.pending), (1, 0, 0));
    }

    #[tokio::test]
    async fn a_failed_read_back_counts_and_reports_what_it_last_saw() {
        let waiter = Waiter::<u32>::default().retry_on_error_code("NotFound");
        let failing = Check::new("PutThing", "thing-1", "found", waiter, || async {
            Err::<u32, _>(ErrorResponse::new("NotFound", 404))
        });
        let enforcer = Enforcer::builder()
            .with_options(
                SettleOptions::new()
                    .with_max_wait(Duration::from_millis(30))
                    .with_delays(Duration::from_millis(1), Duration::from_millis(2)),
            )
            .build();
        enforcer.record(failing);
        let error = enforcer.settle_pending().await.unwrap_err();
        let last = error.failed[0].source.last().unwrap();
        assert!(last.contains("NotFound"), "{last}");
        assert_eq!(enforcer.stats().checks_failed, 1);
    }

    #[tokio::test]
    async fn unchecked_writes_fail_settle_pending_unless_lenient() {
        let strict = Enforcer::new();
        strict.record_unchecked(unchecked());
        let error = strict.settle_pending().await.unwrap_err();
        assert_eq!(error.unchecked, [unchecked()]);
        assert!(error.to_string().contains("svc:CopyThing has no read-back rule"), "{error}");

        let lenient = Enforcer::builder().with_options(SettleOptions::new().with_lenient(true)).build();
        lenient.record_unchecked(unchecked());
        lenient.settle_pending().await.unwrap();
        assert_eq!(lenient.stats().lenient_passes, 1);
        assert_eq!(lenient.stats().unchecked.get("svc:CopyThing"), Some(&1));
    }

    #[tokio::test]
    async fn a_scope_settles_writes_recorded_on_other_tasks_while_it_ran() {
        let enforcer = Enforcer::new();
        enforcer.record(check()); // before the scope: stays pending
        let inner = enforcer.clone();
        enforcer
            .scope(async {
                let spawned = tokio::spawn(async move { inner.record(check()) });
                spawned.await.unwrap();
                Ok::<_, ReadBackError>(())
            })
            .await
            .unwrap();
        let stats = enforcer.stats();
        assert_eq!((stats.checks_passed, stats.pending), (1, 1), "{stats:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_read_back_waits_for_the_learned_time_in_virtual_time() {
        let learned = LearnedSchedule::new().with_min_observations(5);
        let key = ScheduleKey::new("svc", "PutThing", None);
        for _ in 0..30 {
            let observation = super::super::Observation {
                invisible_at: Some(Duration::from_millis(900)),
                visible_by: Some(Duration::from_millis(1_000)),
            };
            learned.observe(&key, observation);
        }
        let enforcer = Enforcer::builder().with_learned_schedule(learned.clone()).build();
        let start = tokio::time::Instant::now();
        let reads = Arc::new(Mutex::new(Vec::new()));
        let seen = reads.clone();
        let waiter = Waiter::<bool>::default().success_when(|visible| *visible);
        let check = Check::new("PutThing", "thing-1", "visible after 1 s", waiter, move || {
            let at = start.elapsed();
            lock(&seen).push(at);
            async move { Ok::<bool, ErrorResponse>(at >= Duration::from_secs(1)) }
        });
        enforcer.record_keyed(check, key.clone());
        enforcer.settle_pending().await.unwrap();
        let reads = lock(&reads).clone();
        assert!(reads[0] >= Duration::from_millis(450), "the first read waited for the plan: {reads:?}");
        assert!(reads.len() <= 3, "{reads:?}");
        assert_eq!(learned.observations(&key), 31, "the read-back taught it");
    }

    #[test]
    fn the_pending_queue_is_bounded() {
        let enforcer = Enforcer::new();
        for _ in 0..PENDING_LIMIT + 3 {
            enforcer.record(check());
        }
        let stats = enforcer.stats();
        assert_eq!((stats.pending, stats.dropped), (PENDING_LIMIT, 3));
    }

    #[test]
    fn a_call_is_named_by_its_output_type() {
        struct PutThingOutput;
        assert!(describe_call::<PutThingOutput>().starts_with("a call returning "));
        assert_eq!(describe_call::<u8>(), "a call returning u8");
    }
}
