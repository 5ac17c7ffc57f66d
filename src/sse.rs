//! A Server-Sent Events parser that follows the WHATWG HTML "event stream
//! interpretation" rules to the letter: any of CRLF, LF or CR ends a line
//! (also when a chunk boundary falls between CR and LF), a leading BOM is
//! dropped, `:` lines are comments, `data:` lines accumulate with `\n`, one
//! space after the colon is removed, `id:` persists across events (unless it
//! contains NUL), `retry:` takes only ASCII digits, and an event is
//! dispatched by a blank line — never by the end of the stream.
//!
//! It works on bytes and decodes complete lines, so a chunk boundary inside a
//! multi-byte UTF-8 character loses nothing.
//!
//! What it holds is bounded: a line, and an event's data, longer than its
//! limit is an error, not a buffer that grows with whatever the server
//! sends. The module depends on nothing else in the crate, so that the fuzz
//! target can build it alone.

use std::collections::VecDeque;
use std::time::Duration;

const BOM: &[u8] = "\u{feff}".as_bytes();

/// A line or an event's data longer than the parser's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge {
    /// `"line"` or `"event"`.
    pub what: &'static str,
    /// The limit, in bytes.
    pub limit: usize,
}

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, `message` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental parser state for one event source (across reconnections).
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// The longest line, and the longest data of one event, in bytes.
    max: usize,
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting this one belongs to it.
    after_cr: bool,
    /// Still at the start of the stream, where a BOM may be.
    at_start: bool,
    event_type: String,
    data: String,
    id_buffer: String,
    last_event_id: String,
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser holding at most `max` bytes of a line, and of an event's data.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            at_start: true,
            ..Self::default()
        }
    }

    /// Forgets a half-received event and line: a new connection starts a new
    /// stream. The last event id and reconnection time stay.
    pub(crate) fn reconnected(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.at_start = true;
        self.event_type.clear();
        self.data.clear();
        // The id stays until the server sets another, also across connections.
        self.id_buffer.clone_from(&self.last_event_id);
    }

    /// The id to send as `Last-Event-ID`; empty for none.
    pub(crate) fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time a `retry:` field set since the last call.
    pub(crate) fn take_retry(&mut self) -> Option<Duration> {
        self.retry.take()
    }

    /// Parses `chunk`, appending the events it completes to `out`. After an
    /// error the stream is not usable: the events before it are in `out`.
    pub(crate) fn feed(
        &mut self,
        mut chunk: &[u8],
        out: &mut VecDeque<SseEvent>,
    ) -> Result<(), TooLarge> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&chunk[..end])?;
            let ending = &chunk[end..];
            chunk = match ending {
                [b'\r', b'\n', ..] => &ending[2..],
                [b'\r'] => {
                    self.after_cr = true;
                    &ending[1..]
                }
                _ => &ending[1..],
            };
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
        }
        self.extend_line(chunk)
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), TooLarge> {
        if self.line.len().saturating_add(bytes.len()) > self.max {
            return Err(self.too_large("line"));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn too_large(&self, what: &'static str) -> TooLarge {
        TooLarge {
            what,
            limit: self.max,
        }
    }

    fn process_line(
        &mut self,
        mut line: &[u8],
        out: &mut VecDeque<SseEvent>,
    ) -> Result<(), TooLarge> {
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.starts_with(b":") {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event_type = value.into_owned(),
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max {
                    return Err(self.too_large("event"));
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"id" if !value.contains('\0') => self.id_buffer = value.into_owned(),
            b"retry" if value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(millis) = value.parse() {
                    self.retry = Some(Duration::from_millis(millis));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut VecDeque<SseEvent>) {
        self.last_event_id.clone_from(&self.id_buffer);
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        out.push_back(SseEvent {
            event: if event_type.is_empty() {
                "message".to_string()
            } else {
                event_type
            },
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    const MAX: usize = 1 << 20;

    fn parse_chunks(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseParser) {
        let mut parser = SseParser::new(MAX);
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out).unwrap();
        }
        (out.into(), parser)
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    const STREAM: &str =
        "\u{feff}: comment\r\nevent: state\r\ndata: {\"a\":\r\ndata:  1}\r\nid: 7\r\n\r\n\
                          retry: 250\nevent:complete\ndata:é\rdata\r\r\
                          data: tail without blank line";

    #[test]
    fn the_spec_rules_hold_at_every_chunk_boundary() {
        let bytes = STREAM.as_bytes();
        let expected = vec![ev("state", "{\"a\":\n 1}"), ev("complete", "é\n")];
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let (events, parser) = parse_chunks(&[&bytes[..i], &bytes[i..j], &bytes[j..]]);
                assert_eq!(events, expected, "split at {i} and {j}");
                assert_eq!(parser.last_event_id(), "7");
            }
        }
    }

    #[test]
    fn retry_takes_digits_only() {
        let (_, mut parser) = parse_chunks(&[b"retry: 1500\n"]);
        assert_eq!(parser.take_retry(), Some(Duration::from_millis(1500)));
        assert_eq!(parser.take_retry(), None);
        let (_, mut parser) = parse_chunks(&[b"retry: 15s\nretry: -1\nretry:\n"]);
        assert_eq!(parser.take_retry(), None);
    }

    #[test]
    fn ids_persist_reset_and_reject_nul() {
        let (events, parser) = parse_chunks(&[b"id: 1\ndata: a\n\ndata: b\n\n"]);
        assert_eq!(events.len(), 2);
        assert_eq!(parser.last_event_id(), "1", "an id persists across events");
        let (_, parser) = parse_chunks(&[b"id: 1\n\nid\n\n"]);
        assert_eq!(parser.last_event_id(), "", "a bare `id` resets it");
        let (_, parser) = parse_chunks(&[b"id: 1\n\nid: a\0b\n\n"]);
        assert_eq!(parser.last_event_id(), "1");
        let (_, parser) = parse_chunks(&[b"id: 1\n\nid: 2\ndata: x\n"]);
        assert_eq!(
            parser.last_event_id(),
            "1",
            "an id counts once its event is dispatched"
        );
    }

    #[test]
    fn empty_data_dispatches_nothing_and_a_reconnection_drops_half_events() {
        let (events, _) = parse_chunks(&[b"event: state\n\ndata\n\n"]);
        assert_eq!(
            events,
            vec![ev("message", "")],
            "the event type does not leak into the next event"
        );
        let mut parser = SseParser::new(MAX);
        let mut out = VecDeque::new();
        parser
            .feed(b"id: 4\ndata: done\n\nevent: state\ndata: half", &mut out)
            .unwrap();
        parser.reconnected();
        parser
            .feed(b"\xef\xbb\xbfdata: fresh\n\n", &mut out)
            .unwrap();
        assert_eq!(
            Vec::from(out),
            vec![ev("message", "done"), ev("message", "fresh")]
        );
        assert_eq!(parser.last_event_id(), "4");
    }

    #[test]
    fn an_endless_line_or_event_stops_at_the_limit() {
        let mut parser = SseParser::new(16);
        let mut out = VecDeque::new();
        let endless = parser.feed(&[b'x'; 17], &mut out);
        assert_eq!(
            endless,
            Err(TooLarge {
                what: "line",
                limit: 16
            })
        );
        let mut parser = SseParser::new(16);
        let mut grown = Ok(());
        for _ in 0..100 {
            grown = parser.feed(b"data: x\n", &mut out);
            if grown.is_err() {
                break;
            }
        }
        assert_eq!(
            grown,
            Err(TooLarge {
                what: "event",
                limit: 16
            })
        );
        assert!(parser.data.len() <= 16 && out.is_empty());
    }

    /// What a stream gives when parsed by the spec's algorithm over the
    /// whole input at once: the events, the last event id, the last
    /// `retry:`, and the limit hit, if one was.
    #[derive(Debug, PartialEq)]
    struct Outcome {
        events: Vec<SseEvent>,
        last_event_id: String,
        retry: Option<Duration>,
        error: Option<TooLarge>,
    }

    /// The reference: split into lines first, then interpret each one, as
    /// the spec describes it, with none of the incremental parser's state.
    fn reference(input: &[u8], max: usize) -> Outcome {
        let mut lines = Vec::new();
        let mut rest = input;
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            lines.push(&rest[..end]);
            let skip = if rest[end..].starts_with(b"\r\n") {
                2
            } else {
                1
            };
            rest = &rest[end + skip..];
        }
        let mut out = Outcome {
            events: Vec::new(),
            last_event_id: String::new(),
            retry: None,
            error: None,
        };
        let (mut event, mut data, mut id) = (String::new(), String::new(), String::new());
        for (i, raw) in lines.iter().enumerate() {
            if raw.len() > max {
                out.error = Some(TooLarge {
                    what: "line",
                    limit: max,
                });
                return out;
            }
            let line = if i == 0 {
                raw.strip_prefix(BOM).unwrap_or(raw)
            } else {
                raw
            };
            if line.is_empty() {
                out.last_event_id = id.clone();
                if !data.is_empty() {
                    data.pop();
                    let name = if event.is_empty() {
                        "message".to_string()
                    } else {
                        event.clone()
                    };
                    out.events.push(SseEvent {
                        event: name,
                        data: std::mem::take(&mut data),
                    });
                }
                event.clear();
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let (field, value): (&[u8], &[u8]) = match line.iter().position(|&b| b == b':') {
                Some(c) => (
                    &line[..c],
                    line[c + 1..].strip_prefix(b" ").unwrap_or(&line[c + 1..]),
                ),
                None => (line, b""),
            };
            let value = String::from_utf8_lossy(value).into_owned();
            match field {
                b"event" => event = value,
                b"data" if data.len() + value.len() + 1 > max => {
                    out.error = Some(TooLarge {
                        what: "event",
                        limit: max,
                    });
                    return out;
                }
                b"data" => {
                    data.push_str(&value);
                    data.push('\n');
                }
                b"id" if !value.contains('\0') => id = value,
                b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    if let Ok(ms) = value.parse() {
                        out.retry = Some(Duration::from_millis(ms));
                    }
                }
                _ => {}
            }
        }
        if rest.len() > max {
            out.error = Some(TooLarge {
                what: "line",
                limit: max,
            });
        }
        out
    }

    /// The incremental parser, fed `input` cut at `cuts`.
    fn incremental(input: &[u8], cuts: &[usize], max: usize) -> Outcome {
        let mut parser = SseParser::new(max);
        let mut queue = VecDeque::new();
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        bounds.extend([0, input.len()]);
        bounds.sort_unstable();
        let mut error = None;
        for pair in bounds.windows(2) {
            if let Err(e) = parser.feed(&input[pair[0]..pair[1]], &mut queue) {
                error = Some(e);
                break;
            }
            assert!(parser.line.len() <= max && parser.data.len() <= max);
        }
        Outcome {
            events: queue.into(),
            last_event_id: parser.last_event_id().to_string(),
            retry: parser.take_retry(),
            error,
        }
    }

    /// Streams made mostly of the pieces the rules are about.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            3 => prop::sample::select(vec![
                "data", "data:", "data: ", "data:  x", "event:", "event: state", "event:complete",
                "id:", "id: 7", "id: a\0b", "id", "retry:", "retry: 15", "retry: 1x", ":", ": hi",
                "x", "é", "\u{feff}", "\n", "\r", "\r\n", "\n\n", "\r\r", "{\"a\": 1}",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..4),
        ];
        prop::collection::vec(piece, 0..32).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_chunking_gives_what_the_reference_gives(
            input in stream(),
            cuts in prop::collection::vec(any::<usize>(), 0..48),
            max in prop::sample::select(vec![6usize, 24, MAX]),
        ) {
            prop_assert_eq!(incremental(&input, &cuts, max), reference(&input, max));
        }
    }
}
