//! The TLS backend the crate's features choose: `rustls-aws-lc`,
//! `rustls-ring` (the default) or `native-tls`. With several, rustls wins
//! over native TLS, and aws-lc over ring.

/// `builder` set to the chosen backend. [`ClientBuilder::configure_http`]
/// runs after this, so a caller's own choice there wins.
///
/// [`ClientBuilder::configure_http`]: crate::ClientBuilder::configure_http
pub(crate) fn backend(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    install_tls_provider();
    #[cfg(any(feature = "rustls-aws-lc", feature = "rustls-ring"))]
    let builder = builder.tls_backend_rustls();
    #[cfg(all(
        feature = "native-tls",
        not(any(feature = "rustls-aws-lc", feature = "rustls-ring"))
    ))]
    let builder = builder.tls_backend_native();
    builder
}

/// Gives `reqwest` clients built outside this crate (an alloy provider's
/// `connect_http`) the TLS this crate's features chose. With `rustls-ring`
/// (the default) it makes ring rustls' process-wide crypto provider, unless
/// the program installed one already: reqwest's rustls without aws-lc has
/// none of its own, and refuses to build a client without one. With the
/// other features it does nothing. Building a [`Client`](crate::Client)
/// calls it.
///
/// ```
/// phala_cloud::install_tls_provider();
/// let http = phala_cloud::reqwest::Client::new();
/// ```
pub fn install_tls_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one meanwhile: it serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
