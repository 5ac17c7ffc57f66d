//! The TLS backend the crate's features choose: `rustls-aws-lc`,
//! `rustls-ring` (the default) or `native-tls`. With several, rustls wins
//! over native TLS, and aws-lc over ring.

/// `builder` set to the chosen backend. [`ClientBuilder::configure_http`]
/// runs after this, so a caller's own choice there wins.
///
/// [`ClientBuilder::configure_http`]: crate::ClientBuilder::configure_http
pub(crate) fn backend(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    install_ring();
    #[cfg(any(feature = "rustls-aws-lc", feature = "rustls-ring"))]
    let builder = builder.tls_backend_rustls();
    #[cfg(all(
        feature = "native-tls",
        not(any(feature = "rustls-aws-lc", feature = "rustls-ring"))
    ))]
    let builder = builder.tls_backend_native();
    builder
}

/// Makes ring rustls' process-wide crypto provider, unless the program
/// installed one already: reqwest's rustls without aws-lc takes that
/// default, and has none of its own.
#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
fn install_ring() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one meanwhile: it serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
