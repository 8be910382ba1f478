//! The visibility book: which reads are answered from the pre-write state, and until when.
//!
//! Each write a rule lags opens a *window* on each resource key it names. A window closes
//! at the end of the lag drawn for the write, or, for a held write (`lag = "hold"`), when
//! the write is released (all, by resource, or by operation: [`Release`]). Snapshots (the pre-write answers of
//! reads), status windows (DynamoDB CREATING), tagging-view windows and name-reuse
//! conflicts all live in windows, so hold and release apply to every lag rule alike.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::control::WriteVisibility;
use crate::protocol::StoredResponse;
use crate::rules::{Key, tagging};

/// Most write-visibility records kept (oldest dropped first).
const MAX_WRITES: usize = 100_000;
/// Most conflict marks kept.
const MAX_CONFLICTS: usize = 100_000;
/// How often requests drop expired windows (writes always do).
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How long after its window closes a snapshot may still flap, if not read that many times.
const FLAP_KEEP: Duration = Duration::from_secs(600);

/// How long one write stays invisible: a drawn lag, or until released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// For this long after the write is answered.
    For(Duration),
    /// Until a release names it (all, its resource, or its operation).
    UntilReleased,
}

impl Hold {
    /// Whether the write is visible at once.
    pub fn is_zero(&self) -> bool {
        matches!(self, Hold::For(d) if d.is_zero())
    }
}

/// Which held writes a release makes visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Release {
    /// Every held write.
    All,
    /// The held writes on one resource key, e.g. `ssm-parameter:/app/db`.
    Resource(String),
    /// The held writes of one write operation, e.g. `PutParameter`.
    Operation(String),
}

/// Flapping visibility after a lag: for the next `reads` reads of each snapshotted read once
/// its write is visible, each read is answered from the pre-write state with probability
/// `old` (drawn from the proxy's seeded generator), as AWS's endpoints that have not all seen a
/// change yet do. One read of the new state then proves nothing; `reads` consecutive ones past
/// the flapping do.
///
/// Counted in reads, not time, so it is the same under `lag = "hold"` and on any machine.
/// Text form `READS@OLD`, e.g. `6@0.5`; `READS` alone means `@0.5`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Flap {
    /// How many reads after the lag may still see the old state (at most 1,000).
    pub reads: u32,
    /// The chance (0..=1) that each of them does.
    pub old: f64,
}

/// The most flapping reads a configuration may ask for.
pub const MAX_FLAP_READS: u32 = 1000;

impl std::str::FromStr for Flap {
    type Err = crate::config::ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            crate::config::ConfigError::Invalid(format!(
                "flap `{text}`: {why} (expected READS@CHANCE, e.g. 6@0.5: the next 6 reads after the lag \
                 each see the old state with chance 0.5)"
            ))
        };
        let (reads, old) = text.trim().split_once('@').unwrap_or((text.trim(), "0.5"));
        let reads: u32 = reads.trim().parse().map_err(|_| bad("READS is not a whole number"))?;
        let old: f64 = old.trim().parse().map_err(|_| bad("CHANCE is not a number"))?;
        if reads > MAX_FLAP_READS {
            return Err(bad(&format!("READS must be at most {MAX_FLAP_READS}")));
        }
        if !(0.0..=1.0).contains(&old) {
            return Err(bad("CHANCE must be between 0 and 1"));
        }
        Ok(Flap { reads, old })
    }
}

impl std::fmt::Display for Flap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.reads, self.old)
    }
}

impl TryFrom<String> for Flap {
    type Error = crate::config::ConfigError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Flap> for String {
    fn from(value: Flap) -> String {
        value.to_string()
    }
}

/// When a window closes: the latest end of its timed writes, unless one of its writes is held.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    key: String,
    ends: Instant,
    writes: Vec<u64>,
    held: bool,
}

impl Window {
    /// Whether reads are still answered from the pre-write state at `now`.
    pub(crate) fn open(&self, now: Instant) -> bool {
        self.held || self.ends > now
    }
}

/// A pre-write answer of one read of one key.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) response: StoredResponse,
    pub(crate) window: Window,
    /// After the window closes: reads left that may still be answered from this snapshot.
    pub(crate) flap: Option<Flap>,
}

impl Snapshot {
    /// Whether the book keeps it at `now`: its window is open, or it still flaps (for at most
    /// [`FLAP_KEEP`] after the window closed, so one never read again frees its memory).
    fn kept(&self, now: Instant) -> bool {
        self.window.open(now)
            || self
                .flap
                .is_some_and(|f| f.reads > 0 && now.saturating_duration_since(self.window.ends) < FLAP_KEEP)
    }
}

/// A status shown instead of the live one (DynamoDB CREATING), and operations refused meanwhile.
#[derive(Debug)]
pub(crate) struct StatusWindow {
    pub(crate) status: &'static str,
    pub(crate) read: &'static str,
    pub(crate) blocks: &'static [&'static str],
    pub(crate) window: Window,
}

/// A resource whose Resource Groups Tagging API view lags.
#[derive(Debug)]
pub(crate) struct TagWindow {
    pub(crate) lagging: tagging::Lagging,
    pub(crate) window: Window,
}

/// A create of a key refused with an error while the mark stands (Secrets Manager name reuse).
#[derive(Debug)]
pub(crate) struct Conflict {
    pub(crate) code: &'static str,
    pub(crate) message: &'static str,
    /// `None`: until a later write clears it (scheduled deletion).
    pub(crate) window: Option<Window>,
}

/// What a write's after-write hook does to its key's conflict mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// Refuse creates of the key until cleared.
    Standing(&'static str, &'static str),
    /// Refuse creates of the key for the write's window (visible at once: no mark).
    ForTheLag(&'static str, &'static str),
    /// Drop the key's mark.
    Clear,
}

/// One lagged write as the book opened it: its id, and when its windows close.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opened {
    id: u64,
    ends: Instant,
    held: bool,
}

impl Opened {
    /// A window of this write on `key`.
    pub(crate) fn window(&self, key: &Key) -> Window {
        Window { key: key.id(), ends: self.ends, writes: vec![self.id], held: self.held }
    }
}

/// Every open window, the held writes and the write-visibility records.
#[derive(Debug)]
pub(crate) struct Book {
    pub(crate) snapshots: HashMap<(String, String), Snapshot>,
    pub(crate) status: HashMap<String, StatusWindow>,
    pub(crate) tag_view: Vec<TagWindow>,
    pub(crate) conflicts: HashMap<String, Conflict>,
    /// Principals (IAM roles, instance profiles) other services do not see yet, by key.
    pub(crate) propagation: HashMap<String, Window>,
    writes: VecDeque<WriteVisibility>,
    /// `(write id, key id)` pairs still held.
    held: HashSet<(u64, String)>,
    next_write: u64,
    epoch: (Instant, f64),
    swept: Instant,
}

impl Default for Book {
    fn default() -> Self {
        let unix_ms =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
        Book {
            snapshots: HashMap::new(),
            status: HashMap::new(),
            tag_view: Vec::new(),
            conflicts: HashMap::new(),
            propagation: HashMap::new(),
            writes: VecDeque::new(),
            held: HashSet::new(),
            next_write: 0,
            epoch: (Instant::now(), unix_ms),
            swept: Instant::now(),
        }
    }
}

impl Book {
    pub(crate) fn unix_ms(&self, at: Instant) -> f64 {
        unix_ms(self.epoch, at)
    }

    /// Drops closed windows.
    pub(crate) fn expire(&mut self, now: Instant) {
        self.swept = now;
        self.snapshots.retain(|_, s| s.kept(now));
        self.status.retain(|_, s| s.window.open(now));
        self.tag_view.retain(|t| t.window.open(now));
        self.propagation.retain(|_, w| w.open(now));
        self.conflicts.retain(|_, c| c.window.as_ref().is_none_or(|w| w.open(now)));
        if self.conflicts.len() > MAX_CONFLICTS {
            self.conflicts.retain(|_, c| c.window.is_some());
        }
    }

    /// [`Book::expire`] at most every [`SWEEP_EVERY`], so closed windows free their memory
    /// even when no further write comes.
    pub(crate) fn sweep(&mut self, now: Instant) {
        if now.saturating_duration_since(self.swept) >= SWEEP_EVERY {
            self.expire(now);
        }
    }

    /// The snapshot answering `read_id` of `key`, while its window is open.
    pub(crate) fn snapshot(&self, key: &str, read_id: &str, now: Instant) -> Option<&StoredResponse> {
        self.snapshots
            .get(&(key.to_string(), read_id.to_string()))
            .filter(|s| s.window.open(now))
            .map(|s| &s.response)
    }

    /// Makes the snapshots of write `opened` flap for `flap.reads` reads once their window
    /// closes.
    pub(crate) fn flap_after(&mut self, opened: &Opened, flap: Flap) {
        for snapshot in self.snapshots.values_mut().filter(|s| s.window.writes.contains(&opened.id)) {
            snapshot.flap = Some(flap);
        }
    }

    /// The pre-write answer of `read_id` of `key` for one read after its lag, while it flaps:
    /// each such read uses one of the flapping reads and draws whether it sees the old state.
    pub(crate) fn flapped(
        &mut self,
        key: &str,
        read_id: &str,
        now: Instant,
        rng: &mut impl rand::Rng,
    ) -> Option<StoredResponse> {
        let snapshot = self.snapshots.get_mut(&(key.to_string(), read_id.to_string()))?;
        let flap = snapshot.flap.as_mut().filter(|f| f.reads > 0 && !snapshot.window.open(now))?;
        flap.reads -= 1;
        let old = rng.random_bool(flap.old);
        old.then(|| snapshot.response.clone())
    }

    /// The status window of `key`, while open.
    pub(crate) fn status_of(&self, key: &str, now: Instant) -> Option<&StatusWindow> {
        self.status.get(key).filter(|w| w.window.open(now))
    }

    /// Whether the principal `key` is still new to other services (its window is open).
    pub(crate) fn propagating(&self, key: &str, now: Instant) -> bool {
        self.propagation.get(key).is_some_and(|w| w.open(now))
    }

    /// The conflict refusing a create of `key`, while it stands.
    pub(crate) fn conflict(&self, key: &str, now: Instant) -> Option<&Conflict> {
        self.conflicts.get(key).filter(|c| c.window.as_ref().is_none_or(|w| w.open(now)))
    }

    /// Opens the windows of a successful write answered at `now`: stores the snapshots it took,
    /// extends windows already open on its keys (an earlier write still lagging), and records
    /// when it becomes visible. A snapshot of the same read that is still open was taken before
    /// an earlier, concurrent write: it is kept, as the older state.
    pub(crate) fn open(
        &mut self,
        now: Instant,
        hold: Hold,
        service: &str,
        operation: &str,
        keys: &[Key],
        taken: Vec<(Key, String, StoredResponse)>,
    ) -> Opened {
        self.expire(now);
        let (ends, held, lag_ms) = match hold {
            Hold::For(lag) => (now + lag, false, Some(lag.as_secs_f64() * 1000.0)),
            Hold::UntilReleased => (now, true, None),
        };
        let opened = Opened { id: self.next_write, ends, held };
        self.next_write += 1;
        let ids: Vec<String> = keys.iter().map(Key::id).collect();
        // A snapshot still flapping after an earlier write shows the state before that write,
        // not before this one: it gives way to the one this write took.
        self.snapshots.retain(|(k, _), s| s.window.open(now) || !ids.contains(k));
        if held {
            self.held.extend(ids.iter().map(|k| (opened.id, k.clone())));
        }
        for (key, read_id, response) in taken {
            self.snapshots.entry((key.id(), read_id)).or_insert(Snapshot {
                response,
                window: opened.window(&key),
                flap: None,
            });
        }
        let mut extended: Vec<(u64, String)> = Vec::new();
        for ((key_id, _), snapshot) in self.snapshots.iter_mut() {
            let window = &mut snapshot.window;
            if ids.contains(key_id) && !window.writes.contains(&opened.id) {
                if window.ends < ends {
                    window.ends = ends;
                    if !window.held {
                        extended.extend(window.writes.iter().map(|w| (*w, key_id.clone())));
                    }
                }
                window.held |= held;
                window.writes.push(opened.id);
            }
        }
        let ends_ms = self.unix_ms(ends);
        for (w, key_id) in extended {
            self.extend_record(w, &key_id, ends_ms);
        }
        let written_at_ms = self.unix_ms(now);
        for key_id in ids {
            let visible_at = self.closes(&key_id).map(|at| self.unix_ms(at.max(ends)));
            if self.writes.len() >= MAX_WRITES {
                self.writes.pop_front();
            }
            self.writes.push_back(WriteVisibility {
                id: opened.id,
                service: service.to_string(),
                operation: operation.to_string(),
                resource: key_id,
                lag_ms,
                written_at_ms,
                visible_at_ms: if held { None } else { visible_at },
                visible: false,
            });
        }
        opened
    }

    /// When every snapshot window of `key` closes: `None` while one is held.
    fn closes(&self, key: &str) -> Option<Instant> {
        let mut at = self.epoch.0;
        for ((k, _), s) in &self.snapshots {
            if k == key {
                if s.window.held {
                    return None;
                }
                at = at.max(s.window.ends);
            }
        }
        Some(at)
    }

    /// Moves the visibility of write `id` on `resource` to `visible_at_ms`, if later.
    fn extend_record(&mut self, id: u64, resource: &str, visible_at_ms: f64) {
        // Records are in write order; a write on several keys has one record per key.
        let start = self.writes.partition_point(|w| w.id < id);
        for w in self.writes.range_mut(start..).take_while(|w| w.id == id) {
            if w.resource == resource && w.visible_at_ms.is_some_and(|t| t < visible_at_ms) {
                w.visible_at_ms = Some(visible_at_ms);
            }
        }
    }

    /// Makes the held writes `which` names visible at `now`; returns how many `(write, key)`
    /// pairs were released. A window stays open while another held write still covers it.
    pub(crate) fn release(&mut self, which: &Release, now: Instant) -> usize {
        let chosen: HashSet<(u64, String)> = match which {
            Release::All => self.held.clone(),
            Release::Resource(key) => self.held.iter().filter(|(_, k)| k == key).cloned().collect(),
            Release::Operation(op) => {
                let ids: HashSet<u64> =
                    self.writes.iter().filter(|w| &w.operation == op).map(|w| w.id).collect();
                self.held.iter().filter(|(id, _)| ids.contains(id)).cloned().collect()
            }
        };
        if chosen.is_empty() {
            return 0;
        }
        self.held.retain(|pair| !chosen.contains(pair));
        let held = &self.held;
        let settle = |w: &mut Window| {
            if w.held && !w.writes.iter().any(|id| held.contains(&(*id, w.key.clone()))) {
                w.held = false;
                w.ends = w.ends.max(now);
            }
        };
        self.snapshots.values_mut().for_each(|s| settle(&mut s.window));
        self.status.values_mut().for_each(|s| settle(&mut s.window));
        self.tag_view.iter_mut().for_each(|t| settle(&mut t.window));
        self.propagation.values_mut().for_each(&settle);
        self.conflicts.values_mut().filter_map(|c| c.window.as_mut()).for_each(settle);
        let keys: HashSet<&String> = chosen.iter().map(|(_, k)| k).collect();
        let closes: HashMap<String, Option<Instant>> =
            keys.iter().map(|k| ((*k).clone(), self.closes(k))).collect();
        for record in self.writes.iter_mut().filter(|w| w.visible_at_ms.is_none()) {
            if self.held.contains(&(record.id, record.resource.clone())) {
                continue;
            }
            if let Some(Some(at)) = closes.get(&record.resource) {
                record.visible_at_ms = Some(unix_ms(self.epoch, (*at).max(now)));
            }
        }
        chosen.len()
    }

    /// Sets or clears the conflict mark of `key` after a write.
    pub(crate) fn mark(&mut self, key: &Key, mark: Mark, opened: Option<&Opened>) {
        match mark {
            Mark::Clear => {
                self.conflicts.remove(&key.id());
            }
            Mark::Standing(code, message) => {
                self.conflicts.insert(key.id(), Conflict { code, message, window: None });
            }
            Mark::ForTheLag(code, message) => match opened {
                Some(opened) => {
                    let window = Some(opened.window(key));
                    self.conflicts.insert(key.id(), Conflict { code, message, window });
                }
                None => {
                    self.conflicts.remove(&key.id());
                }
            },
        }
    }

    /// The write-visibility records, optionally for one resource and/or operation.
    pub(crate) fn records(&self, resource: Option<&str>, operation: Option<&str>) -> Vec<WriteVisibility> {
        let now = self.unix_ms(Instant::now());
        self.writes
            .iter()
            .filter(|w| {
                resource.is_none_or(|r| w.resource == r) && operation.is_none_or(|o| w.operation == o)
            })
            .map(|w| WriteVisibility { visible: w.visible_at_ms.is_some_and(|t| t <= now), ..w.clone() })
            .collect()
    }

    /// How many `(write, key)` pairs are held.
    pub(crate) fn held_count(&self) -> usize {
        self.held.len()
    }
}

/// `at` in Unix milliseconds, from an `(Instant, Unix ms)` pair taken together.
fn unix_ms(epoch: (Instant, f64), at: Instant) -> f64 {
    if at >= epoch.0 {
        epoch.1 + at.duration_since(epoch.0).as_secs_f64() * 1000.0
    } else {
        epoch.1 - epoch.0.duration_since(at).as_secs_f64() * 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn key(name: &str) -> Key {
        Key { class: "ssm-parameter", name: name.into(), reference: vec![name.into()] }
    }

    fn write(
        book: &mut Book,
        at: Instant,
        hold: Hold,
        operation: &str,
        names: &[&str],
        body: &str,
    ) -> Opened {
        let keys: Vec<Key> = names.iter().map(|n| key(n)).collect();
        let taken = keys
            .iter()
            .map(|k| (k.clone(), "GetParameter".to_string(), StoredResponse::plain(StatusCode::OK, body)))
            .collect();
        book.open(at, hold, "ssm", operation, &keys, taken)
    }

    const SECOND: Hold = Hold::For(Duration::from_secs(1));

    fn visible_at(book: &Book, id: u64, resource: &str) -> Option<f64> {
        book.writes.iter().find(|w| w.id == id && w.resource == resource).and_then(|w| w.visible_at_ms)
    }

    fn served(book: &Book, name: &str, now: Instant) -> Option<String> {
        let key = format!("ssm-parameter:{name}");
        book.snapshot(&key, "GetParameter", now).map(|r| String::from_utf8_lossy(&r.body).into_owned())
    }

    #[test]
    fn an_overlapping_write_extends_the_right_record_after_a_multi_key_write() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, SECOND, "DeleteParameters", &["a", "b"], "ab-before");
        write(&mut book, t0, SECOND, "PutParameter", &["c"], "c-before");
        let later = t0 + Duration::from_millis(500);
        write(&mut book, later, SECOND, "PutParameter", &["c"], "c-after-the-first-put");
        let (one_s, one_and_half) =
            (book.unix_ms(t0 + Duration::from_secs(1)), book.unix_ms(later + Duration::from_secs(1)));
        assert_eq!(visible_at(&book, 0, "ssm-parameter:a"), Some(one_s));
        assert_eq!(visible_at(&book, 0, "ssm-parameter:b"), Some(one_s), "not the record of another write");
        assert_eq!(visible_at(&book, 1, "ssm-parameter:c"), Some(one_and_half), "extended by the overlap");
        assert_eq!(visible_at(&book, 2, "ssm-parameter:c"), Some(one_and_half));
    }

    #[test]
    fn a_concurrent_write_keeps_the_older_snapshot() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, SECOND, "PutParameter", &["c"], "v0");
        // A second write whose snapshot read ran after the first write reached upstream.
        write(&mut book, t0 + Duration::from_millis(10), SECOND, "PutParameter", &["c"], "v1");
        let snapshot = &book.snapshots[&("ssm-parameter:c".to_string(), "GetParameter".to_string())];
        assert_eq!(snapshot.response.body, "settle-proxy: v0\n", "reads keep showing the pre-write state");
        assert_eq!(snapshot.window.writes, vec![0, 1]);
        assert_eq!(snapshot.window.ends, t0 + Duration::from_millis(1010));
    }

    #[test]
    fn requests_sweep_closed_windows_without_a_further_write() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, SECOND, "PutParameter", &["a"], "old");
        book.sweep(t0 + Duration::from_millis(500));
        assert_eq!(book.snapshots.len(), 1, "still lagging");
        book.sweep(t0 + Duration::from_secs(2));
        assert!(book.snapshots.is_empty());
    }

    #[test]
    fn a_held_write_stays_invisible_whatever_the_time_until_released() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, Hold::UntilReleased, "PutParameter", &["a"], "old");
        let next_year = t0 + Duration::from_secs(365 * 24 * 3600);
        book.expire(next_year);
        assert_eq!(served(&book, "a", next_year).as_deref(), Some("settle-proxy: old\n"));
        assert_eq!(visible_at(&book, 0, "ssm-parameter:a"), None);
        assert_eq!(book.release(&Release::All, t0), 1);
        assert_eq!(served(&book, "a", t0), None);
        assert_eq!(visible_at(&book, 0, "ssm-parameter:a"), Some(book.unix_ms(t0)));
        assert_eq!(book.release(&Release::All, t0), 0, "nothing is left to release");
    }

    #[test]
    fn release_by_resource_frees_only_that_key_of_a_multi_key_write() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, Hold::UntilReleased, "DeleteParameters", &["a", "b"], "old");
        assert_eq!(book.release(&Release::Resource("ssm-parameter:a".into()), t0), 1);
        assert_eq!(served(&book, "a", t0), None);
        assert!(served(&book, "b", t0).is_some(), "b is still held");
        assert!(visible_at(&book, 0, "ssm-parameter:a").is_some());
        assert_eq!(visible_at(&book, 0, "ssm-parameter:b"), None);
        assert_eq!(book.held_count(), 1);
    }

    #[test]
    fn release_by_operation_waits_for_other_held_writes_on_the_same_key() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, Hold::UntilReleased, "PutParameter", &["a"], "v0");
        write(&mut book, t0, Hold::UntilReleased, "LabelParameterVersion", &["a"], "v1");
        write(&mut book, t0, Hold::UntilReleased, "PutParameter", &["z"], "z0");
        assert_eq!(book.release(&Release::Operation("PutParameter".into()), t0), 2);
        assert_eq!(served(&book, "z", t0), None, "z had only the put");
        assert_eq!(served(&book, "a", t0).as_deref(), Some("settle-proxy: v0\n"), "the label still holds a");
        assert_eq!(visible_at(&book, 0, "ssm-parameter:a"), None, "not visible while the key is held");
        assert_eq!(book.release(&Release::Operation("LabelParameterVersion".into()), t0), 1);
        assert_eq!(served(&book, "a", t0), None);
        assert!(visible_at(&book, 0, "ssm-parameter:a").is_some());
        assert!(visible_at(&book, 1, "ssm-parameter:a").is_some());
    }

    #[test]
    fn a_timed_write_on_a_held_key_waits_for_the_release_then_its_own_lag() {
        let mut book = Book::default();
        let t0 = Instant::now();
        write(&mut book, t0, Hold::UntilReleased, "PutParameter", &["a"], "v0");
        write(&mut book, t0, SECOND, "PutParameter", &["a"], "v1");
        assert_eq!(visible_at(&book, 1, "ssm-parameter:a"), None, "the key is held");
        book.release(&Release::All, t0);
        assert!(served(&book, "a", t0).is_some(), "the timed lag still runs");
        assert!(served(&book, "a", t0 + Duration::from_secs(2)).is_none());
    }

    #[test]
    fn after_the_release_reads_flap_for_the_configured_reads_only_then_a_new_write_starts_afresh() {
        use rand::SeedableRng;
        let mut book = Book::default();
        let t0 = Instant::now();
        let opened = write(&mut book, t0, Hold::UntilReleased, "PutParameter", &["a"], "old");
        book.flap_after(&opened, Flap { reads: 8, old: 0.5 });
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let key = "ssm-parameter:a";
        assert!(book.flapped(key, "GetParameter", t0, &mut rng).is_none(), "held: not flapping yet");
        book.release(&Release::All, t0);
        // Within FLAP_KEEP of the release: the snapshot is kept while reads are left to flap.
        let later = t0 + FLAP_KEEP / 2;
        book.expire(later);
        let reads: Vec<bool> =
            (0..12).map(|_| book.flapped(key, "GetParameter", later, &mut rng).is_some()).collect();
        assert!(
            reads[..8].contains(&true) && reads[..8].contains(&false),
            "old and new alternate: {reads:?}"
        );
        assert_eq!(reads[8..], [false; 4], "past the flapping reads: always new");
        let mut again = rand::rngs::StdRng::seed_from_u64(3);
        let mut replay = Book::default();
        let opened = write(&mut replay, t0, Hold::UntilReleased, "PutParameter", &["a"], "old");
        replay.flap_after(&opened, Flap { reads: 8, old: 0.5 });
        replay.release(&Release::All, t0);
        let replayed: Vec<bool> =
            (0..12).map(|_| replay.flapped(key, "GetParameter", later, &mut again).is_some()).collect();
        assert_eq!(reads, replayed, "the same seed flaps the same way");

        // A write on a flapping key snapshots afresh, not the state before the earlier write.
        let opened = write(&mut replay, later, Hold::UntilReleased, "PutParameter", &["a"], "v1");
        replay.flap_after(&opened, Flap { reads: 8, old: 1.0 });
        assert_eq!(served(&replay, "a", later).as_deref(), Some("settle-proxy: v1\n"));
        replay.release(&Release::All, later);
        let old = replay.flapped(key, "GetParameter", later, &mut again).unwrap();
        assert_eq!(old.body, "settle-proxy: v1\n");
    }

    #[test]
    fn flap_text_forms_round_trip_and_bad_ones_say_why() {
        assert_eq!("6@0.5".parse::<Flap>().unwrap(), Flap { reads: 6, old: 0.5 });
        assert_eq!("6".parse::<Flap>().unwrap(), Flap { reads: 6, old: 0.5 });
        let flap = Flap { reads: 3, old: 0.25 };
        assert_eq!(flap.to_string().parse::<Flap>().unwrap(), flap);
        assert!("6@-1".parse::<Flap>().unwrap_err().to_string().contains("between 0 and 1"));
        assert!("x@0.5".parse::<Flap>().unwrap_err().to_string().contains("READS is not a whole number"));
        assert!("1001".parse::<Flap>().unwrap_err().to_string().contains("at most 1000"));
    }

    #[test]
    fn conflict_marks_follow_the_write_window() {
        let mut book = Book::default();
        let t0 = Instant::now();
        let k = key("s");
        let opened = write(&mut book, t0, Hold::UntilReleased, "DeleteSecret", &["s"], "old");
        book.mark(&k, Mark::ForTheLag("Code", "msg"), Some(&opened));
        assert!(book.conflict(&k.id(), t0 + Duration::from_secs(3600)).is_some());
        book.release(&Release::Resource(k.id()), t0);
        assert!(book.conflict(&k.id(), t0 + Duration::from_millis(1)).is_none());
        book.mark(&k, Mark::Standing("Code", "msg"), None);
        assert!(book.conflict(&k.id(), t0 + Duration::from_secs(3600)).is_some());
        book.mark(&k, Mark::Clear, None);
        assert!(book.conflict(&k.id(), t0).is_none());
    }
}
