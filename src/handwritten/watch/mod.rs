//! Watching a CVM's state until it reaches a target: the Server-Sent Events
//! stream of `GET /api/v1/cvms/{cvm_id}/state?target=…`, with typed events
//! and reconnection.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::{HeaderValue, ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{DecodeError, LimitExceeded};
use crate::ids::CvmRef;
use crate::sse::{SseEvent, SseParser, TooLarge};
use crate::transport::body::BodyLimit;
use crate::transport::send::build;
use crate::{Client, Error};

mod compose;
mod failure;

/// A CVM's state, as `event: state` and [`Client::wait_for_cvm_state`] give
/// it: the answer of [`Client::get_cvm_state`].
pub use crate::types::CvmState;
pub use compose::{
    AttestationSource, AttestationWait, AttestedComposeHash, ComposeHashWait, RunningComposeHash,
    DEFAULT_POLL_INTERVAL,
};
pub use failure::CvmFailure;

/// The server's bounds on `interval` and `timeout`, in seconds.
const INTERVAL_SECS: std::ops::RangeInclusive<u64> = 5..=30;
const TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 10..=600;
/// The server's `timeout` when none is sent.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a connection may outlast the server's `timeout` before this side
/// gives up on it: the server sends `timeout` and closes in time.
const CONNECTION_SLACK: Duration = Duration::from_secs(30);
/// The shortest and longest reconnection delay a server's `retry:` field
/// can set: `retry: 0` would reconnect as fast as the network allows.
const SERVER_RETRY: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(60);
/// A connection open at least this long counts as healthy (the server's
/// shortest `timeout`), and starts the count of failed connections again.
/// A shorter one counts as failed, whatever it carried: a server that sends
/// one event and closes cannot keep a watch reconnecting forever.
const HEALTHY_CONNECTION: Duration = Duration::from_secs(10);
/// The default of [`WatchOptions::deadline`]: 30 minutes.
pub const DEFAULT_WATCH_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// The default of [`WatchOptions::max_event_size`]: 1 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 1024 * 1024;

/// What to watch for and how to reconnect; see [`Client::watch_cvm_state`].
///
/// ```
/// use std::time::Duration;
/// use phala_cloud::watch::WatchOptions;
///
/// let options = WatchOptions::new("running")
///     .interval(Duration::from_secs(10))
///     .timeout(Duration::from_secs(600))
///     .reconnect_delay(Duration::from_secs(2))
///     .max_reconnects(10)
///     .deadline(Duration::from_secs(15 * 60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct WatchOptions {
    target: String,
    interval: Option<Duration>,
    timeout: Option<Duration>,
    reconnect_delay: Duration,
    max_reconnects: u32,
    deadline: Option<Duration>,
    max_event_size: usize,
}

impl WatchOptions {
    /// Watch until the CVM's status is `target` (`running`, `stopped`, …).
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            interval: None,
            timeout: None,
            reconnect_delay: Duration::from_secs(5),
            max_reconnects: 5,
            deadline: None,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
        }
    }

    /// How often the server checks the CVM: whole seconds, 5–30 (the
    /// server's default is 5).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// How long the server keeps one connection before it sends `timeout`:
    /// whole seconds, 10–600 (the server's default is 300). The watch then
    /// reconnects; bound the whole wait with [`Client::wait_for_cvm_state`]'s
    /// deadline or by dropping the stream.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The wait before reconnecting (default 5 s). A server's `retry:` field
    /// replaces it, held between 1 s and 60 s.
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.reconnect_delay = delay;
        self
    }

    /// How many failed connections in a row are followed by another attempt
    /// (default 5): a connection that could not be opened (a dropped
    /// connection, a transient error status), and one that closed — dropped,
    /// ended without `complete`, or after a `timeout` event — less than 10 s
    /// after it opened, whatever events it carried. A connection that stayed
    /// open 10 s or more starts the count again. When it is exceeded, the
    /// stream yields the last failure and ends.
    pub fn max_reconnects(mut self, attempts: u32) -> Self {
        self.max_reconnects = attempts;
        self
    }

    /// How long the whole watch may take, reconnections included, counted
    /// from the call to [`Client::watch_cvm_state`] (default
    /// [`DEFAULT_WATCH_DEADLINE`], 30 minutes). Past it the stream yields
    /// [`LimitExceeded::Deadline`] (`is_timeout()`) and ends.
    /// [`Client::wait_for_cvm_state`] uses its own deadline unless this is
    /// set.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The longest line, and the longest data of one event, the watch reads,
    /// in bytes (default [`DEFAULT_MAX_EVENT_SIZE`], 1 MiB; a state event is
    /// under 1 KiB). Past it the stream yields [`LimitExceeded::Size`] and
    /// ends.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// The query string, or why the options are not valid.
    fn query(&self) -> Result<Vec<(&'static str, String)>, Error> {
        if self.target.trim().is_empty() {
            return Err(Error::InvalidRequest("the target status is empty".into()));
        }
        let mut query = vec![("target", self.target.clone())];
        for (name, value, range) in [
            ("interval", self.interval, INTERVAL_SECS),
            ("timeout", self.timeout, TIMEOUT_SECS),
        ] {
            if let Some(value) = value {
                if value.subsec_nanos() != 0 || !range.contains(&value.as_secs()) {
                    return Err(Error::InvalidRequest(format!(
                        "{name} must be whole seconds from {} to {}, not {value:?}",
                        range.start(),
                        range.end()
                    )));
                }
                query.push((name, value.as_secs().to_string()));
            }
        }
        Ok(query)
    }
}

impl From<&str> for WatchOptions {
    fn from(target: &str) -> Self {
        Self::new(target)
    }
}

impl From<String> for WatchOptions {
    fn from(target: String) -> Self {
        Self::new(target)
    }
}

/// One event of a CVM state stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CvmStateEvent {
    /// The CVM's current state (`event: state`).
    State(Box<CvmState>),
    /// The target was reached (`event: complete`); the stream ends.
    Complete(WatchComplete),
    /// The server's `timeout` passed for this connection (`event: timeout`);
    /// the stream reconnects.
    Timeout(WatchTimeout),
    /// The server reported a problem (`event: error`); the stream goes on.
    Error(WatchError),
    /// An event this version of the client does not know.
    Other {
        /// The event name.
        event: String,
        /// Its data.
        data: String,
    },
}

/// The payload of `event: complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WatchComplete {
    /// The status reached.
    pub status: crate::types::CvmLifecycleStatus,
    /// Seconds since the connection opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<f64>,
    /// The target asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Fields this version of the client does not know, kept as the server
    /// sent them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The payload of `event: timeout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WatchTimeout {
    /// The server's explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Seconds since the connection opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<f64>,
    /// The target asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Fields this version of the client does not know, kept as the server
    /// sent them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The payload of `event: error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WatchError {
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// More about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Seconds since the connection opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<f64>,
    /// Fields this version of the client does not know, kept as the server
    /// sent them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Client {
    /// Streams a CVM's state until it reaches `options`' target
    /// (`GET /api/v1/cvms/{cvm_id}/state` as Server-Sent Events).
    ///
    /// *Hand-written:* the endpoint is an event stream, which the spec cannot describe.
    ///
    /// The stream yields each event, and ends after
    /// [`CvmStateEvent::Complete`]. It reconnects, sending the last event id
    /// as `Last-Event-ID`, after a server `timeout` event or a failed
    /// connection (see [`WatchOptions::max_reconnects`]). Every `Err` is the
    /// last item: invalid options (checked before anything is sent), an
    /// error status that trying again will not change (404, 401, …), an
    /// event that does not decode or is too large
    /// ([`WatchOptions::max_event_size`]), too many failed connections in a
    /// row, or the watch's [`deadline`](WatchOptions::deadline).
    ///
    /// The requests carry the client's headers (`X-Phala-Version` among
    /// them) and its retry policy applies to opening each connection.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use phala_cloud::watch::{CvmStateEvent, WatchOptions};
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let events = client.watch_cvm_state("cvm_ykL5lbAn", WatchOptions::new("running"));
    /// let mut events = std::pin::pin!(events);
    /// while let Some(event) = events.next().await {
    ///     match event? {
    ///         CvmStateEvent::State(state) => println!("now {}", state.status),
    ///         CvmStateEvent::Complete(done) => println!("{} after {:?} s", done.status, done.elapsed),
    ///         other => println!("{other:?}"),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn watch_cvm_state<V>(
        &self,
        cvm_id: V,
        options: WatchOptions,
    ) -> impl Stream<Item = Result<CvmStateEvent, Error>> + Send + 'static
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        let deadline = options.deadline.unwrap_or(DEFAULT_WATCH_DEADLINE);
        let watch = Watch {
            client: self.clone(),
            cvm_id: crate::ids::param("cvm_id", cvm_id),
            delay: options.reconnect_delay,
            parser: SseParser::new(options.max_event_size),
            options,
            deadline: (Instant::now().checked_add(deadline), deadline),
            body: None,
            connected_at: None,
            pending: VecDeque::new(),
            failures: 0,
            ending: None,
            connected_before: false,
            finished: false,
        };
        futures::stream::unfold(watch, |mut watch| async move {
            let item = watch.next_item().await?;
            Some((item, watch))
        })
    }

    /// Waits until a CVM reaches a status, or until `deadline`: the CVM's
    /// last state once the target is reached, `None` when the deadline
    /// passed first. Takes a target (`"running"`) or [`WatchOptions`] (whose
    /// own [`deadline`](WatchOptions::deadline), when set, can end the wait
    /// earlier, as an error); see [`Client::watch_cvm_state`] for the errors.
    ///
    /// *Hand-written:* built on the event stream of [`Client::watch_cvm_state`].
    ///
    /// A state with a boot error, or a status the CVM does not leave by
    /// itself (`deleting`, a failed creation, `exited` while `running` is
    /// waited for; see [`CvmFailure`]), ends the wait
    /// at once with [`Error::CvmFailed`], which carries that state: `None`
    /// means only that the deadline passed.
    ///
    /// ```no_run
    /// use std::time::{Duration, Instant};
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let deadline = Instant::now() + Duration::from_secs(15 * 60);
    /// match client.wait_for_cvm_state("cvm_ykL5lbAn", "running", deadline).await? {
    ///     Some(state) => println!("{} is {}", state.name.unwrap_or_default(), state.status),
    ///     None => println!("not running after 15 minutes"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_cvm_state<V>(
        &self,
        cvm_id: V,
        options: impl Into<WatchOptions>,
        deadline: Instant,
    ) -> Result<Option<CvmState>, Error>
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        let cvm_id = crate::ids::param("cvm_id", cvm_id).map_err(Error::InvalidRequest)?;
        let mut options = options.into();
        // `deadline` bounds the watch, and ends it as `None`, not an error.
        options.deadline.get_or_insert(Duration::MAX);
        let target = options.target.clone();
        let wait = async {
            let mut events = std::pin::pin!(self.watch_cvm_state(cvm_id.clone(), options));
            let mut last = None;
            loop {
                match events.next().await {
                    Some(Ok(CvmStateEvent::State(state))) => {
                        if let Some(failure) = CvmFailure::of(&state, &target) {
                            return Err(failure.into());
                        }
                        last = Some(*state)
                    }
                    Some(Ok(CvmStateEvent::Complete(done))) => {
                        return match last {
                            Some(state) if state.status == done.status => Ok(state),
                            // The target was reached after the last state
                            // seen: the state it is in is the current one.
                            _ => Ok(self
                                .get_cvm_state()
                                .cvm_id(cvm_id)
                                .send()
                                .await?
                                .into_inner()),
                        };
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => return Err(ended_early()),
                }
            }
        };
        match tokio::time::timeout_at(deadline.into(), wait).await {
            Ok(result) => result.map(Some),
            Err(_elapsed) => Ok(None),
        }
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The state of one watch, across its connections.
struct Watch {
    client: Client,
    /// The CVM, or why the caller's value is not one (reported before any
    /// request).
    cvm_id: Result<CvmRef, String>,
    options: WatchOptions,
    delay: Duration,
    parser: SseParser,
    /// When the watch ends (none: too far to represent, or left to
    /// [`Client::wait_for_cvm_state`]'s deadline), and after how long.
    deadline: (Option<Instant>, Duration),
    /// The open connection's body, if any.
    body: Option<Body>,
    /// When the open connection opened.
    connected_at: Option<Instant>,
    /// Events parsed and not yet yielded.
    pending: VecDeque<SseEvent>,
    /// Failed connections since the last healthy one.
    failures: u32,
    /// The error to end with once the pending events are out.
    ending: Option<Error>,
    connected_before: bool,
    finished: bool,
}

impl Watch {
    /// The next item, or the deadline's error once it passes.
    async fn next_item(&mut self) -> Option<Result<CvmStateEvent, Error>> {
        if self.finished {
            return None;
        }
        let (Some(at), after) = self.deadline else {
            return self.next_event().await;
        };
        match tokio::time::timeout_at(at.into(), self.next_event()).await {
            Ok(item) => item,
            Err(_elapsed) => {
                self.finished = true;
                let limit = LimitExceeded::deadline(
                    "the watch's deadline",
                    after,
                    "WatchOptions::deadline",
                );
                Some(Err(limit.into()))
            }
        }
    }

    async fn next_event(&mut self) -> Option<Result<CvmStateEvent, Error>> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some(self.interpret(event).await);
            }
            if let Some(error) = self.ending.take() {
                self.finished = true;
                return Some(Err(error));
            }
            let Some(body) = self.body.as_mut() else {
                if let Err(e) = self.connect().await {
                    let reconnect = e.is_transport() || e.is_retryable();
                    if let Some(e) = self.failed(e, reconnect) {
                        self.finished = true;
                        return Some(Err(e));
                    }
                }
                continue;
            };
            match body.next().await {
                Some(Ok(chunk)) => {
                    let fed = self.parser.feed(&chunk, &mut self.pending);
                    if let Some(retry) = self.parser.take_retry() {
                        self.delay = retry.clamp(*SERVER_RETRY.start(), *SERVER_RETRY.end());
                    }
                    if let Err(too_large) = fed {
                        // The events before it still come out, then this.
                        self.body = None;
                        self.ending = Some(too_large_error(too_large));
                    }
                }
                Some(Err(e)) => self.ending = self.closed(Error::from_reqwest(e)),
                None => self.ending = self.closed(ended_early()),
            }
        }
    }

    /// Counts the open connection's end: a healthy one starts the count of
    /// failures again, a short one is a failure. `None` to reconnect, or
    /// the error to end the stream with.
    fn closed(&mut self, error: Error) -> Option<Error> {
        self.body = None;
        self.pending.clear();
        let healthy = self
            .connected_at
            .take()
            .is_some_and(|at| at.elapsed() >= HEALTHY_CONNECTION);
        if healthy {
            self.failures = 0;
            return None;
        }
        self.failed(error, true)
    }

    /// Counts a failed connection: `None` to try again, or the error to end
    /// the stream with.
    fn failed(&mut self, error: Error, reconnect: bool) -> Option<Error> {
        tracing::debug!(%error, failures = self.failures, reconnect, "state stream interrupted");
        if reconnect && self.failures < self.options.max_reconnects {
            self.failures += 1;
            None
        } else {
            Some(error)
        }
    }

    async fn interpret(&mut self, event: SseEvent) -> Result<CvmStateEvent, Error> {
        let decoded = match event.event.as_str() {
            "state" => crate::transport::send::decode_json(event.data)
                .await
                .map(|state| CvmStateEvent::State(Box::new(state))),
            "complete" => crate::transport::send::decode_json(event.data)
                .await
                .map(CvmStateEvent::Complete),
            "timeout" => crate::transport::send::decode_json(event.data)
                .await
                .map(CvmStateEvent::Timeout),
            "error" => crate::transport::send::decode_json(event.data)
                .await
                .map(CvmStateEvent::Error),
            _ => Ok(CvmStateEvent::Other {
                event: event.event,
                data: event.data,
            }),
        };
        match &decoded {
            Ok(CvmStateEvent::Complete(_)) | Err(_) => self.finished = true,
            Ok(CvmStateEvent::Timeout(_)) => {
                let short = LimitExceeded::count(
                    "connections in a row that closed within 10 s",
                    self.options.max_reconnects.into(),
                    "WatchOptions::max_reconnects",
                );
                // The event comes out; an error, if any, after it.
                self.ending = self.closed(short.into());
            }
            Ok(_) => {}
        }
        decoded
    }

    /// Opens a connection, after the reconnection delay unless it is the
    /// first.
    async fn connect(&mut self) -> Result<(), Error> {
        let query = self.options.query()?;
        let cvm_id = self.cvm_id.clone().map_err(Error::InvalidRequest)?;
        if self.connected_before {
            tokio::time::sleep(self.delay).await;
        }
        self.connected_before = true;
        let path = format!(
            "/api/v1/cvms/{}/state",
            progenitor_client::encode_path(cvm_id.as_ref())
        );
        let mut request = self
            .client
            .http_request(Method::GET, &path)
            .query(&query)
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache")
            .timeout(self.options.timeout.unwrap_or(DEFAULT_TIMEOUT) + CONNECTION_SLACK);
        // An id that cannot be a header value (control characters) is not
        // sent: the server then starts over, which only repeats events.
        let last_id = HeaderValue::from_str(self.parser.last_event_id());
        if let Some(value) = last_id.ok().filter(|v| !v.is_empty()) {
            request = request.header("last-event-id", value);
        }
        let opened = Instant::now();
        let response = self
            .client
            .send_checked(
                build(request)?,
                crate::generated::hand_written::WATCH_CVM_STATE.name,
                BodyLimit::Stream,
            )
            .await?;
        let content_type = response.headers().get(CONTENT_TYPE);
        if !content_type.is_some_and(is_event_stream) {
            return Err(not_an_event_stream(content_type));
        }
        self.parser.reconnected();
        self.pending.clear();
        self.connected_at = Some(opened);
        self.body = Some(Box::pin(response.bytes_stream()));
        Ok(())
    }
}

/// The error for a line or event past [`WatchOptions::max_event_size`].
fn too_large_error(too_large: TooLarge) -> Error {
    let what = match too_large.what {
        "line" => "a line of the state stream",
        _ => "an event of the state stream",
    };
    LimitExceeded::size(what, too_large.limit as u64, "WatchOptions::max_event_size").into()
}

fn is_event_stream(value: &HeaderValue) -> bool {
    value.to_str().is_ok_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/event-stream"))
    })
}

fn not_an_event_stream(content_type: Option<&HeaderValue>) -> Error {
    decode_error(format!(
        "expected an event stream (text/event-stream), got {}",
        content_type
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
    ))
}

/// The error for a stream that ended before `complete` or `timeout`.
fn ended_early() -> Error {
    decode_error("the state stream ended before a `complete` or `timeout` event".into())
}

fn decode_error(message: String) -> Error {
    Error::Decode(Box::new(DecodeError {
        path: ".".into(),
        message,
        excerpt: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_against_the_servers_bounds() {
        let query = WatchOptions::new("running")
            .interval(Duration::from_secs(5))
            .timeout(Duration::from_secs(600))
            .query()
            .unwrap();
        assert_eq!(
            query,
            [
                ("target", "running".to_string()),
                ("interval", "5".into()),
                ("timeout", "600".into())
            ]
        );
        for (options, message) in [
            (
                WatchOptions::new("running").interval(Duration::from_secs(31)),
                "interval must be whole seconds from 5 to 30, not 31s",
            ),
            (
                WatchOptions::new("running").timeout(Duration::from_secs(9)),
                "timeout must be whole seconds from 10 to 600, not 9s",
            ),
            (
                WatchOptions::new("running").interval(Duration::from_millis(5500)),
                "interval must be whole seconds from 5 to 30, not 5.5s",
            ),
            (WatchOptions::new(" "), "the target status is empty"),
        ] {
            let err = options.query().unwrap_err();
            assert_eq!(err.to_string(), format!("invalid request: {message}"));
        }
    }

    #[test]
    fn the_media_type_decides_not_its_parameters() {
        for (value, ok) in [
            ("text/event-stream", true),
            ("Text/Event-Stream; charset=utf-8", true),
            ("application/json", false),
        ] {
            assert_eq!(is_event_stream(&HeaderValue::from_static(value)), ok);
        }
    }
}
