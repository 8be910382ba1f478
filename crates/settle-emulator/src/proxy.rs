//! settle-proxy in front of the shared moto server.

/// Starts a settle-proxy with `config` in front of [`crate::shared_moto`], on its own
/// thread and tokio runtime (so it outlives any one `#[tokio::test]` runtime), on a
/// free loopback port. Point clients at `handle.endpoint()`, e.g. with
/// [`crate::sdk_config`]. Panics with the reason if it cannot start.
pub fn proxy_in_front_of_moto(config: settle_proxy::Config) -> settle_proxy::ProxyHandle {
    let moto = crate::shared_moto();
    settle_proxy::Proxy::builder()
        .upstream(moto.endpoint())
        .config(config)
        .start_background()
        .unwrap_or_else(|e| panic!("settle-proxy did not start: {e}"))
}
