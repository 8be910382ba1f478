//! Seeded distributions for lag and added latency (fixed, uniform `a..b`, exponential), and
//! [`Lag`]: a distribution or `hold`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// A distribution of durations.
///
/// Text forms: `2s` (fixed), `500ms..3s` (uniform), `exp:1s` (exponential with that mean,
/// capped at 20 × the mean). Units: `ms`, `s`, `m`; a bare number is seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Dist {
    /// Always this long.
    Fixed(Duration),
    /// Uniform between the two bounds (inclusive).
    Uniform(Duration, Duration),
    /// Exponential with this mean.
    Exponential(Duration),
}

impl Dist {
    /// Draws one duration.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        match *self {
            Dist::Fixed(d) => d,
            Dist::Uniform(a, b) => {
                let (lo, hi) = (a.min(b).as_secs_f64(), a.max(b).as_secs_f64());
                if hi <= lo { a } else { Duration::from_secs_f64(rng.random_range(lo..=hi)) }
            }
            Dist::Exponential(mean) => {
                let u: f64 = rng.random_range(0.0..1.0);
                let x = -(1.0 - u).ln() * mean.as_secs_f64();
                Duration::from_secs_f64(x.min(mean.as_secs_f64() * 20.0))
            }
        }
    }

    /// Whether every draw is zero.
    pub fn is_zero(&self) -> bool {
        match *self {
            Dist::Fixed(d) | Dist::Exponential(d) => d.is_zero(),
            Dist::Uniform(a, b) => a.is_zero() && b.is_zero(),
        }
    }
}

/// The lag after a write: drawn from a distribution, or held until released.
///
/// Text forms: `hold`, or any [`Dist`] form. A held write stays invisible to reads until
/// a release names it (`POST /__settle/release`, [`crate::ProxyHandle::release_all`] and
/// friends): the way to write deterministic tests of "before the change is visible".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Lag {
    /// Invisible until released.
    Hold,
    /// For a drawn duration.
    Drawn(Dist),
}

impl Lag {
    /// Draws one write's hold.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> crate::visibility::Hold {
        match self {
            Lag::Hold => crate::visibility::Hold::UntilReleased,
            Lag::Drawn(dist) => crate::visibility::Hold::For(dist.sample(rng)),
        }
    }
}

impl From<Dist> for Lag {
    fn from(dist: Dist) -> Self {
        Lag::Drawn(dist)
    }
}

impl FromStr for Lag {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "hold" => Ok(Lag::Hold),
            other => other.parse().map(Lag::Drawn),
        }
    }
}

impl fmt::Display for Lag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lag::Hold => f.write_str("hold"),
            Lag::Drawn(dist) => dist.fmt(f),
        }
    }
}

impl TryFrom<String> for Lag {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, ConfigError> {
        value.parse()
    }
}

impl From<Lag> for String {
    fn from(value: Lag) -> String {
        value.to_string()
    }
}

/// Parses `1.5s`, `500ms`, `2m`, `3` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let text = text.trim();
    let bad = || ConfigError::Invalid(format!("`{text}` is not a duration (try 500ms, 2s, 1.5s, 1m)"));
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !value.is_finite() || value < 0.0 || value * scale > 1.0e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(value * scale))
}

fn format_duration(d: Duration) -> String {
    if d.subsec_nanos().is_multiple_of(1_000_000) && !d.as_millis().is_multiple_of(1000) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

impl FromStr for Dist {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        if let Some(mean) = text.strip_prefix("exp:") {
            return Ok(Dist::Exponential(parse_duration(mean)?));
        }
        if let Some((a, b)) = text.split_once("..") {
            let (a, b) = (parse_duration(a)?, parse_duration(b)?);
            if b < a {
                return Err(ConfigError::Invalid(format!("`{text}`: the upper bound is below the lower")));
            }
            return Ok(Dist::Uniform(a, b));
        }
        Ok(Dist::Fixed(parse_duration(text)?))
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Dist::Fixed(d) => write!(f, "{}", format_duration(d)),
            Dist::Uniform(a, b) => write!(f, "{}..{}", format_duration(a), format_duration(b)),
            Dist::Exponential(m) => write!(f, "exp:{}", format_duration(m)),
        }
    }
}

impl TryFrom<String> for Dist {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, ConfigError> {
        value.parse()
    }
}

impl From<Dist> for String {
    fn from(value: Dist) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_the_cli_forms() {
        assert_eq!("2s".parse::<Dist>().unwrap(), Dist::Fixed(Duration::from_secs(2)));
        assert_eq!(
            "500ms..3s".parse::<Dist>().unwrap(),
            Dist::Uniform(Duration::from_millis(500), Duration::from_secs(3))
        );
        assert_eq!("exp:1s".parse::<Dist>().unwrap(), Dist::Exponential(Duration::from_secs(1)));
        assert_eq!("1.5s".parse::<Dist>().unwrap(), Dist::Fixed(Duration::from_millis(1500)));
        assert!("3s..1s".parse::<Dist>().is_err());
        assert!("fast".parse::<Dist>().is_err());
        assert!("-1s".parse::<Dist>().is_err());
        assert_eq!("hold".parse::<Lag>().unwrap(), Lag::Hold);
        assert_eq!("2s".parse::<Lag>().unwrap(), Lag::Drawn(Dist::Fixed(Duration::from_secs(2))));
        assert_eq!(Lag::Hold.to_string().parse::<Lag>().unwrap(), Lag::Hold);
        assert!("hold".parse::<Dist>().is_err(), "latency cannot be held");
        for text in ["2s", "500ms..3s", "exp:1s", "1500ms"] {
            assert_eq!(
                text.parse::<Dist>().unwrap().to_string().parse::<Dist>().unwrap(),
                text.parse().unwrap()
            );
        }
    }

    #[test]
    fn samples_are_seeded_and_in_range() {
        let dist: Dist = "500ms..3s".parse().unwrap();
        let mut a = rand::rngs::StdRng::seed_from_u64(7);
        let mut b = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let x = dist.sample(&mut a);
            assert_eq!(x, dist.sample(&mut b));
            assert!(x >= Duration::from_millis(500) && x <= Duration::from_secs(3));
        }
        let exp: Dist = "exp:1s".parse().unwrap();
        let mean: f64 = (0..4000).map(|_| exp.sample(&mut a).as_secs_f64()).sum::<f64>() / 4000.0;
        assert!((mean - 1.0).abs() < 0.1, "mean {mean}");
    }
}
