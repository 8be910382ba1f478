//! Serving the Lambda runtime API (feature `lambda`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::provider::Provider;
use crate::response::Response;
use crate::runtime::Runtime;

/// Serves invocations from the Lambda runtime API until the runtime stops: each payload is
/// handled with the invocation's remaining time (from its context's deadline).
pub async fn serve_lambda<P: Provider + 'static>(runtime: Runtime<P>) -> Result<(), lambda_runtime::Error> {
    let runtime = Arc::new(runtime);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let runtime = runtime.clone();
        async move {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            let remaining = Duration::from_millis(event.context.deadline).saturating_sub(now);
            Ok::<Response, std::convert::Infallible>(
                runtime.handle_value(&event.payload, Some(remaining)).await,
            )
        }
    }))
    .await
}
