//! Part of stage 7 (**lag write**): writes AWS answers once per client token (EC2 RunInstances
//! `ClientToken`): a retry with the same token and parameters gets the first answer back, with
//! other parameters `IdempotentParameterMismatch`. moto launches again on every retry, so a
//! dropped answer would otherwise cost a second instance.

use std::collections::HashMap;

use super::{Outcome, refuse};
use crate::protocol::{ParsedRequest, StoredResponse};

/// Most tokens remembered (AWS keeps them for at least 24 hours; the proxy forgets all at once
/// when full, which a test bed never reaches).
const MAX_TOKENS: usize = 10_000;

/// The answers already given, per idempotency key, with the parameters they were given for.
#[derive(Debug, Default)]
pub(crate) struct Tokens(HashMap<String, (Vec<(String, String)>, StoredResponse)>);

/// The first answer to `key` (the idempotency key of `parsed`, [`crate::rules::idempotency_key`]), if
/// there was one.
pub(crate) fn replay(tokens: &Tokens, key: &str, parsed: &ParsedRequest) -> Option<Outcome> {
    let (params, response) = tokens.0.get(key)?;
    Some(if *params == parsed.params {
        Outcome::local(response.clone(), "idempotent")
    } else {
        let message = "The client token you have provided is associated with a resource that has \
                       different parameters.";
        refuse(&parsed.info, "IdempotentParameterMismatch", message, "idempotent")
    })
}

/// Remembers a successful answer to `key`.
pub(crate) fn remember(tokens: &mut Tokens, key: String, parsed: &ParsedRequest, outcome: &Outcome) {
    if !outcome.response.status.is_success() {
        return;
    }
    if tokens.0.len() >= MAX_TOKENS {
        tokens.0.clear();
    }
    tokens.0.insert(key, (parsed.params.clone(), outcome.response.clone()));
}
