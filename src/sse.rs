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

use std::collections::VecDeque;
use std::time::Duration;

const BOM: &[u8] = "\u{feff}".as_bytes();

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
    pub(crate) fn new() -> Self {
        Self {
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

    /// Parses `chunk`, appending the events it completes to `out`.
    pub(crate) fn feed(&mut self, mut chunk: &[u8], out: &mut VecDeque<SseEvent>) {
        if chunk.is_empty() {
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&chunk[..end]);
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
            self.process_line(&line, out);
        }
        self.line.extend_from_slice(chunk);
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut VecDeque<SseEvent>) {
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch(out);
        }
        if line.starts_with(b":") {
            return;
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

    fn parse_chunks(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseParser) {
        let mut parser = SseParser::new();
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
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
        let mut parser = SseParser::new();
        let mut out = VecDeque::new();
        parser.feed(b"id: 4\ndata: done\n\nevent: state\ndata: half", &mut out);
        parser.reconnected();
        parser.feed(b"\xef\xbb\xbfdata: fresh\n\n", &mut out);
        assert_eq!(
            Vec::from(out),
            vec![ev("message", "done"), ev("message", "fresh")]
        );
        assert_eq!(parser.last_event_id(), "4");
    }
}
