//! Token buckets: `rate` tokens per second refill up to `burst`.

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// A rate limit. Text form: `5/s`, `300/min`, `5/s:10` (burst 10; default burst = max(1, rate)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Throttle {
    /// Requests per second.
    pub rate: f64,
    /// Bucket size.
    pub burst: f64,
}

impl FromStr for Throttle {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::Invalid(format!("`{text}` is not a rate (try 5/s, 300/min, 5/s:10)"));
        let (rate_part, burst) = match text.trim().split_once(':') {
            Some((r, b)) => (r, Some(b.trim().parse::<f64>().map_err(|_| bad())?)),
            None => (text.trim(), None),
        };
        let (count, unit) = rate_part.split_once('/').ok_or_else(bad)?;
        let count: f64 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            _ => return Err(bad()),
        };
        let rate = count / per;
        let burst = burst.unwrap_or(rate.max(1.0));
        if !rate.is_finite() || rate < 0.0 || !burst.is_finite() || burst < 1.0 {
            return Err(bad());
        }
        Ok(Throttle { rate, burst })
    }
}

impl fmt::Display for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s:{}", self.rate, self.burst)
    }
}

impl TryFrom<String> for Throttle {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, ConfigError> {
        value.parse()
    }
}

impl From<Throttle> for String {
    fn from(value: Throttle) -> String {
        value.to_string()
    }
}

/// A token bucket, full at creation.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    spec: Throttle,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(spec: Throttle) -> Self {
        TokenBucket { spec, tokens: spec.burst, last: Instant::now() }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.spec.rate).min(self.spec.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_rates() {
        assert_eq!("5/s".parse::<Throttle>().unwrap(), Throttle { rate: 5.0, burst: 5.0 });
        assert_eq!("300/min".parse::<Throttle>().unwrap(), Throttle { rate: 5.0, burst: 5.0 });
        assert_eq!("5/s:10".parse::<Throttle>().unwrap(), Throttle { rate: 5.0, burst: 10.0 });
        assert_eq!("0.5/s".parse::<Throttle>().unwrap(), Throttle { rate: 0.5, burst: 1.0 });
        assert!("5".parse::<Throttle>().is_err());
        assert!("5/fortnight".parse::<Throttle>().is_err());
        let t: Throttle = "5/s:10".parse().unwrap();
        assert_eq!(t.to_string().parse::<Throttle>().unwrap(), t);
    }

    #[test]
    fn bucket_refills_at_rate() {
        let mut bucket = TokenBucket::new("2/s:2".parse().unwrap());
        let t0 = Instant::now();
        assert!(bucket.try_take(t0));
        assert!(bucket.try_take(t0));
        assert!(!bucket.try_take(t0));
        assert!(bucket.try_take(t0 + Duration::from_millis(510)));
        assert!(!bucket.try_take(t0 + Duration::from_millis(520)));
    }
}
