//! Serial scanner frames: bytes in, frames out. Pure (time is passed in).
//!
//! A frame ends at CR or LF; CRLF gives one frame (the empty one between CR and LF is skipped),
//! so any of the three terminators works whatever the config says. A frame longer than the cap
//! is runaway input: it is dropped up to its terminator. A partial frame left waiting longer than
//! the stale timeout is dropped when the next bytes arrive, so noise on the line cannot glue
//! itself to the next card.

use std::time::Duration;

/// What the splitter gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    /// A frame's bytes, without its terminator; never empty.
    Frame(Vec<u8>),
    /// A frame over the length cap was dropped (`len` bytes seen before the terminator).
    TooLong { len: usize },
    /// A partial frame went stale and was dropped.
    Stale { len: usize },
}

#[derive(Debug, Clone)]
pub struct FrameSplitter {
    max_len: usize,
    stale_us: u64,
    buf: Vec<u8>,
    overflow: usize,
    last_byte_us: Option<u64>,
}

impl FrameSplitter {
    pub fn new(max_len: usize, stale: Duration) -> FrameSplitter {
        FrameSplitter {
            max_len,
            stale_us: u64::try_from(stale.as_micros()).unwrap_or(u64::MAX),
            buf: Vec::new(),
            overflow: 0,
            last_byte_us: None,
        }
    }

    /// Bytes of an unfinished frame.
    pub fn pending(&self) -> usize {
        self.buf.len() + self.overflow
    }

    /// The port closed: forget the partial frame; returns its length if there was one.
    pub fn reset(&mut self) -> Option<usize> {
        let n = self.pending();
        self.buf.clear();
        self.overflow = 0;
        self.last_byte_us = None;
        (n > 0).then_some(n)
    }

    /// Feed bytes read at `now_us` (microseconds, any fixed origin).
    pub fn push(&mut self, now_us: u64, bytes: &[u8]) -> Vec<FrameEvent> {
        let mut out = Vec::new();
        if bytes.is_empty() {
            return out;
        }
        if let Some(last) = self.last_byte_us {
            if now_us.saturating_sub(last) > self.stale_us && self.pending() > 0 {
                out.push(FrameEvent::Stale {
                    len: self.pending(),
                });
                self.buf.clear();
                self.overflow = 0;
            }
        }
        self.last_byte_us = Some(now_us);
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if self.overflow > 0 {
                    out.push(FrameEvent::TooLong {
                        len: self.buf.len() + self.overflow,
                    });
                    self.overflow = 0;
                    self.buf.clear();
                } else if !self.buf.is_empty() {
                    out.push(FrameEvent::Frame(std::mem::take(&mut self.buf)));
                }
            } else if self.overflow > 0 || self.buf.len() >= self.max_len {
                self.overflow += 1;
            } else {
                self.buf.push(b);
            }
        }
        out
    }
}

/// What a frame's bytes are as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameText {
    /// Printable UTF-8 (spaces and tabs allowed; the core trims).
    Text(String),
    /// Has printable content but also NUL, control characters or invalid UTF-8. `text` is the
    /// frame with each bad part replaced by U+FFFD, so it stays visible as an unreadable card
    /// (`invalid_code`) without carrying control bytes into the log or the UI.
    Unreadable { text: String, len: usize },
    /// Nothing printable at all (line noise, a scanner powering up): dropped.
    Noise { len: usize },
}

pub fn classify(frame: &[u8]) -> FrameText {
    let bad = |c: char| c == '\u{FFFD}' || (c.is_control() && c != '\t');
    let lossy = String::from_utf8_lossy(frame);
    let clean = std::str::from_utf8(frame).is_ok() && !lossy.chars().any(bad);
    if clean {
        if lossy.trim().is_empty() {
            return FrameText::Noise { len: frame.len() };
        }
        return FrameText::Text(lossy.into_owned());
    }
    if lossy.chars().all(|c| bad(c) || c.is_whitespace()) {
        return FrameText::Noise { len: frame.len() };
    }
    let text = lossy
        .chars()
        .map(|c| if bad(c) { '\u{FFFD}' } else { c })
        .collect();
    FrameText::Unreadable {
        text,
        len: frame.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<FrameEvent> {
        let mut s = FrameSplitter::new(8, Duration::from_millis(500));
        chunks
            .iter()
            .enumerate()
            .flat_map(|(i, c)| s.push(i as u64 * 1000, c))
            .collect()
    }

    fn f(b: &[u8]) -> FrameEvent {
        FrameEvent::Frame(b.to_vec())
    }

    #[test]
    fn cr_lf_and_crlf_each_end_one_frame() {
        assert_eq!(
            split(&[b"A1\rB2\nC3\r\nD4\r", b"\nE5"]),
            vec![f(b"A1"), f(b"B2"), f(b"C3"), f(b"D4")]
        );
    }

    #[test]
    fn a_frame_split_across_reads_is_joined() {
        assert_eq!(split(&[b"12", b"34", b"5\r"]), vec![f(b"12345")]);
    }

    #[test]
    fn overlong_frames_are_dropped_to_their_terminator() {
        assert_eq!(
            split(&[b"123456789012", b"34\rOK\r"]),
            vec![FrameEvent::TooLong { len: 14 }, f(b"OK")]
        );
        // Exactly at the cap is fine.
        assert_eq!(split(&[b"12345678\r"]), vec![f(b"12345678")]);
    }

    #[test]
    fn stale_partial_frames_do_not_glue_to_the_next_card() {
        let mut s = FrameSplitter::new(64, Duration::from_millis(500));
        assert!(s.push(0, b"\x00\x00garb").is_empty());
        assert_eq!(
            s.push(600_000, b"A7\r"),
            vec![FrameEvent::Stale { len: 6 }, f(b"A7")]
        );
        assert_eq!(s.push(600_100, b"x"), vec![]);
        assert_eq!(s.reset(), Some(1));
        assert_eq!(s.reset(), None);
    }

    #[test]
    fn classify_tells_text_from_garbage() {
        assert_eq!(classify(b"AB-12"), FrameText::Text("AB-12".into()));
        assert_eq!(classify(b" 12\t"), FrameText::Text(" 12\t".into()));
        assert_eq!(classify(b"\x00\x00\x00"), FrameText::Noise { len: 3 });
        assert_eq!(classify(b"\xff\xfe \x1b"), FrameText::Noise { len: 4 });
        assert_eq!(classify(b"   "), FrameText::Noise { len: 3 });
        assert_eq!(
            classify(b"12\x0034"),
            FrameText::Unreadable {
                text: "12\u{FFFD}34".into(),
                len: 5
            }
        );
        assert_eq!(
            classify(b"AB\xc3\x28"),
            FrameText::Unreadable {
                text: "AB\u{FFFD}(".into(),
                len: 4
            }
        );
        assert_eq!(classify("Zoë7".as_bytes()), FrameText::Text("Zoë7".into()));
    }
}
