//! Stage 3: **propagation**: a consumer call that names an IAM principal (a role, an instance
//! profile) still inside the window of the IAM write that made it (its lag, or held until
//! released) is refused with the consumer's own error; after the window it goes upstream.
//! Which writes and which consumers: [`crate::rules::propagation`].

use std::time::Instant;

use http::{HeaderValue, StatusCode};

use super::{Outcome, Request, refuse};
use crate::protocol::{StoredResponse, xml_escape};
use crate::rules::propagation::{self, Shape};

/// The refusal, if the request names a principal still propagating.
pub(crate) fn refuse_if_propagating(request: &Request<'_>) -> Option<Outcome> {
    let parsed = request.parsed;
    let (consumer, named) = propagation::consumed(parsed)?;
    let now = Instant::now();
    let mut state = request.shared.lock();
    let (_, sent) = named.iter().find(|(key, _)| state.book.propagating(&key.id(), now))?;
    state.counters.propagation_refusals += 1;
    let message = propagation::message(consumer, sent);
    Some(match consumer.shape {
        Shape::Protocol => refuse(&parsed.info, consumer.code, &message, "propagation"),
        Shape::Ec2 => Outcome::local(ec2_error(consumer.code, &message), "propagation"),
        Shape::Denied => {
            let answer =
                crate::protocol::render_error(&parsed.info, StatusCode::FORBIDDEN, consumer.code, &message);
            Outcome::local(answer, "propagation")
        }
    })
}

/// An error in EC2's own query shape, which its SDKs and botocore parse (not the generic
/// `<ErrorResponse>` of the other query services).
fn ec2_error(code: &str, message: &str) -> StoredResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code>\
         <Message>{}</Message></Error></Errors><RequestID>settle-proxy-injected</RequestID></Response>",
        xml_escape(code),
        xml_escape(message)
    );
    let mut response = StoredResponse::new(StatusCode::BAD_REQUEST, "text/xml;charset=UTF-8", body);
    response.headers.insert("x-amzn-requestid", HeaderValue::from_static("settle-proxy-injected"));
    response
}
