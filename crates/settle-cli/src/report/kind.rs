//! What one answer was, from a recording line's status, error code and fault: the one place that
//! decides what counts as throttled, injected, lag or another error.

/// What one recorded request was answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Forwarded (or upstream's own answer), no error.
    Ok,
    /// Throttled: by the proxy's bucket, or a throttling code or 429 from upstream.
    Throttled,
    /// An error the proxy injected instead of forwarding (transient 5xx, status rewrite,
    /// conflict, blocked).
    Injected,
    /// A read answered from a snapshot taken before a write (lag).
    Lag,
    /// Any other 4xx/5xx (upstream errors, bodies too large, unreadable or too slow).
    OtherError,
}

/// The faults counted as injected errors.
const INJECTED: &[&str] = &["error", "status", "conflict", "blocked"];

/// Classifies one answer.
pub fn classify(fault: Option<&str>, error_code: Option<&str>, status: u16) -> Kind {
    match fault {
        Some("throttle") => Kind::Throttled,
        Some("lag") => Kind::Lag,
        Some(f) if INJECTED.contains(&f) => Kind::Injected,
        _ if aws_settle::errors::is_throttling(error_code, Some(status)) => Kind::Throttled,
        _ if status >= 400 || fault.is_some() => Kind::OtherError,
        _ => Kind::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_first_then_codes_then_status() {
        assert_eq!(classify(Some("throttle"), Some("ThrottlingException"), 400), Kind::Throttled);
        assert_eq!(classify(Some("lag"), Some("ParameterNotFound"), 400), Kind::Lag);
        assert_eq!(classify(Some("error"), Some("ServiceUnavailable"), 503), Kind::Injected);
        assert_eq!(classify(Some("too-slow"), None, 408), Kind::OtherError);
        assert_eq!(
            classify(None, Some("ThrottlingException"), 400),
            Kind::Throttled,
            "upstream's throttling"
        );
        assert_eq!(classify(None, None, 429), Kind::Throttled);
        assert_eq!(classify(None, Some("ParameterNotFound"), 400), Kind::OtherError);
        assert_eq!(classify(None, None, 200), Kind::Ok);
    }
}
