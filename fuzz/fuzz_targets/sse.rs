//! The Server-Sent Events parser on arbitrary bytes cut at arbitrary
//! places: it never panics, never holds more than its limit, and gives the
//! same events, id and error however the stream is cut.
//!
//! The first byte picks the limit, the next ones where the stream is cut.

#![no_main]

#[allow(dead_code)]
#[path = "../../src/sse.rs"]
mod sse;

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use sse::{SseEvent, SseParser, TooLarge};

/// The events, the last event id and the error of `chunks` fed in order.
fn parse<'a>(
    chunks: impl Iterator<Item = &'a [u8]>,
    max: usize,
) -> (Vec<SseEvent>, String, Option<TooLarge>) {
    let mut parser = SseParser::new(max);
    let mut out = VecDeque::new();
    let mut error = None;
    for chunk in chunks {
        if let Err(e) = parser.feed(chunk, &mut out) {
            error = Some(e);
            break;
        }
    }
    (out.into(), parser.last_event_id().to_string(), error)
}

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let max = 1 + usize::from(limit) * 4;
    let (cuts, stream) = rest.split_at(rest.len().min(4));
    let whole = parse(std::iter::once(stream), max);
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| usize::from(c) % (stream.len() + 1)).collect();
    bounds.extend([0, stream.len()]);
    bounds.sort_unstable();
    let pieces = bounds.windows(2).map(|w| &stream[w[0]..w[1]]);
    let cut = parse(pieces, max);
    assert_eq!(whole, cut, "the same stream, cut at {bounds:?}");
    for event in &whole.0 {
        assert!(event.data.len() <= max && event.event.len() <= max);
    }
    assert!(whole.1.len() <= max);
});
