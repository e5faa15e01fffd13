//! Serial bytes to frames (`scanners::frame::FrameSplitter` and `classify`), as `scanners::serial`
//! reads them. The input is a byte stream and a chunking: property: cutting the same bytes into
//! other chunks (arriving at the same instant) gives the same frames; no frame is empty, holds a
//! terminator or exceeds the cap.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use scanstation::scanners::frame::{classify, FrameEvent, FrameSplitter};

#[derive(Debug, Arbitrary)]
struct Input {
    cap: u8,
    cuts: Vec<u8>,
    bytes: Vec<u8>,
}

fn split(max_len: usize, chunks: &[&[u8]]) -> Vec<FrameEvent> {
    let mut s = FrameSplitter::new(max_len, Duration::from_millis(500));
    let mut out = Vec::new();
    for c in chunks {
        out.extend(s.push(1_000, c));
    }
    out
}

fuzz_target!(|input: Input| {
    let max_len = usize::from(input.cap) + 1;
    let whole = split(max_len, &[&input.bytes]);
    let mut chunks = Vec::new();
    let mut rest: &[u8] = &input.bytes;
    for &c in &input.cuts {
        let n = usize::from(c).min(rest.len());
        let (head, tail) = rest.split_at(n);
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    let chunked = split(max_len, &chunks);
    assert_eq!(whole, chunked, "chunking changed the frames");
    for ev in &whole {
        if let FrameEvent::Frame(f) = ev {
            assert!(
                !f.is_empty() && f.len() <= max_len,
                "frame of {} bytes",
                f.len()
            );
            assert!(
                !f.contains(&b'\r') && !f.contains(&b'\n'),
                "terminator inside a frame"
            );
            let _ = classify(f);
        }
    }
});
